#pragma once

#include "core/clock.hpp"
#include "core/node_role.hpp"
#include "pki/certificate.hpp"
#include "pki/current_certificate.hpp"

#include <memory>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace ward::actors {

/// The node identity certificate as reported in status.
struct identity_summary {
  std::string subject;
  std::string issuer;
  std::string serial_hex;
  bool self_signed = false;
  std::int64_t not_after_unix = 0;
  std::int64_t days_until_expiry = 0;
  std::string sha256_fingerprint;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, identity_summary& x) {
  return f(caf::meta::type_name("identity_summary"), x.subject, x.issuer, x.serial_hex,
           x.self_signed, x.not_after_unix, x.days_until_expiry, x.sha256_fingerprint);
}

identity_summary summarize(const pki::certificate& cert, clock::time_point now);

/// Answer to `status_atom`.
struct node_status {
  std::string node_name;
  node_role role = node_role::primary;
  std::string version;
  std::int64_t uptime_seconds = 0;
  std::string hostname;
  std::uint64_t start_count = 0;
  std::uint64_t running_actors = 0;
  identity_summary identity;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("node_status"), x.node_name, x.role, x.version, x.uptime_seconds,
           x.hostname, x.start_count, x.running_actors, x.identity);
}

/// What a node knows about itself at start.
struct node_facts {
  std::string node_name;
  node_role role = node_role::primary;
  std::string version;
  std::string hostname;
  std::uint64_t start_count = 0;
  /// The identity in use, replaced when TLS material is reloaded.
  std::shared_ptr<const pki::current_certificate> identity;
};

using status_atom = caf::atom_constant<caf::atom("status")>;

/// Keeps the node's self-description and answers status queries (SPEC MON-5 "nodes").
using status_actor = caf::typed_actor<caf::replies_to<status_atom>::with<node_status>>;

/// Spawns the status actor. `time` must outlive the actor; uptime counts from the spawn.
status_actor spawn_status_actor(caf::actor_system& system, node_facts facts, const clock& time);

} // namespace ward::actors
