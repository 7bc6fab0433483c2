#include "node/node_runtime.hpp"

#include "node/logging.hpp"
#include "node/node_steps.hpp"

#include <grpc/support/log.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>

namespace ward::node {
namespace {

void route_grpc_logs(gpr_log_func_args* args) {
  static auto log = logger("grpc");
  auto message = log_value(args->message ? args->message : "");
  switch (args->severity) {
    case GPR_LOG_SEVERITY_ERROR:
      log->error("event=grpc_log file={} line={} msg={}", args->file, args->line, message);
      break;
    case GPR_LOG_SEVERITY_INFO:
      log->info("event=grpc_log msg={}", message);
      break;
    default:
      log->debug("event=grpc_log msg={}", message);
  }
}

/// The command line of `pid` as /proc shows it, spaces for NULs; empty when gone.
std::string process_name(pid_t pid) {
  if (pid <= 0)
    return {};
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ranges::replace(text, '\0', ' ');
  return text.substr(0, 200);
}

/// The stop signal and the process that sent it (0 when the kernel did).
std::pair<int, pid_t> wait_for_stop_signal() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  siginfo_t info{};
  int signal_number = -1;
  while (signal_number < 0)
    signal_number = sigwaitinfo(&stop_signals, &info);
  return {signal_number, info.si_pid};
}

/// Runs the start steps in order; the first failure stops the start. What the steps
/// started lives in `node`, which tears it down when the caller lets it go.
start_result<> start_node(running_node& node) {
  if (auto prepared = prepare_data_dir(node.config); !prepared)
    return prepared;
  if (auto opened = open_node_store(node); !opened)
    return opened;
  auto identity = load_identity(node);
  if (!identity)
    return std::unexpected(identity.error());
  if (auto opened = open_security_stores(node); !opened)
    return opened;
  auto state = load_stored_state(node, *identity);
  if (!state)
    return std::unexpected(state.error());
  start_actor_system(node, *state);
  // The cluster's prerequisites are checked before anything starts serving.
  if (auto prepared = prepare_cluster(node); !prepared)
    return prepared;
  spawn_security(node, std::move(*state));
  spawn_cluster(node);
  for (auto step : {start_sip, start_syslog_intake, start_metrics, start_admin_server,
                    start_listeners, apply_security_levels})
    if (auto started = step(node); !started)
      return started;
  start_dialers(node);
  return {};
}

} // namespace

int run_node(const node_config& config) {
  auto log = logger("node");
  gpr_set_log_function(route_grpc_logs);
  running_node node(config);
  log->info("event=starting node={} role={} version={} data_dir={}", config.name,
            to_string(config.role), node.version, log_value(config.data_dir.string()));
  if (auto started = start_node(node); !started) {
    log->error("event=start_failed component={} reason={}", started.error().component,
               log_value(started.error().reason));
    return 1;
  }
  node.server->GetHealthCheckService()->SetServingStatus(true);
  log->info("event=ready node={} role={} status={} metrics={}", config.name, to_string(config.role),
            node.listeners->status_endpoint(), node.metrics_endpoint);

  auto [signal_number, sender] = wait_for_stop_signal();
  auto stop_started = std::chrono::steady_clock::now();
  log->info("event=stopping signal={} sender_pid={} sender={}",
            signal_number == SIGTERM ? "SIGTERM" : "SIGINT", sender,
            log_value(process_name(sender)));
  int exit_code = stop_node(node);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - stop_started);
  log->info("event=stopped took_ms={}", took.count());
  return exit_code;
}

} // namespace ward::node
