#include "node/admin/admin_service.hpp"

#include "node/admin/convert.hpp"

#include "admin.grpc.pb.h"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

namespace ward::node {
namespace {

constexpr auto actor_reply_timeout = std::chrono::seconds(5);

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
        .receive([&](const actors::node_status& status) { admin_api::fill(reply, status); },
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
