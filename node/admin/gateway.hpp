#pragma once

// The admin gRPC API's entry point (what node_runtime builds) and the gateway every
// service handler goes through to reach the security actor.

#include "actors/security_db_actor.hpp"
#include "node/service_listener.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/support/status.h>

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace grpc {
class ServerContext;
}

namespace ward::cluster {
class cluster_view;
class event_store;
} // namespace ward::cluster

namespace ward::node {

class sip_service;

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

/// The name the line listener registers its connections under.
inline constexpr std::string_view line_service_name = "line";

/// What every API handler needs to reach the security actor.
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
  caf::actor line_actor;
  /// A random key, made at start and never stored, that marks calls of the node's own
  /// proxy executor; empty = no proxied calls are accepted.
  std::string proxy_key;
  /// The node's SIP service (registrar bindings, guard blacklists); null = no SIP.
  std::shared_ptr<sip_service> sip;
  /// The Argon2id cost the directory hashes secrets at (node/stored_state), for secrets a
  /// bulk import hashes before its transaction.
  security::argon2_cost hashing_cost = security::production_argon2_cost;
  /// SPEC TF-8: the node's call record log; null = no SIP, no records.
  std::shared_ptr<security::audit_log> call_records;
};

/// Metadata the proxy executor puts on a proxied call: the user the primary authenticated
/// and where the call came from. Honoured only on the node's in-process channel.
inline constexpr std::string_view proxied_user_header = "ward-proxied-user";
inline constexpr std::string_view proxied_source_header = "ward-proxied-source";
inline constexpr std::string_view proxy_key_header = "ward-proxy-key";
/// "tls", "tls+certificate" or "plain": how the caller reached the primary.
inline constexpr std::string_view proxied_connection_header = "ward-proxied-connection";

/// The Session, Security, SystemStatus, Configuration, Pki, Telephony and (with a cluster
/// view) Cluster gRPC services (proto/admin.proto). Each handler validates its request,
/// states the right it needs and hands a transaction to the security actor.
std::vector<std::unique_ptr<grpc::Service>> make_admin_api(admin_api_context context);

namespace admin_api {

using actors::transaction_writes;
using security::right;
using security::service_name;

/// How the security actor judges one RPC: the service it belongs to, the right the caller
/// needs and the records it may change. One rule serves all RPCs of a kind (the reads of
/// the Security service, say), so a kind's right is stated once.
struct rpc_rule {
  /// nullopt for session calls offered on every service.
  std::optional<service_name> service;
  /// nullopt = any valid session.
  std::optional<right> required;
  transaction_writes writes = transaction_writes::nothing;
  /// Audited even though it writes nothing (e.g. exporting the CA's key).
  bool audited = false;
  /// Allowed while first-start passwords are still at their defaults (SPEC SEC-6).
  bool allowed_before_ignition = false;
  /// The right is waived for an account that must change its own password first (SPEC
  /// SEC-6): otherwise a user without it could never leave Force New Password.
  bool waived_while_password_due = false;
};

/// Reads of the security settings, the audit trail and the PKI.
inline constexpr rpc_rule security_read{service_name::security_administration,
                                        right::security_read_all};
/// Changes of the security settings.
inline constexpr rpc_rule security_write{service_name::security_administration,
                                         right::security_write_all,
                                         transaction_writes::security_settings};
/// Changes of the CA, the issued register, the TCS and the node identity.
inline constexpr rpc_rule pki_write{service_name::security_administration,
                                    right::security_write_all, transaction_writes::pki};
/// Reads of the telephony directory and the SIP policy.
inline constexpr rpc_rule config_read{service_name::configuration, right::config_read_all};
/// Changes of the telephony directory and the SIP policy.
inline constexpr rpc_rule config_write{service_name::configuration, right::config_write_all,
                                       transaction_writes::directory};
/// Reads of the node's and the cluster's live state.
inline constexpr rpc_rule status_read{service_name::system_status, right::status_access};

/// The source prefix of calls that came over the line port.
inline constexpr std::string_view line_source_prefix = "line:";

/// Reaches the security actor on behalf of one gRPC call.
class gateway {
public:
  explicit gateway(admin_api_context context) : context_(std::move(context)) {}

  /// Where the call came from: its connection, or for a call the node's own proxy executor
  /// makes, the user and connection the primary authenticated.
  actors::request_origin origin(const grpc::ServerContext* call) const;

  /// The session token of the call's "authorization: Bearer" metadata; empty without one.
  static std::string token(const grpc::ServerContext* call);

  /// Sends `request` to the security actor and waits for its `Reply`. Calls that came over
  /// the line port are refused before they reach it.
  template <class Reply, class Request> grpc::Status ask(Request request, Reply& reply) const {
    if (request.origin.source.starts_with(line_source_prefix))
      return {grpc::StatusCode::PERMISSION_DENIED,
              "the line port carries lines only; administration uses the service ports"};
    caf::scoped_actor self{context_.system};
    grpc::Status status = grpc::Status::OK;
    // No deadline: a transaction fills the reply object in the handler's stack frame, so
    // the handler must not return before the actor has answered. The actor always
    // answers, or its exit turns the request into an error.
    self->request(context_.security, caf::infinite, std::move(request))
        .receive([&](Reply& answer) { reply = std::move(answer); },
                 [&](const caf::error& err) {
                   status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                         "security database did not answer: " +
                                             context_.system.render(err));
                 });
    return status;
  }

  /// The one handler every transactional RPC runs through: the security actor checks the
  /// call's session and `rule.required` (its one authorize path), runs `apply` on its
  /// state, persists and audits; the outcome becomes the gRPC status. `apply` fills the
  /// reply message, converting library records with node/admin/convert.hpp. `after_commit`
  /// runs once the change is persisted (e.g. to reload TLS material).
  grpc::Status
  handle(const grpc::ServerContext* call, std::string action, const rpc_rule& rule,
         actors::transaction_fn apply,
         std::function<void(const security::security_settings&, const actors::pki_state&)>
             after_commit = {}) const;

  /// A read through handle(): `fill(c)` fills the reply from the actor's state and returns
  /// nothing, or a security_result<void> whose error refuses the call. Reads leave no
  /// effect to audit.
  template <class Fill>
  grpc::Status read(const grpc::ServerContext* call, std::string action, const rpc_rule& rule,
                    Fill fill) const {
    return handle(
        call, std::move(action), rule,
        [fill = std::move(fill)](
            actors::security_context& c) -> security::security_result<actors::transaction_effect> {
          if constexpr (std::is_void_v<std::invoke_result_t<Fill&, actors::security_context&>>) {
            fill(c);
          } else if (auto filled = fill(c); !filled) {
            return std::unexpected(filled.error());
          }
          return actors::transaction_effect{};
        });
  }

  const admin_api_context& context() const { return context_; }

private:
  /// Whether the call carries the proxy key this node's executor puts on the calls it
  /// makes through the in-process channel.
  bool proxied_by_this_node(const grpc::ServerContext* call) const;

  admin_api_context context_;
};

} // namespace admin_api
} // namespace ward::node
