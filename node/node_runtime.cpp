#include "node/node_runtime.hpp"

#include "actors/status_actor.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "node/admin_service.hpp"
#include "node/logging.hpp"
#include "node/metrics.hpp"
#include "node/start_record.hpp"
#include "pki/identity_store.hpp"
#include "storage/kv_store.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <prometheus/exposer.h>

#include <csignal>
#include <sys/stat.h>

#ifndef WARD_VERSION
#error "WARD_VERSION must be defined by the build"
#endif

namespace ward::node {
namespace {

constexpr auto grpc_shutdown_grace = std::chrono::seconds(2);

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

std::string host_port(const std::string& address, std::uint16_t port) {
  if (address.find(':') != std::string::npos)
    return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

/// Records the ports the node actually bound, so tools and tests can find a node whose
/// configuration asked for port 0.
bool write_endpoints(const std::filesystem::path& data_dir, const std::string& admin,
                     const std::string& metrics) {
  auto run_dir = data_dir / "run";
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  auto content = "admin=" + admin + "\nmetrics=" + metrics + "\n";
  return pki::write_file_atomically(run_dir / "endpoints", content, 0644).has_value();
}

int wait_for_stop_signal() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  return signal_number;
}

} // namespace

int run_node(const node_config& config) {
  auto log = logger("node");
  gpr_set_log_function(route_grpc_logs);
  const std::string version = WARD_VERSION;
  log->info("event=starting node={} role={} version={} data_dir={}", config.name,
            to_string(config.role), version, log_value(config.data_dir.string()));

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    log->error("event=start_failed reason={}",
               log_value("cannot create data directory: " + ec.message()));
    return 1;
  }
  ::chmod(config.data_dir.c_str(), 0700);

  system_clock wall_clock;
  auto random = system_random();

  auto store = storage::kv_store::open(config.data_dir / "store");
  if (!store) {
    log->error("event=start_failed component=store reason={}", log_value(store.error().detail));
    return 1;
  }
  auto starts = record_start(**store, wall_clock.now());
  if (!starts) {
    log->error("event=start_failed component=store reason={}", log_value(starts.error().detail));
    return 1;
  }

  pki::identity_store identities(config.data_dir / "certificates");
  auto identity = identities.load_or_create(config.hostname, wall_clock.now(), random);
  if (!identity) {
    log->error("event=start_failed component=pki reason={}", log_value(identity.error().detail));
    return 1;
  }
  auto pki_log = logger("pki");
  if (identity->origin == pki::identity_origin::recreated)
    pki_log->warn("event=identity_recreated reason={} subject={}",
                  log_value(identity->replaced_because), log_value(identity->cert.subject()));
  else
    pki_log->info("event=identity_{} subject={} days_until_expiry={}", to_string(identity->origin),
                  log_value(identity->cert.subject()),
                  identity->cert.days_until_expiry(wall_clock.now()));

  caf::actor_system_config actor_config;
  actor_config.set("scheduler.max-threads", 2);
  std::optional<caf::actor_system> actor_system;
  actor_system.emplace(actor_config);

  auto status = actors::spawn_status_actor(*actor_system,
                                           actors::node_facts{config.name, config.role, version,
                                                              config.hostname, starts->start_count,
                                                              identity->cert},
                                           wall_clock);

  // Admin gRPC API over TLS with the node identity (TLS 1.2 is gRPC's minimum).
  grpc::EnableDefaultHealthCheckService(true);
  auto identity_provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
      std::vector<grpc::experimental::IdentityKeyCertPair>{
          {*identity->key.to_pem(), *identity->cert.to_pem()}});
  grpc::experimental::TlsServerCredentialsOptions tls(identity_provider);
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  auto admin = make_admin_service(*actor_system, status);
  int admin_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(host_port(config.listen_address, config.admin_port),
                           grpc::experimental::TlsServerCredentials(tls), &admin_port);
  builder.RegisterService(admin.get());
  auto server = builder.BuildAndStart();
  if (!server || admin_port == 0) {
    log->error(
        "event=start_failed component=admin reason={}",
        log_value("cannot listen on " + host_port(config.listen_address, config.admin_port)));
    caf::anon_send_exit(status, caf::exit_reason::user_shutdown);
    return 1;
  }
  auto admin_endpoint = host_port(config.listen_address, static_cast<std::uint16_t>(admin_port));
  logger("admin")->info("event=listening service=admin tls=true endpoint={}", admin_endpoint);

  std::unique_ptr<prometheus::Exposer> exposer;
  auto metrics =
      std::make_shared<node_metrics>(config.name, config.role, version, starts->start_count,
                                     identity->cert, wall_clock, *actor_system);
  try {
    exposer = std::make_unique<prometheus::Exposer>(
        host_port(config.listen_address, config.metrics_port), 2);
  } catch (const std::exception& e) {
    log->error("event=start_failed component=metrics reason={}", log_value(e.what()));
    server->Shutdown(std::chrono::system_clock::now());
    caf::anon_send_exit(status, caf::exit_reason::user_shutdown);
    return 1;
  }
  exposer->RegisterCollectable(metrics);
  auto metrics_endpoint = host_port(config.listen_address, exposer->GetListeningPorts().front());
  logger("metrics")->info("event=listening service=metrics path=/metrics endpoint={}",
                          metrics_endpoint);

  if (!write_endpoints(config.data_dir, admin_endpoint, metrics_endpoint))
    log->warn("event=endpoints_not_written");
  server->GetHealthCheckService()->SetServingStatus(true);
  log->info("event=ready node={} role={} admin={} metrics={}", config.name, to_string(config.role),
            admin_endpoint, metrics_endpoint);

  int signal_number = wait_for_stop_signal();
  auto stop_started = std::chrono::steady_clock::now();
  log->info("event=stopping signal={}", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");

  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(std::chrono::system_clock::now() + grpc_shutdown_grace);
  server.reset();
  exposer.reset();
  caf::anon_send_exit(status, caf::exit_reason::user_shutdown);
  actor_system.reset();
  int exit_code = 0;
  if (auto flushed = (*store)->flush(); !flushed) {
    log->error("event=store_flush_failed reason={}", log_value(flushed.error().detail));
    exit_code = 1;
  }
  store->reset();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - stop_started);
  log->info("event=stopped took_ms={}", took.count());
  return exit_code;
}

} // namespace ward::node
