#pragma once

#include "actors/cluster_messages.hpp"
#include "core/clock.hpp"
#include "telephony/directory.hpp"
#include "telephony/fraud_meter.hpp"
#include "telephony/time_profile.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

/// The node's fraud threshold counters (SPEC TF-10): a thin actor over telephony::fraud_meter.
/// On the primary they count every node's outside calls and are authoritative: the levels
/// they reach go to the security actor, which alarms, audits and acts cluster-wide. On the
/// other nodes every call is passed on to the primary, and the node's own counters act only
/// while its line to the primary is down (a local cap: holds on this node alone, handed to
/// the primary once the line is back).
namespace ward::actors {

/// What /metrics shows of the fraud rules; written by the actor, read by the exposer.
struct fraud_counters {
  /// Levels reached, indexed level * fraud_action_count + action.
  std::array<std::atomic<std::uint64_t>, 2 * telephony::fraud_action_count> trips{};
  /// Outside calls up in the counters.
  std::atomic<std::uint64_t> calls_up{0};
  /// Users and trunks held on this node while its line to the primary is down.
  std::atomic<std::uint64_t> held{0};
  std::atomic<std::uint64_t> rules{0};

  static constexpr std::size_t index(telephony::fraud_level level, telephony::fraud_action action) {
    return static_cast<std::size_t>(level) * telephony::fraud_action_count +
           static_cast<std::size_t>(action);
  }
};

struct fraud_actor_deps {
  std::string node;
  /// The primary: its counters decide for the cluster.
  bool authoritative = false;
  const clock* time = nullptr;
  /// The node's time zone, for the rules' time profiles.
  telephony::zone_converter zone = telephony::system_zone();
  /// The current telephony directory, whose dial plan holds the rules.
  std::function<std::shared_ptr<const telephony::telephony_directory_data>()> directory;
  caf::actor security_actor;
  /// Hands the local holds to the SIP service; must not block.
  std::function<void(telephony::fraud_holds)> apply_holds;
  std::shared_ptr<fraud_counters> counters;
};

/// Tells the fraud actor where the node's line actor is; sent once, after both exist.
struct fraud_link {
  caf::actor line_actor;
};

using fraud_tick_atom = caf::atom_constant<caf::atom("fraudtick")>;

caf::actor spawn_fraud_actor(caf::actor_system& system, fraud_actor_deps deps);

} // namespace ward::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::fraud_link)
