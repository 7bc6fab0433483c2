#include "node/admin_service.hpp"

#include "admin.grpc.pb.h"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

namespace ward::node {
namespace {

constexpr auto actor_reply_timeout = std::chrono::seconds(5);

admin::v1::NodeRole to_proto(node_role role) {
  switch (role) {
    case node_role::primary:
      return admin::v1::NODE_ROLE_PRIMARY;
    case node_role::secondary:
      return admin::v1::NODE_ROLE_SECONDARY;
    case node_role::expansion:
      return admin::v1::NODE_ROLE_EXPANSION;
    case node_role::appserver:
      return admin::v1::NODE_ROLE_APPSERVER;
  }
  return admin::v1::NODE_ROLE_UNSPECIFIED;
}

class admin_service final : public admin::v1::Admin::Service {
public:
  admin_service(caf::actor_system& system, actors::status_actor status,
                std::function<bool(const std::string&)> is_line_connection)
      : system_(system), status_(std::move(status)),
        is_line_connection_(std::move(is_line_connection)) {}

  grpc::Status Status(grpc::ServerContext* call, const admin::v1::StatusRequest*,
                      admin::v1::StatusReply* reply) override {
    // The line port carries lines only; status is for the System Status service's ports.
    if (is_line_connection_ && is_line_connection_(call->peer()))
      return {grpc::StatusCode::PERMISSION_DENIED, "the line port carries lines only"};
    caf::scoped_actor self{system_};
    grpc::Status result = grpc::Status::OK;
    self->request(status_, actor_reply_timeout, actors::status_atom::value)
        .receive(
            [&](const actors::node_status& status) {
              reply->set_node_name(status.node_name);
              reply->set_role(to_proto(status.role));
              reply->set_version(status.version);
              reply->set_uptime_seconds(status.uptime_seconds);
              reply->set_hostname(status.hostname);
              reply->set_start_count(status.start_count);
              reply->set_running_actors(status.running_actors);
              auto* identity = reply->mutable_identity();
              identity->set_subject(status.identity.subject);
              identity->set_issuer(status.identity.issuer);
              identity->set_serial_hex(status.identity.serial_hex);
              identity->set_self_signed(status.identity.self_signed);
              identity->set_not_after_unix(status.identity.not_after_unix);
              identity->set_days_until_expiry(status.identity.days_until_expiry);
              identity->set_sha256_fingerprint(status.identity.sha256_fingerprint);
            },
            [&](const caf::error& err) {
              result = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    "status actor did not answer: " + system_.render(err));
            });
    return result;
  }

private:
  caf::actor_system& system_;
  actors::status_actor status_;
  std::function<bool(const std::string&)> is_line_connection_;
};

} // namespace

std::unique_ptr<grpc::Service>
make_admin_service(caf::actor_system& system, actors::status_actor status,
                   std::function<bool(const std::string&)> is_line_connection) {
  return std::make_unique<admin_service>(system, std::move(status), std::move(is_line_connection));
}

} // namespace ward::node
