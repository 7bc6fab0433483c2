#include "actors/status_actor.hpp"

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <optional>

namespace ward::actors {
namespace {

struct status_state {
  std::optional<node_facts> facts;
  const clock* time = nullptr;
  clock::time_point started;
  static inline const char* name = "ward.status";
};

status_actor::behavior_type status_behavior(status_actor::stateful_pointer<status_state> self,
                                            node_facts facts, const clock* time) {
  self->state.facts.emplace(std::move(facts));
  self->state.time = time;
  self->state.started = time->now();
  return {
      [self](status_atom) -> node_status {
        const auto& state = self->state;
        auto now = state.time->now();
        node_status status;
        status.node_name = state.facts->node_name;
        status.role = state.facts->role;
        status.version = state.facts->version;
        status.uptime_seconds =
            std::chrono::duration_cast<std::chrono::seconds>(now - state.started).count();
        status.hostname = state.facts->hostname;
        status.start_count = state.facts->start_count;
        status.running_actors = self->system().registry().running();
        status.identity = summarize(state.facts->identity->get(), now);
        return status;
      },
  };
}

} // namespace

identity_summary summarize(const pki::certificate& cert, clock::time_point now) {
  identity_summary summary;
  summary.subject = cert.subject();
  summary.issuer = cert.issuer();
  summary.serial_hex = cert.serial_hex();
  summary.self_signed = cert.is_self_signed();
  summary.not_after_unix =
      std::chrono::duration_cast<std::chrono::seconds>(cert.not_after().time_since_epoch()).count();
  summary.days_until_expiry = cert.days_until_expiry(now);
  summary.sha256_fingerprint = cert.sha256_fingerprint();
  return summary;
}

status_actor spawn_status_actor(caf::actor_system& system, node_facts facts, const clock& time) {
  return system.spawn(status_behavior, std::move(facts), &time);
}

} // namespace ward::actors
