#pragma once

#include <concepts>
#include <functional>
#include <tuple>
#include <type_traits>

namespace ward::security {

/// Makes a change to in-memory state and persists it, or leaves the state as it was: the
/// values `state` refers to (`std::tie(a, b)`) are copied, `change` runs, then `persist`;
/// if either fails, every value is put back and that failure returned. Memory thus never
/// holds a change the store does not (DESIGN §2: persisted before it is acknowledged).
///
/// `change` and `persist` take no arguments and return the same `std::optional<Error>`,
/// nullopt meaning success; `persist` does not run when `change` failed. What the caller
/// does after a failure (replies, audit, reloading listeners) stays with the caller.
template <class... T, class Change, class Persist>
requires std::same_as<std::invoke_result_t<Change&>, std::invoke_result_t<Persist&>>
    std::invoke_result_t<Persist&> commit_or_roll_back(std::tuple<T&...> state, Change&& change,
                                                       Persist&& persist) {
  std::tuple<T...> saved{state};
  auto failed = std::invoke(change);
  if (!failed)
    failed = std::invoke(persist);
  if (failed)
    state = std::move(saved);
  return failed;
}

} // namespace ward::security
