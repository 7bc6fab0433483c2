#include "cli/command.hpp"

#include "cli/session_file.hpp"

namespace ward::cli {

void prepare_context(const cli_state& state, grpc::ClientContext& context, bool with_token) {
  if (!state.on_node.empty())
    throw usage_error(std::string("--on is for node-scoped commands (") + node_scoped_commands +
                      "); every other call is made on the primary itself");
  context.set_deadline(std::chrono::system_clock::now() + state.options.timeout);
  if (with_token) {
    auto token = read_token(state.session_file);
    if (!token.empty())
      context.AddMetadata("authorization", "Bearer " + token);
  }
}

int report_failure(const cli_state& state, target_service target, const grpc::Status& status) {
  auto endpoint = endpoint_for(state.options, target).value_or("node");
  std::cerr << "wardctl: " << endpoint << ": " << status.error_message() << " (code "
            << status.error_code() << ")\n";
  return exit_remote_error;
}

int proxy(const cli_state& state, target_service target, const char* method_path,
          const google::protobuf::Message& request, google::protobuf::Message& reply) {
  cli_state on_primary = state;
  on_primary.on_node.clear();
  admin::v1::ProxyRequest forwarded;
  forwarded.set_node(state.on_node);
  forwarded.set_method(method_path);
  forwarded.set_payload(request.SerializeAsString());
  admin::v1::ProxyReply answer;
  if (int code = call(on_primary, rpc{target, &admin::v1::Cluster::Stub::Proxy}, forwarded, answer);
      code != exit_ok)
    return code;
  if (answer.code() != 0) {
    std::cerr << "wardctl: " << state.on_node << " (through the primary): " << answer.message()
              << " (code " << answer.code() << ")\n";
    return exit_remote_error;
  }
  if (!reply.ParseFromString(answer.payload())) {
    std::cerr << "wardctl: " << state.on_node << " sent a reply that cannot be read\n";
    return exit_remote_error;
  }
  return exit_ok;
}

std::optional<int> command_table::run_parsed() const {
  for (const auto& [command, run] : entries_)
    if (command->parsed())
      return run();
  return std::nullopt;
}

} // namespace ward::cli
