#include "node/admin/convert.hpp"
#include "node/admin/services.hpp"

#include "admin.grpc.pb.h"
#include "cluster/event_store.hpp"
#include "cluster/line_actor.hpp"

namespace ward::node::admin_api {
namespace {

/// The service a proxiable method belongs to; nullopt for a method that cannot be proxied
/// (node-scoped reads only: changes are made on the primary and replicated).
std::optional<service_name> proxied_service(const std::string& method) {
  constexpr std::string_view prefix = "/ward.admin.v1.";
  std::optional<service_name> service;
  for (auto [name, target] : {std::pair{"Admin/Status", service_name::system_status},
                              {"Cluster/Status", service_name::system_status},
                              {"Security/ListServiceUsers", service_name::security_administration},
                              {"Security/GetServiceUser", service_name::security_administration},
                              {"Security/AuditQuery", service_name::security_administration},
                              {"Security/AuditVerify", service_name::security_administration},
                              {"Pki/GetIdentity", service_name::security_administration},
                              {"Telephony/Registrations", service_name::system_status},
                              {"Telephony/Blacklist", service_name::system_status},
                              {"Telephony/Calls", service_name::system_status},
                              {"Telephony/CallHistory", service_name::system_status},
                              {"SystemStatus/Alarms", service_name::system_status},
                              {"SystemStatus/Lockouts", service_name::system_status},
                              {"Pki/ListTcs", service_name::security_administration}})
    if (method == std::string(prefix) + name)
      service = target;
  return service;
}

/// SPEC TOP-2, MON-5: the membership view and the events forwarded to the primary.
class cluster_service final : public gateway_service<pb::Cluster::Service> {
public:
  cluster_service(std::shared_ptr<gateway> gw, std::shared_ptr<cluster::cluster_view> view,
                  std::shared_ptr<cluster::event_store> events)
      : gateway_service(std::move(gw)), view_(std::move(view)), events_(std::move(events)) {}

  grpc::Status Status(grpc::ServerContext* call, const pb::Empty*,
                      pb::ClusterStatusReply* reply) override {
    return gw_->read(call, "ClusterStatus", status_read,
                     [view = view_, reply](security_context&) { fill(reply, view->read()); });
  }

  grpc::Status Proxy(grpc::ServerContext* call, const pb::ProxyRequest* request,
                     pb::ProxyReply* reply) override {
    const auto& method = request->method();
    if (request->node().empty())
      return to_status(invalid("node", "name the node the call is for"));
    auto service = proxied_service(method);
    if (!service)
      return to_status(invalid("method", "'" + method +
                                             "' cannot be proxied: only node-scoped reads are; "
                                             "changes are made on the primary"));
    // The caller must hold a session here; the node decides about rights itself.
    std::string user;
    rpc_rule rule{service, std::nullopt, actors::transaction_writes::nothing, true};
    auto authorized =
        gw_->handle(call, "Proxy", rule,
                    [&user, node = request->node(), method](security_context& c) -> effect_result {
                      user = c.principal->user;
                      transaction_effect effect;
                      effect.object = "node/" + node;
                      effect.detail = "proxied " + method;
                      return effect;
                    });
    if (!authorized.ok())
      return authorized;
    auto origin = gw_->origin(call);
    cluster::proxy_outcome outcome{14, "the cluster actor did not answer", {}};
    {
      caf::scoped_actor self{gw_->context().system};
      self->request(gw_->context().line_actor, std::chrono::seconds(30),
                    cluster::proxy_request{request->node(),
                                           {user, origin.source, method, request->payload(),
                                            origin.tls, origin.client_certificate}})
          .receive([&](cluster::proxy_outcome& answer) { outcome = std::move(answer); },
                   [&](const caf::error&) {});
    }
    reply->set_code(outcome.code);
    reply->set_message(outcome.message);
    reply->set_payload(outcome.payload);
    return grpc::Status::OK;
  }

  grpc::Status Events(grpc::ServerContext* call, const pb::ClusterEventsRequest* request,
                      pb::AuditRecordList* reply) override {
    if (!events_)
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "forwarded events are kept on the primary; ask the primary"};
    if (request->node().empty())
      return to_status(invalid("node", "name the node whose events to list"));
    auto limit = request->limit() == 0 ? 100u : request->limit();
    if (limit > security::max_audit_query_limit)
      return to_status(invalid("limit", "must be at most 10000"));
    return gw_->read(call, "ClusterEvents", security_read,
                     [events = events_, node = request->node(), after = request->after_sequence(),
                      limit, reply](security_context&) -> security::security_result<void> {
                       auto records = events->list(node, after, limit);
                       if (!records)
                         return std::unexpected(
                             security::security_error{security::security_errc::storage_failure,
                                                      "events", records.error().detail});
                       for (const auto& record : *records)
                         fill(reply->add_records(), record);
                       return {};
                     });
  }

  grpc::Status EventSources(grpc::ServerContext* call, const pb::Empty*,
                            pb::EventSourceList* reply) override {
    if (!events_)
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "forwarded events are kept on the primary; ask the primary"};
    return gw_->read(
        call, "ClusterEventSources", security_read,
        [events = events_, reply](security_context&) -> security::security_result<void> {
          auto sources = events->sources(security::max_audit_query_limit);
          if (!sources)
            return std::unexpected(security::security_error{
                security::security_errc::storage_failure, "events", sources.error().detail});
          for (const auto& [name, stored] : *sources) {
            auto* source = reply->add_sources();
            source->set_name(name);
            source->set_stored_up_to(stored);
          }
          return {};
        });
  }

private:
  std::shared_ptr<cluster::cluster_view> view_;
  std::shared_ptr<cluster::event_store> events_;
};

} // namespace

std::unique_ptr<grpc::Service> make_cluster_service(std::shared_ptr<gateway> gw,
                                                    std::shared_ptr<cluster::cluster_view> view,
                                                    std::shared_ptr<cluster::event_store> events) {
  return std::make_unique<cluster_service>(std::move(gw), std::move(view), std::move(events));
}

} // namespace ward::node::admin_api
