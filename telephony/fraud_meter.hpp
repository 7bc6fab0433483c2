#pragma once

#include "telephony/fraud_rule.hpp"
#include "telephony/time_profile.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ward::telephony {

/// One outside call as the fraud rules see it (SPEC TF-10).
struct metered_call {
  /// Unique in the cluster: the node's name, "/", the call's id.
  std::string id;
  /// The user who placed it; empty for a call a trunk brought in.
  std::string user;
  std::string rights_template;
  /// The trunk it left through.
  std::string trunk;
  /// The number sent to the carrier.
  std::string number;
};

/// A rule's level reached: what the rule asks done, and for whom.
struct fraud_trip {
  std::string rule;
  fraud_level level = fraud_level::warning;
  fraud_action action = fraud_action::alarm;
  fraud_measure measure = fraud_measure::calls_per_minute;
  std::uint64_t value = 0;
  std::uint32_t limit = 0;
  /// The call that reached it and whose user and trunk the action applies to.
  std::string call;
  std::string user;
  std::string trunk;
  bool operator==(const fraud_trip&) const = default;
};

/// "rule r1 critical: calls_per_minute 5 reached 5 (user alice, trunk carrier)".
std::string describe(const fraud_trip& trip);

/// The counters of every fraud rule (SPEC TF-10), pure of clocks and threads: the caller
/// reports calls as they start and end, ticks it once a second for the measures that grow
/// while a call is up, and carries out the trips it returns. A level trips once, and again
/// only after its measure fell below the limit.
class fraud_meter {
public:
  using time_point = std::chrono::system_clock::time_point;

  /// Replaces the rules and the time profiles they name. A rule whose definition did not
  /// change keeps its counters; a changed or new rule counts from now. A rule naming a
  /// time profile that does not exist counts nothing.
  void configure(std::vector<fraud_rule> rules, std::vector<time_profile> profiles);

  /// A call left through a trunk. A call already known is not counted twice.
  std::vector<fraud_trip> call_started(const metered_call& call, time_point now,
                                       const local_moment& local);
  /// A call ended; unknown ids are ignored.
  std::vector<fraud_trip> call_ended(std::string_view id, time_point now,
                                     const local_moment& local);
  /// Ends now every call whose id starts with `node` and "/" (its node's line went down and
  /// their ends may never come); what ending them reaches is returned.
  std::vector<fraud_trip> end_calls_of(std::string_view node, time_point now,
                                       const local_moment& local);
  /// Call durations and daily minutes of calls still up; drops counters with nothing left
  /// to count.
  std::vector<fraud_trip> tick(time_point now, const local_moment& local);

  std::size_t calls_up() const { return calls_.size(); }
  std::size_t rules() const { return rules_.size(); }
  /// Counters held (a rule's counter per user or trunk), for tests and the status view.
  std::size_t counters() const;

  /// Calls not ended after this long are dropped (their end was lost with a node).
  static constexpr auto longest_call = std::chrono::hours(24);

private:
  struct counter {
    /// Starts within the rule's window (a minute or an hour), oldest first.
    std::deque<time_point> starts;
    /// Calls up: id to when it started.
    std::map<std::string, time_point, std::less<>> up;
    std::uint32_t run = 0;
    time_point last_start{};
    /// Seconds of calls that ended on `day`.
    std::chrono::year_month_day day{};
    std::int64_t day_seconds = 0;
    /// The call that last changed the counter: whose user and trunk a trip names.
    std::string last_call;
    /// The user or trunk the counter is kept for, named by a trip when its call is gone.
    std::string key;
    bool reached[2] = {false, false};
  };
  struct rule_state {
    fraud_rule rule;
    std::optional<time_profile> profile;
    bool profile_missing = false;
    std::unordered_map<std::string, counter> counters;
  };
  struct call_state {
    metered_call call;
    time_point started{};
    /// (rule name, counter key) of every counter the call is up in.
    std::vector<std::pair<std::string, std::string>> counted;
  };

  bool applies(const rule_state& state, const metered_call& call, const local_moment& local) const;
  static std::uint64_t measure(fraud_measure what, counter& entry, time_point now,
                               std::chrono::year_month_day today);
  void evaluate(const rule_state& state, counter& entry, time_point now,
                std::chrono::year_month_day today, std::vector<fraud_trip>& trips) const;

  std::map<std::string, rule_state, std::less<>> rules_;
  std::unordered_map<std::string, call_state> calls_;
};

} // namespace ward::telephony
