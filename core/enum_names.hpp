#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>

namespace ward {

/// One row of an enum's name table: a value and the exact text it is written as. The texts
/// reach logs, the wire and the databases, so a row's name never changes once shipped.
template <class Enum> struct enum_name {
  Enum value;
  std::string_view name;
};

namespace detail {

/// Whether `Value` is a named enumerator of its enum. C++23 cannot list an enum's values,
/// but GCC and Clang spell a template argument that is an enumerator by its name
/// ("Value = ward::pki::errc::expired") and any other value as a cast
/// ("Value = (ward::pki::errc)12"): enough to tell whether a table misses a value.
template <auto Value> consteval bool names_an_enumerator() {
  const std::string_view signature = __PRETTY_FUNCTION__;
  const std::string_view marker = "Value = ";
  const auto at = signature.find(marker);
  return at != std::string_view::npos && at + marker.size() < signature.size() &&
         signature[at + marker.size()] != '(';
}

} // namespace detail

/// The name table of a scoped enum whose values are 0, 1, 2... in declaration order:
///
///     constexpr auto level_names =
///         name_table(enum_name{level::low, "low"}, enum_name{level::high, "high"});
///
/// The table takes the place of a `switch` from value to name, and keeps what the switch's
/// -Wswitch warning gave: the build fails unless there is exactly one row per value, in
/// declaration order, and no two rows share a name (which would make parsing ambiguous).
/// Rows are arguments rather than a nested braced list so that clang-format packs several
/// on a line.
template <class Enum, class... More>
requires std::is_scoped_enum_v<Enum> &&
    (std::same_as<More, enum_name<Enum>>&&...) consteval std::array<
        enum_name<Enum>, 1 + sizeof...(More)> name_table(enum_name<Enum> first, More... more) {
  constexpr std::size_t size = 1 + sizeof...(More);
  static_assert(detail::names_an_enumerator<static_cast<Enum>(0)>(),
                "the enum does not start at 0, or this compiler cannot tell enumerators apart");
  static_assert(!detail::names_an_enumerator<static_cast<Enum>(size)>(),
                "the enum has more values than the table has rows");
  const std::array<enum_name<Enum>, size> rows{first, more...};
  // A throw cannot be evaluated at compile time: a bad table stops the build here.
  for (std::size_t i = 0; i < size; ++i) {
    if (rows[i].value != static_cast<Enum>(i))
      throw "rows must list the values once each, in declaration order";
    for (std::size_t j = 0; j < i; ++j)
      if (rows[j].name == rows[i].name)
        throw "two values share a name";
  }
  return rows;
}

/// `value`'s name, or `fallback` for a value outside the enum (only a cast makes one).
/// Each enum keeps the fallback its switch returned, as some callers compare against it.
template <class Enum, std::size_t N>
constexpr std::string_view name_of(const std::array<enum_name<Enum>, N>& table, Enum value,
                                   std::string_view fallback = "unknown") {
  // name_table put every value at its own index.
  const auto index = static_cast<std::size_t>(value);
  return index < N ? table[index].name : fallback;
}

/// The value whose name is exactly `text`, or nothing.
template <class Enum, std::size_t N>
constexpr std::optional<Enum> parse_name(const std::array<enum_name<Enum>, N>& table,
                                         std::string_view text) {
  for (const auto& row : table)
    if (row.name == text)
      return row.value;
  return std::nullopt;
}

/// The value whose name `equal(text, name)` accepts, for names read with looser rules
/// (SIP tokens are case-insensitive).
template <class Enum, std::size_t N, class Equal>
constexpr std::optional<Enum> parse_name(const std::array<enum_name<Enum>, N>& table,
                                         std::string_view text, Equal equal) {
  for (const auto& row : table)
    if (equal(text, row.name))
      return row.value;
  return std::nullopt;
}

} // namespace ward
