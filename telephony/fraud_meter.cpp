#include "telephony/fraud_meter.hpp"

#include <algorithm>

namespace ward::telephony {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

constexpr auto window_hour = std::chrono::hours(1);
constexpr auto window_minute = std::chrono::minutes(1);

std::int64_t seconds_between(std::chrono::system_clock::time_point from,
                             std::chrono::system_clock::time_point to) {
  return to > from ? duration_cast<seconds>(to - from).count() : 0;
}

/// How far back a measure counts starts; zero for measures that keep none.
std::chrono::system_clock::duration start_window(fraud_measure measure) {
  switch (measure) {
    case fraud_measure::calls_per_minute:
      return window_minute;
    case fraud_measure::calls_per_hour:
      return window_hour;
    default:
      return {};
  }
}

/// The counter a call is counted in: the trunk's for a trunk rule, else the user's.
std::string counter_key(const fraud_rule& rule, const metered_call& call) {
  return rule.scope == fraud_scope::trunk ? call.trunk : call.user;
}

} // namespace

std::string describe(const fraud_trip& trip) {
  std::string text = "rule " + trip.rule + " " + std::string(to_string(trip.level)) + ": " +
                     std::string(to_string(trip.measure)) + " reached " +
                     std::to_string(trip.value) + " (limit " + std::to_string(trip.limit) + ")";
  if (!trip.user.empty())
    text += ", user " + trip.user;
  if (!trip.trunk.empty())
    text += ", trunk " + trip.trunk;
  if (trip.action != fraud_action::alarm)
    text += "; action " + std::string(to_string(trip.action));
  return text;
}

void fraud_meter::configure(std::vector<fraud_rule> rules, std::vector<time_profile> profiles) {
  std::map<std::string, rule_state, std::less<>> next;
  for (auto& rule : rules) {
    rule_state state;
    if (auto old = rules_.find(rule.name); old != rules_.end() && old->second.rule == rule)
      state = std::move(old->second);
    state.rule = std::move(rule);
    state.profile.reset();
    state.profile_missing = false;
    if (!state.rule.time_profile.empty()) {
      auto found = std::ranges::find(profiles, state.rule.time_profile, &time_profile::name);
      if (found == profiles.end())
        state.profile_missing = true;
      else
        state.profile = *found;
    }
    auto name = state.rule.name;
    next.insert_or_assign(std::move(name), std::move(state));
  }
  rules_ = std::move(next);
  // Calls stay up in the counters of the rules that were kept; the rest forget them.
  for (auto& [_, call] : calls_)
    std::erase_if(call.counted, [this](const auto& place) {
      auto rule = rules_.find(place.first);
      return rule == rules_.end() || !rule->second.counters.contains(place.second);
    });
}

bool fraud_meter::applies(const rule_state& state, const metered_call& call,
                          const local_moment& local) const {
  const auto& rule = state.rule;
  switch (rule.scope) {
    case fraud_scope::user:
      if (call.user != rule.subject)
        return false;
      break;
    case fraud_scope::rights_template:
      if (call.user.empty() || call.rights_template != rule.subject)
        return false;
      break;
    case fraud_scope::trunk:
      if (call.trunk != rule.subject)
        return false;
      break;
    case fraud_scope::every_user:
      if (call.user.empty())
        return false;
      break;
  }
  if (state.profile_missing)
    return false;
  return !state.profile || is_active(*state.profile, local);
}

std::uint64_t fraud_meter::measure(fraud_measure what, counter& entry, time_point now,
                                   std::chrono::year_month_day today) {
  // A counter serves one rule: it keeps only the starts its window counts, so a count is
  // the deque's size, whatever the call rate.
  const auto window = start_window(what);
  while (!entry.starts.empty() && now - entry.starts.front() >= window)
    entry.starts.pop_front();
  if (entry.day != today) {
    entry.day = today;
    entry.day_seconds = 0;
  }
  switch (what) {
    case fraud_measure::calls_per_minute:
    case fraud_measure::calls_per_hour:
      return entry.starts.size();
    case fraud_measure::concurrent_calls:
      return entry.up.size();
    case fraud_measure::sequential_calls:
      return entry.run;
    case fraud_measure::call_seconds: {
      std::int64_t longest = 0;
      for (const auto& [id, start] : entry.up)
        if (auto up_for = seconds_between(start, now); up_for >= longest) {
          longest = up_for;
          entry.last_call = id;
        }
      return static_cast<std::uint64_t>(longest);
    }
    case fraud_measure::daily_minutes: {
      auto total = entry.day_seconds;
      for (const auto& [_, start] : entry.up)
        total += seconds_between(start, now);
      return static_cast<std::uint64_t>(total / 60);
    }
  }
  return 0;
}

void fraud_meter::evaluate(const rule_state& state, counter& entry, time_point now,
                           std::chrono::year_month_day today,
                           std::vector<fraud_trip>& trips) const {
  const auto& rule = state.rule;
  const auto value = measure(rule.measure, entry, now, today);
  for (auto level : {fraud_level::warning, fraud_level::critical}) {
    const auto& threshold = level == fraud_level::warning ? rule.warning : rule.critical;
    auto& reached = entry.reached[static_cast<std::size_t>(level)];
    if (threshold.limit == 0 || value < threshold.limit) {
      reached = false;
      continue;
    }
    if (reached)
      continue;
    reached = true;
    fraud_trip trip{rule.name,       level, threshold.action,
                    rule.measure,    value, threshold.limit,
                    entry.last_call, {},    {}};
    if (auto call = calls_.find(entry.last_call); call != calls_.end()) {
      trip.user = call->second.call.user;
      trip.trunk = call->second.call.trunk;
    } else if (rule.scope == fraud_scope::trunk) {
      trip.trunk = entry.key;
    } else {
      trip.user = entry.key;
    }
    trips.push_back(std::move(trip));
  }
}

std::vector<fraud_trip> fraud_meter::call_started(const metered_call& call, time_point now,
                                                  const local_moment& local) {
  std::vector<fraud_trip> trips;
  if (calls_.contains(call.id))
    return trips;
  auto& placed = calls_[call.id];
  placed.call = call;
  placed.started = now;
  for (auto& [name, state] : rules_) {
    if (!applies(state, call, local))
      continue;
    const bool covered = covers_number(state.rule, call.number);
    if (!covered && state.rule.measure != fraud_measure::sequential_calls)
      continue;
    auto key = counter_key(state.rule, call);
    auto& entry = state.counters[key];
    entry.key = key;
    if (!covered) {
      // A call elsewhere ends the run to the prefix.
      entry.run = 0;
      continue;
    }
    if (entry.run != 0 && now - entry.last_start >= window_hour)
      entry.run = 0;
    ++entry.run;
    entry.last_start = now;
    if (start_window(state.rule.measure) != std::chrono::system_clock::duration{})
      entry.starts.push_back(now);
    entry.up.emplace(call.id, now);
    entry.last_call = call.id;
    placed.counted.emplace_back(name, std::move(key));
    evaluate(state, entry, now, local.date, trips);
  }
  return trips;
}

std::vector<fraud_trip> fraud_meter::call_ended(std::string_view id, time_point now,
                                                const local_moment& local) {
  std::vector<fraud_trip> trips;
  auto call = calls_.find(std::string(id));
  if (call == calls_.end())
    return trips;
  for (const auto& [rule_name, key] : call->second.counted) {
    auto state = rules_.find(rule_name);
    if (state == rules_.end())
      continue;
    auto entry = state->second.counters.find(key);
    if (entry == state->second.counters.end())
      continue;
    auto& counter = entry->second;
    if (auto up = counter.up.find(id); up != counter.up.end()) {
      if (counter.day != local.date) {
        counter.day = local.date;
        counter.day_seconds = 0;
      }
      counter.day_seconds += seconds_between(up->second, now);
      counter.up.erase(up);
    }
    // Ended calls lower concurrency and raise daily minutes: both may change a level.
    evaluate(state->second, counter, now, local.date, trips);
  }
  calls_.erase(call);
  return trips;
}

std::vector<fraud_trip> fraud_meter::end_calls_of(std::string_view node, time_point now,
                                                  const local_moment& local) {
  const auto prefix = std::string(node) + "/";
  std::vector<std::string> ids;
  for (const auto& [id, _] : calls_)
    if (id.starts_with(prefix))
      ids.push_back(id);
  std::vector<fraud_trip> trips;
  for (const auto& id : ids) {
    auto more = call_ended(id, now, local);
    trips.insert(trips.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
  return trips;
}

std::vector<fraud_trip> fraud_meter::tick(time_point now, const local_moment& local) {
  std::vector<fraud_trip> trips;
  for (auto call = calls_.begin(); call != calls_.end();) {
    if (now - call->second.started < longest_call) {
      ++call;
      continue;
    }
    auto id = call->first;
    ++call;
    (void)call_ended(id, now, local);
  }
  for (auto& [_, state] : rules_) {
    const bool grows_while_up = state.rule.measure == fraud_measure::call_seconds ||
                                state.rule.measure == fraud_measure::daily_minutes;
    for (auto entry = state.counters.begin(); entry != state.counters.end();) {
      auto& counter = entry->second;
      if (grows_while_up && !counter.up.empty())
        evaluate(state, counter, now, local.date, trips);
      else
        (void)measure(state.rule.measure, counter, now, local.date);
      const bool idle = counter.up.empty() && counter.starts.empty() && counter.day_seconds == 0 &&
                        (counter.run == 0 || now - counter.last_start >= window_hour);
      entry = idle ? state.counters.erase(entry) : std::next(entry);
    }
  }
  return trips;
}

std::size_t fraud_meter::counters() const {
  std::size_t total = 0;
  for (const auto& [_, state] : rules_)
    total += state.counters.size();
  return total;
}

} // namespace ward::telephony
