#include "security/lockout.hpp"

#include "core/enum_names.hpp"

#include <algorithm>

namespace ward::security {

constexpr auto reject_action_names =
    name_table(enum_name{reject_action::log_only, "log_only"},
               enum_name{reject_action::log_and_temporary_disable, "log_and_temporary_disable"},
               enum_name{reject_action::log_and_disable_account, "log_and_disable_account"});

std::string_view to_string(reject_action action) {
  return name_of(reject_action_names, action, "log_only");
}

std::optional<reject_action> parse_reject_action(std::string_view text) {
  return parse_name(reject_action_names, text);
}

lockout_event record_failure(lock_state& state, const lockout_rule& rule, time_point now) {
  std::erase_if(state.recent_failures,
                [&](time_point failure) { return failure <= now - rule.window; });
  state.recent_failures.push_back(now);
  if (rule.limit == 0 || state.recent_failures.size() < rule.limit)
    return lockout_event::none;
  switch (rule.action) {
    case reject_action::log_only:
      return lockout_event::none;
    case reject_action::log_and_temporary_disable:
      state.locked_until = now + rule.temporary_lock;
      state.recent_failures.clear();
      return lockout_event::locked_temporarily;
    case reject_action::log_and_disable_account:
      state.locked_permanently = true;
      state.recent_failures.clear();
      return lockout_event::locked_permanently;
  }
  return lockout_event::none;
}

void record_success(lock_state& state) {
  state.recent_failures.clear();
}

bool is_locked(const lock_state& state, time_point now) {
  return state.locked_permanently || (state.locked_until && now < *state.locked_until);
}

void unlock(lock_state& state) {
  state = lock_state{};
}

} // namespace ward::security
