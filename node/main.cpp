// ward-node: one binary for every role; the configuration decides what it runs.
#include "node/config.hpp"
#include "node/logging.hpp"
#include "node/node_runtime.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string_view>

namespace {

constexpr int exit_usage = 2;

void print_usage() {
  std::cout << "usage: ward-node --config FILE [--check-config]\n"
               "       ward-node --print-settings | --version | --help\n\n"
               "  --config FILE     run the node described by FILE (YAML)\n"
               "  --check-config    validate FILE and exit (0 valid, 2 invalid)\n"
               "  --print-settings  list every setting, its environment variable and default\n";
}

void print_settings() {
  for (const auto& setting : ward::node::documented_settings()) {
    std::cout << setting.key << "\n    default: "
              << (setting.required                ? "(required)"
                  : setting.default_value.empty() ? "\"\" (empty)"
                                                  : setting.default_value)
              << "\n";
    if (!setting.environment_variable.empty())
      std::cout << "    env:     " << setting.environment_variable << "\n";
    std::cout << "    " << setting.meaning << "\n";
  }
}

std::string machine_hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0')
    return "localhost";
  return name;
}

} // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread exists, so every thread inherits the mask
  // and the main thread alone receives them through sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "--print-settings") {
      print_settings();
      return 0;
    } else if (arg == "--version") {
      std::cout << "ward-node " << WARD_VERSION << "\n";
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      print_usage();
      return 0;
    } else {
      std::cerr << "ward-node: unknown argument '" << arg << "'\n";
      print_usage();
      return exit_usage;
    }
  }
  if (config_path.empty()) {
    std::cerr << "ward-node: --config FILE is required\n";
    print_usage();
    return exit_usage;
  }

  auto config = ward::node::load_config_file(config_path, ward::node::process_environment(),
                                             machine_hostname());
  if (!config) {
    std::cerr << "ward-node: invalid configuration " << config_path << ": "
              << config.error().message() << "\n";
    return exit_usage;
  }
  if (check_only) {
    std::cout << "ward-node: " << config_path << " is valid\n";
    return 0;
  }
  ward::node::init_logging(config->log);
  return ward::node::run_node(*config);
}
