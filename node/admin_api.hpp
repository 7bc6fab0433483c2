#pragma once

#include "actors/security_db_actor.hpp"
#include "cluster/line_actor.hpp"
#include "node/service_listener.hpp"
#include "node/sip_service.hpp"

#include <grpcpp/impl/service_type.h>

#include <expected>
#include <functional>
#include <memory>
#include <vector>

namespace caf {
class actor_system;
}

namespace ward::node {

/// Opens and closes a service's listeners when its security level changes (SPEC SVC-1).
class service_level_control {
public:
  virtual ~service_level_control() = default;
  /// Applies `level` to `service` at once; an error leaves the service as it was.
  virtual std::expected<void, std::string> apply(security::service_name service,
                                                 pki::service_security_level level) = 0;
  /// The bound plaintext and TLS ports of a service Ward serves; nullopt for others.
  virtual std::optional<std::pair<std::uint16_t, std::uint16_t>>
  ports(security::service_name service) const = 0;
  /// Rebuilds the TLS material from the identity, TCS and certificate settings and applies
  /// it to every listener at its level; new handshakes use it at once. A material the
  /// listeners refuse (a broken certificate) changes nothing: the old one keeps serving.
  virtual std::expected<void, std::string> reload(const security::security_settings& settings,
                                                  const actors::pki_state& pki) = 0;
};

/// What every API handler needs to reach the security actor.
/// The name the line listener registers its connections under.
inline constexpr std::string_view line_service_name = "line";

struct admin_api_context {
  caf::actor_system& system;
  caf::actor security;
  const connection_registry& connections;
  service_level_control& levels;
  /// The audit trail, read by AuditQuery and AuditVerify.
  std::shared_ptr<security::audit_log> audit;
  /// Holds the sealed anchor of the audit trail (its newest sequence and hash).
  std::shared_ptr<security::sealed_store> security_store;
  /// The cluster as the node's cluster actor last published it.
  std::shared_ptr<cluster::cluster_view> cluster;
  /// Events other nodes forwarded; null except on the primary.
  std::shared_ptr<cluster::event_store> events;
  /// The node's cluster actor, which proxies calls to other nodes (SPEC TOP-2).
  caf::actor cluster_hub;
  /// A random key, made at start and never stored, that marks calls of the node's own
  /// proxy executor; empty = no proxied calls are accepted.
  std::string proxy_key;
  /// The node's SIP service (registrar bindings, guard blacklists); null = no SIP.
  std::shared_ptr<sip_service> sip;
};

/// Metadata the proxy executor puts on a proxied call: the user the primary authenticated
/// and where the call came from. Honoured only on the node's in-process channel.
inline constexpr std::string_view proxied_user_header = "ward-proxied-user";
inline constexpr std::string_view proxied_source_header = "ward-proxied-source";
inline constexpr std::string_view proxy_key_header = "ward-proxy-key";
/// "tls", "tls+certificate" or "plain": how the caller reached the primary.
inline constexpr std::string_view proxied_connection_header = "ward-proxied-connection";

/// The Session, Security and Configuration gRPC services (proto/admin.proto). Each
/// handler validates its request, states the right it needs and hands a transaction to
/// the security actor.
std::vector<std::unique_ptr<grpc::Service>> make_admin_api(admin_api_context context);

} // namespace ward::node
