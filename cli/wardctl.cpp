// wardctl: the administration command line of a Ward cluster.
#include "cli/connection.hpp"

#include "admin.grpc.pb.h"
#include "health.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <iomanip>
#include <iostream>

namespace {

enum exit_code : int { exit_ok = 0, exit_remote_error = 1, exit_usage = 2 };

std::string role_name(ward::admin::v1::NodeRole role) {
  switch (role) {
    case ward::admin::v1::NODE_ROLE_PRIMARY:
      return "primary";
    case ward::admin::v1::NODE_ROLE_SECONDARY:
      return "secondary";
    case ward::admin::v1::NODE_ROLE_EXPANSION:
      return "expansion";
    case ward::admin::v1::NODE_ROLE_APPSERVER:
      return "appserver";
    default:
      return "unspecified";
  }
}

std::string duration_text(std::int64_t seconds) {
  std::ostringstream out;
  if (seconds >= 86400)
    out << seconds / 86400 << "d ";
  if (seconds >= 3600)
    out << (seconds % 86400) / 3600 << "h ";
  if (seconds >= 60)
    out << (seconds % 3600) / 60 << "m ";
  out << seconds % 60 << "s";
  return out.str();
}

int report_rpc_failure(const grpc::Status& status, const std::string& node) {
  std::cerr << "wardctl: " << node << ": " << status.error_message() << " (code "
            << status.error_code() << ")\n";
  return exit_remote_error;
}

void print_row(const std::string& label, const std::string& value) {
  std::cout << std::left << std::setw(18) << label << value << "\n";
}

int run_status(const ward::cli::connection_options& options, bool json) {
  auto channel = ward::cli::open_channel(options);
  if (!channel) {
    std::cerr << "wardctl: " << channel.error() << "\n";
    return exit_usage;
  }
  auto stub = ward::admin::v1::Admin::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options.timeout);
  ward::admin::v1::StatusReply reply;
  auto status = stub->Status(&context, {}, &reply);
  if (!status.ok())
    return report_rpc_failure(status, options.node);
  if (json) {
    std::string text;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    print.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(reply, &text, print);
    std::cout << text;
    return exit_ok;
  }
  print_row("node", reply.node_name());
  print_row("role", role_name(reply.role()));
  print_row("version", reply.version());
  print_row("uptime", duration_text(reply.uptime_seconds()));
  print_row("hostname", reply.hostname());
  print_row("starts", std::to_string(reply.start_count()));
  print_row("running actors", std::to_string(reply.running_actors()));
  const auto& identity = reply.identity();
  print_row("identity", identity.subject() + (identity.self_signed() ? " (self-signed)" : ""));
  print_row("  issuer", identity.issuer());
  print_row("  serial", identity.serial_hex());
  print_row("  expires in", std::to_string(identity.days_until_expiry()) + " days");
  print_row("  sha256", identity.sha256_fingerprint());
  return exit_ok;
}

int run_health(const ward::cli::connection_options& options, const std::string& service,
               bool json) {
  auto channel = ward::cli::open_channel(options);
  if (!channel) {
    std::cerr << "wardctl: " << channel.error() << "\n";
    return exit_usage;
  }
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options.timeout);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse reply;
  auto status = stub->Check(&context, request, &reply);
  if (!status.ok())
    return report_rpc_failure(status, options.node);
  auto name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(reply.status());
  if (json)
    std::cout << "{\"status\": \"" << name << "\"}\n";
  else
    std::cout << name << "\n";
  return reply.status() == grpc::health::v1::HealthCheckResponse::SERVING ? exit_ok
                                                                          : exit_remote_error;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"wardctl: administer a Ward PBX cluster"};
  app.require_subcommand(1);
  ward::cli::connection_options options;
  bool json = false;
  int timeout_seconds = 10;
  app.add_option("--node", options.node, "Node to talk to, HOST:PORT")->capture_default_str();
  app.add_option("--ca-file", options.ca_file,
                 "PEM certificate(s) trusted to sign the node's certificate");
  app.add_flag("--insecure", options.insecure, "DANGEROUS: do not verify the node's certificate");
  app.add_option("--server-name", options.server_name,
                 "Name expected in the node's certificate (default: host of --node)");
  app.add_option("--timeout", timeout_seconds, "Seconds to wait for an answer")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_flag("--json", json, "Print machine-readable JSON");

  auto* status = app.add_subcommand("status", "Show a node's name, role, version and uptime");
  std::string health_service;
  auto* health = app.add_subcommand("health", "gRPC health check of a node");
  health->add_option("--service", health_service, "Service name (empty: the whole node)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  options.timeout = std::chrono::seconds(timeout_seconds);

  if (status->parsed())
    return run_status(options, json);
  if (health->parsed())
    return run_health(options, health_service, json);
  return exit_usage;
}
