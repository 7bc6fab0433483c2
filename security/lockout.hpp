#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace ward::security {

using time_point = std::chrono::system_clock::time_point;

/// What happens when the reject limit is reached (SPEC POL-1).
enum class reject_action : std::uint8_t {
  /// Failures are logged; the account stays usable.
  log_only,
  /// Logged, and the account is locked for the temporary lock duration.
  log_and_temporary_disable,
  /// Logged, and the account is locked until an administrator unlocks it.
  log_and_disable_account,
};

std::string_view to_string(reject_action action);
std::optional<reject_action> parse_reject_action(std::string_view text);

/// When failures lock an account.
struct lockout_rule {
  /// Failures within `window` that trigger `action`; 0 disables counting.
  std::uint32_t limit = 3;
  std::chrono::seconds window{600};
  reject_action action = reject_action::log_and_temporary_disable;
  std::chrono::seconds temporary_lock{60};
};

/// Failure history and lock of one account or source address.
struct lock_state {
  std::vector<time_point> recent_failures;
  std::optional<time_point> locked_until;
  bool locked_permanently = false;
  bool operator==(const lock_state&) const = default;
};

/// What one failure did to the lock.
enum class lockout_event : std::uint8_t { none, locked_temporarily, locked_permanently };

/// Counts a failure at `now`, forgetting failures older than the window, and applies the
/// rule's action when the limit is reached.
lockout_event record_failure(lock_state& state, const lockout_rule& rule, time_point now);

/// A successful login clears the failure history (not a permanent lock: only an
/// administrator clears that).
void record_success(lock_state& state);

/// True while a temporary lock runs or a permanent lock holds.
bool is_locked(const lock_state& state, time_point now);

/// An administrator's unlock: clears locks and history.
void unlock(lock_state& state);

} // namespace ward::security
