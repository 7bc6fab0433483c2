#include "cli/commands/commands.hpp"

#include "health.grpc.pb.h"

namespace ward::cli {

void add_status_commands(CLI::App& app, command_table& table) {
  namespace health = grpc::health::v1;
  auto* status = app.add_subcommand("status", "Show a node's name, role, version and uptime");
  table.unary(status, rpc{target_service::status, &admin::v1::Admin::Stub::Status,
                          "/ward.admin.v1.Admin/Status", false});

  // SPEC MON-5: alarms and lockouts through the System Status service.
  using SS = admin::v1::SystemStatus::Stub;
  auto* alarms = add_group(app, "alarms", "This node's alarms (System Status rights suffice)");
  struct alarm_query {
    std::uint64_t after = 0;
    unsigned limit = 50;
  };
  auto& query = table.hold<alarm_query>();
  auto* list = alarms->add_subcommand("list", "Newest alarms, oldest first");
  list->add_option("--after", query.after, "Only alarms after this sequence number");
  list->add_option("--limit", query.limit)->capture_default_str();
  table.unary(list, rpc{target_service::status, &SS::Alarms, "/ward.admin.v1.SystemStatus/Alarms"},
              [&query] {
                admin::v1::AlarmQueryRequest request;
                request.set_after_sequence(query.after);
                request.set_limit(query.limit);
                return request;
              });
  auto* lockouts = add_group(app, "lockouts", "Accounts and addresses locked out on this node");
  table.unary(lockouts->add_subcommand(
                  "list", "Service users, telephony users and source addresses locked now"),
              rpc{target_service::status, &SS::Lockouts, "/ward.admin.v1.SystemStatus/Lockouts"});

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
