#include "cli/commands/commands.hpp"

#include "health.grpc.pb.h"

namespace ward::cli {

void add_status_commands(CLI::App& app, command_table& table) {
  namespace health = grpc::health::v1;
  auto* status = app.add_subcommand("status", "Show a node's name, role, version and uptime");
  table.unary(status, rpc{target_service::status, &admin::v1::Admin::Stub::Status,
                          "/ward.admin.v1.Admin/Status", false});

  auto& service = table.hold<std::string>();
  auto* check = app.add_subcommand("health", "gRPC health check of a node");
  check->add_option("--service", service, "Service name (empty: the whole node)");
  table.add(check, [&state = table.state(), &service]() -> int {
    health::HealthCheckRequest request;
    request.set_service(service);
    health::HealthCheckResponse reply;
    int code =
        call(state, rpc{target_service::status, &health::Health::Stub::Check, nullptr, false},
             request, reply);
    if (code != exit_ok)
      return code;
    auto name = health::HealthCheckResponse::ServingStatus_Name(reply.status());
    std::cout << (state.json ? "{\"status\": \"" + name + "\"}" : name) << "\n";
    return reply.status() == health::HealthCheckResponse::SERVING ? exit_ok : exit_remote_error;
  });
}

} // namespace ward::cli
