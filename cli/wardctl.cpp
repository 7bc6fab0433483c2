// wardctl: the administration command line of a Ward cluster.
#include "cli/command.hpp"
#include "cli/commands/commands.hpp"
#include "cli/session_file.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

using namespace ward::cli;

/// The options every command shares: where the node is, how it is trusted, the session.
void add_global_options(CLI::App& app, cli_state& state, int& timeout_seconds) {
  auto& o = state.options;
  app.add_option("--node", o.node, "System Status endpoint HOST:PORT")->capture_default_str();
  app.add_option("--security", o.security, "Security Administration endpoint (default HOST:7447)");
  app.add_option("--configuration", o.configuration, "Configuration endpoint (default HOST:7445)");
  app.add_option("--endpoints", o.endpoints_file,
                 "A node's <data_dir>/run/endpoints file: use the ports it lists");
  app.add_option("--ca-file", o.ca_file,
                 "PEM certificate(s) trusted to sign the node's certificate");
  app.add_flag("--insecure", o.insecure, "DANGEROUS: do not verify the node's certificate");
  app.add_flag("--plaintext", o.plaintext,
               "DANGEROUS: no TLS (only for a service at an Unsecure level)");
  app.add_option("--server-name", o.server_name,
                 "Name expected in the node's certificate (default: host of the endpoint)");
  app.add_option("--cert", o.cert_file, "Client certificate (PEM) for Secure High services");
  app.add_option("--key", o.key_file, "Client key (PEM) for Secure High services");
  app.add_option("--on", state.on_node,
                 std::string("Make a node-scoped call on this node through the primary, over "
                             "the node's line (") +
                     node_scoped_commands + ")");
  app.add_option("--session-file", state.session_file,
                 "Where the session token is kept (default $WARD_SESSION_FILE or "
                 "~/.config/ward/session)");
  app.add_option("--timeout", timeout_seconds, "Seconds to wait for an answer")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_flag("--json", state.json, "Print machine-readable JSON");
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"wardctl: administer a Ward PBX cluster"};
  app.require_subcommand(1);
  cli_state state;
  state.session_file = default_session_file();
  int timeout_seconds = 10;
  add_global_options(app, state, timeout_seconds);

  command_table table(state);
  add_status_commands(app, table);
  add_session_commands(app, table);
  add_account_commands(app, table);
  add_security_commands(app, table);
  add_configuration_commands(app, table);
  add_cluster_commands(app, table);
  add_telephony_commands(app, table);
  add_sip_commands(app, table);
  add_pki_commands(app, table);
  add_dial_plan_commands(app, table);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  state.options.timeout = std::chrono::seconds(timeout_seconds);
  try {
    if (auto code = table.run_parsed())
      return *code;
  } catch (const usage_error& e) {
    std::cerr << "wardctl: " << e.what() << "\n";
    return exit_usage;
  }
  std::cerr << "wardctl: choose a subcommand; see wardctl --help\n";
  return exit_usage;
}
