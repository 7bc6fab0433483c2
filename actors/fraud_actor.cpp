#include "actors/fraud_actor.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

namespace ward::actors {
namespace {

struct fraud_state {
  std::optional<fraud_actor_deps> deps;
  caf::actor line_actor;
  telephony::fraud_meter meter;
  /// The directory last looked at (the feed publishes a new one on every change), and what
  /// the meter was configured from.
  std::shared_ptr<const telephony::telephony_directory_data> seen;
  std::vector<telephony::fraud_rule> rules;
  std::vector<telephony::time_profile> profiles;
  /// Not the primary: whether the last word to the primary reached it.
  bool line_up = true;
  /// Trips with an action, counted here while the line was down, for the primary.
  std::vector<telephony::fraud_trip> pending;
  telephony::fraud_holds holds;
  /// Once the primary has the trips: holds end when the replicated plan shows the action in
  /// force, and all of them by this time at the latest (the administrator may have lifted it).
  std::optional<clock::time_point> release_by;
};

/// How long a node keeps its holds after the primary took its trips, waiting for the
/// primary's action to replicate back.
constexpr auto hold_release_wait = std::chrono::seconds(10);

using self_pointer = caf::stateful_actor<fraud_state>*;

constexpr auto line_reply_timeout = std::chrono::seconds(2);

/// Reconfigures the meter when the directory's rules or time profiles changed.
void follow_rules(self_pointer self) {
  auto& state = self->state;
  auto directory = state.deps->directory();
  if (!directory || directory == state.seen)
    return;
  state.seen = directory;
  const auto& plan = directory->dial_plan;
  if (plan.fraud_rules == state.rules && plan.time_profiles == state.profiles)
    return;
  state.rules = plan.fraud_rules;
  state.profiles = plan.time_profiles;
  state.meter.configure(state.rules, state.profiles);
  state.deps->counters->rules = state.rules.size();
}

void count(self_pointer self, const std::vector<telephony::fraud_trip>& trips) {
  auto& counters = *self->state.deps->counters;
  for (const auto& trip : trips)
    ++counters.trips[fraud_counters::index(trip.level, trip.action)];
  counters.calls_up = self->state.meter.calls_up();
}

/// The primary: the security actor alarms, audits and acts for the cluster.
void decide(self_pointer self, std::vector<telephony::fraud_trip> trips) {
  if (trips.empty())
    return;
  count(self, trips);
  self->send(self->state.deps->security_actor,
             fraud_trips{self->state.deps->node, std::move(trips), false});
}

/// Not the primary, with the line down: the node alarms and holds the user or trunk itself,
/// and keeps the trips for the primary.
void hold_locally(self_pointer self, std::vector<telephony::fraud_trip> trips) {
  if (trips.empty())
    return;
  auto& state = self->state;
  count(self, trips);
  bool held = false;
  for (const auto& trip : trips) {
    // Without the primary no code can be checked against the owner's new requirement:
    // requiring a code is held as a bar here.
    if ((trip.action == telephony::fraud_action::bar_user ||
         trip.action == telephony::fraud_action::require_auth_code) &&
        !trip.user.empty())
      held |= state.holds.users.insert(trip.user).second;
    if (trip.action == telephony::fraud_action::disable_trunk && !trip.trunk.empty())
      held |= state.holds.trunks.insert(trip.trunk).second;
    if (trip.action != telephony::fraud_action::alarm)
      state.pending.push_back(trip);
  }
  // This node's security actor raises the alarms; it cannot change the dial plan.
  self->send(state.deps->security_actor, fraud_trips{state.deps->node, std::move(trips), true});
  if (held) {
    state.release_by.reset(); // a new hold waits for the primary like the first
    state.deps->counters->held = state.holds.users.size() + state.holds.trunks.size();
    state.deps->apply_holds(state.holds);
  }
}

/// The line carried `sent` pending trips to the primary: they are its to carry out, and the
/// holds wait for its actions to replicate back.
void line_back(self_pointer self, std::size_t sent) {
  auto& state = self->state;
  state.line_up = true;
  state.pending.erase(state.pending.begin(),
                      state.pending.begin() +
                          static_cast<std::ptrdiff_t>(std::min(sent, state.pending.size())));
  if ((!state.holds.users.empty() || !state.holds.trunks.empty()) && !state.release_by)
    state.release_by = state.deps->time->now() + hold_release_wait;
}

/// Ends the holds the replicated plan now enforces itself, and every hold once the wait is
/// over.
void release_holds(self_pointer self, clock::time_point now) {
  auto& state = self->state;
  if (!state.release_by || !state.line_up)
    return;
  auto next = state.holds;
  if (now >= *state.release_by) {
    next = {};
  } else if (auto directory = state.deps->directory()) {
    const auto& plan = directory->dial_plan;
    std::erase_if(next.users, [&](const std::string& user) {
      auto it = plan.users.find(user);
      return it != plan.users.end() &&
             (it->second.outgoing_call_barred || it->second.auth_code_required);
    });
    std::erase_if(next.trunks, [&](const std::string& trunk) {
      auto it = plan.trunks.find(trunk);
      return it == plan.trunks.end() || !it->second.enabled;
    });
  }
  if (next.users.empty() && next.trunks.empty())
    state.release_by.reset();
  if (next == state.holds)
    return;
  state.holds = std::move(next);
  state.deps->counters->held = state.holds.users.size() + state.holds.trunks.size();
  state.deps->apply_holds(state.holds);
}

void on_usage(self_pointer self, fraud_usage& usage) {
  auto& state = self->state;
  follow_rules(self);
  const auto now = state.deps->time->now();
  const auto local = state.deps->zone(now);
  const auto id = usage.node + "/" + usage.call.id;
  std::vector<telephony::fraud_trip> trips;
  if (usage.ended) {
    trips = state.meter.call_ended(id, now, local);
  } else {
    auto call = usage.call;
    call.id = id;
    trips = state.meter.call_started(call, now, local);
  }
  state.deps->counters->calls_up = state.meter.calls_up();
  if (state.deps->authoritative)
    return decide(self, std::move(trips));
  if (usage.node != state.deps->node)
    return; // only the primary counts other nodes' calls
  if (!state.line_actor)
    return hold_locally(self, std::move(trips));
  self->request(state.line_actor, line_reply_timeout, fraud_usage_out{std::move(usage)})
      .then(
          [self, trips](bool delivered) mutable {
            self->state.line_up = delivered;
            if (!delivered)
              hold_locally(self, std::move(trips));
          },
          [self, trips](const caf::error&) mutable {
            self->state.line_up = false;
            hold_locally(self, std::move(trips));
          });
}

void on_tick(self_pointer self) {
  auto& state = self->state;
  follow_rules(self);
  const auto now = state.deps->time->now();
  auto trips = state.meter.tick(now, state.deps->zone(now));
  state.deps->counters->calls_up = state.meter.calls_up();
  if (state.deps->authoritative)
    return decide(self, std::move(trips));
  if (!state.line_up)
    hold_locally(self, std::move(trips));
  release_holds(self, now);
  if (!state.line_actor || (state.line_up && state.pending.empty()))
    return;
  // Probes the line with what the primary must still carry out.
  self->request(state.line_actor, line_reply_timeout,
                fraud_trips_out{fraud_trips{state.deps->node, state.pending, true}})
      .then(
          [self, sent = state.pending.size()](bool delivered) {
            if (delivered)
              line_back(self, sent);
            else
              self->state.line_up = false;
          },
          [self](const caf::error&) { self->state.line_up = false; });
}

caf::behavior fraud_behavior(self_pointer self, fraud_actor_deps deps) {
  self->state.deps.emplace(std::move(deps));
  follow_rules(self);
  self->send(self, fraud_tick_atom::value);
  return {
      [self](fraud_usage& usage) { on_usage(self, usage); },
      [self](fraud_link& link) { self->state.line_actor = link.line_actor; },
      [self](fraud_node_down& down) {
        auto& state = self->state;
        const auto now = state.deps->time->now();
        auto trips = state.meter.end_calls_of(down.node, now, state.deps->zone(now));
        state.deps->counters->calls_up = state.meter.calls_up();
        if (state.deps->authoritative)
          decide(self, std::move(trips));
      },
      [self](fraud_tick_atom) {
        on_tick(self);
        self->delayed_send(self, std::chrono::seconds(1), fraud_tick_atom::value);
      },
  };
}

} // namespace

caf::actor spawn_fraud_actor(caf::actor_system& system, fraud_actor_deps deps) {
  return system.spawn(fraud_behavior, std::move(deps));
}

} // namespace ward::actors
