#include "node/admin/gateway.hpp"

#include <openssl/crypto.h>

#include "node/admin/convert.hpp"
#include "node/admin/services.hpp"

#include <grpcpp/server_context.h>

namespace ward::node {
namespace admin_api {
namespace {

/// The value of metadata `key` of the call; empty when it has none.
std::string metadata_value(const grpc::ServerContext* call, std::string_view key) {
  const auto& metadata = call->client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  return it == metadata.end() ? std::string{} : std::string(it->second.data(), it->second.size());
}

} // namespace

actors::request_origin gateway::origin(const grpc::ServerContext* call) const {
  actors::request_origin origin;
  auto peer = call->peer();
  auto info = context_.connections.find_by_peer(peer);
  if (!info && proxied_by_this_node(call)) {
    // Only the node's own proxy executor knows the key: the call was authenticated by
    // the primary and proxied over a line (SPEC TOP-2).
    origin.proxied_user = metadata_value(call, proxied_user_header);
    origin.source = "proxied:" + metadata_value(call, proxied_source_header);
    auto how = metadata_value(call, proxied_connection_header);
    origin.tls = how == "tls" || how == "tls+certificate";
    origin.client_certificate = how == "tls+certificate";
  } else if (info) {
    // A connection accepted by the line listener serves lines, never administration.
    origin.source = info->service == line_service_name
                        ? std::string(line_source_prefix) + info->peer_address
                        : info->peer_address;
    origin.service = security::parse_service_name(info->service);
    origin.tls = info->tls;
    origin.client_certificate = !info->client_certificate_subject.empty();
  } else {
    origin.source = peer;
  }
  return origin;
}

bool gateway::proxied_by_this_node(const grpc::ServerContext* call) const {
  if (context_.proxy_key.empty())
    return false;
  const auto& metadata = call->client_metadata();
  auto it = metadata.find(grpc::string_ref(proxy_key_header.data(), proxy_key_header.size()));
  return it != metadata.end() && it->second.size() == context_.proxy_key.size() &&
         CRYPTO_memcmp(it->second.data(), context_.proxy_key.data(), context_.proxy_key.size()) ==
             0;
}

std::string gateway::token(const grpc::ServerContext* call) {
  const auto& metadata = call->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end())
    return {};
  std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view bearer = "Bearer ";
  return value.starts_with(bearer) ? std::string(value.substr(bearer.size())) : std::string{};
}

grpc::Status
gateway::handle(const grpc::ServerContext* call, std::string action, const rpc_rule& rule,
                actors::transaction_fn apply,
                std::function<void(const security::security_settings&, const actors::pki_state&)>
                    after_commit) const {
  actors::security_transaction transaction;
  transaction.action = std::move(action);
  transaction.service = rule.service;
  transaction.required = rule.required;
  transaction.writes = rule.writes;
  transaction.audited = rule.audited;
  transaction.allowed_before_ignition = rule.allowed_before_ignition;
  transaction.waived_while_password_due = rule.waived_while_password_due;
  transaction.after_commit = std::move(after_commit);
  transaction.apply = std::move(apply);
  transaction.token = token(call);
  transaction.origin = origin(call);
  // A proxied call is judged as the service it targets, with the caller's connection to
  // the primary.
  if (!transaction.origin.proxied_user.empty()) {
    transaction.token.clear();
    transaction.origin.service = transaction.service;
  }
  actors::transaction_reply reply;
  if (auto status = ask(std::move(transaction), reply); !status.ok())
    return status;
  return reply.error ? to_status(*reply.error) : grpc::Status::OK;
}

} // namespace admin_api

std::vector<std::unique_ptr<grpc::Service>> make_admin_api(admin_api_context context) {
  using namespace admin_api;
  auto sip = context.sip;
  auto call_records = context.call_records;
  auto cluster_view = context.cluster;
  auto cluster_events = context.events;
  auto audit = context.audit;
  auto store = context.security_store;
  auto gw = std::make_shared<gateway>(std::move(context));
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(make_session_service(gw));
  services.push_back(make_system_status_service(gw, audit));
  services.push_back(make_security_service(gw, std::move(audit), std::move(store)));
  services.push_back(make_configuration_service(gw));
  services.push_back(make_dial_plan_service(gw));
  services.push_back(make_pki_service(gw));
  services.push_back(
      make_telephony_service(gw, std::move(sip), std::move(call_records), cluster_events));
  if (cluster_view)
    services.push_back(
        make_cluster_service(gw, std::move(cluster_view), std::move(cluster_events)));
  return services;
}

} // namespace ward::node
