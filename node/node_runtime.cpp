#include "node/node_runtime.hpp"

#include "actors/security_db_actor.hpp"
#include "actors/status_actor.hpp"
#include "cluster/cluster_actor.hpp"
#include "cluster/syslog.hpp"
#include "cluster/syslog_sender.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "node/admin_api.hpp"
#include "node/admin_service.hpp"
#include "node/logging.hpp"
#include "node/metrics.hpp"
#include "node/service_listener.hpp"
#include "node/sip_service.hpp"
#include "node/start_record.hpp"
#include "node/tls_client.hpp"
#include "node/tls_material.hpp"
#include "pki/identity_store.hpp"
#include "security/audit_log.hpp"
#include "security/sealed_store.hpp"
#include "security/settings_codec.hpp"
#include "storage/kv_store.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <grpc/support/log.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <prometheus/exposer.h>

#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <future>
#include <mutex>
#include <netdb.h>
#include <sstream>
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

int wait_for_stop_signal() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  return signal_number;
}

/// The listeners of the administrative services Ward serves, driven by their levels, and
/// the endpoints file that tells tools which ports are open.
class listener_set final : public service_level_control {
public:
  listener_set(const node_config& config, connection_registry& registry,
               std::string metrics_endpoint, caf::actor alarms, const clock& time,
               std::shared_ptr<pki::current_certificate> identity)
      : config_(config), registry_(registry), metrics_endpoint_(std::move(metrics_endpoint)),
        alarms_(std::move(alarms)), time_(time), identity_(std::move(identity)) {}

  /// Creates the listeners over the started `server`; levels apply from then on.
  void start(grpc::Server& server) {
    std::lock_guard lock(mutex_);
    auto on_failure = [alarms = alarms_](const tls_failure& failure) {
      logger("tls")->warn("event=tls_handshake_failed service={} peer={} cause={}", failure.service,
                          failure.peer_address, log_value(failure.cause));
      // Asynchronous: this runs on a listener thread, which must not wait for the actor.
      caf::anon_send(
          alarms, actors::tls_failure_report{failure.service, failure.peer_address, failure.cause});
    };
    auto add = [&](security::service_name service, std::uint16_t plain, std::uint16_t tls) {
      listeners_.emplace(
          service, std::make_unique<service_listener>(std::string(security::to_string(service)),
                                                      config_.listen_address, plain, tls, server,
                                                      registry_, on_failure));
    };
    add(security::service_name::system_status, config_.status_plain_port, config_.status_port);
    add(security::service_name::configuration, config_.configuration_plain_port,
        config_.configuration_port);
    add(security::service_name::security_administration, config_.security_plain_port,
        config_.security_port);
  }

  /// Closes every listener before the gRPC server goes away.
  void stop() {
    std::lock_guard lock(mutex_);
    listeners_.clear();
  }

  std::expected<void, std::string> apply(security::service_name service,
                                         pki::service_security_level level) override {
    std::lock_guard lock(mutex_);
    if (!is_served(service))
      return {};
    auto it = listeners_.find(service);
    if (it == listeners_.end())
      return std::unexpected("the node is not serving yet");
    auto applied = it->second->apply(level, material_, minimum_tls_);
    if (!applied)
      return applied;
    logger("admin")->info("event=service_level service={} level={} plain_port={} tls_port={}",
                          security::to_string(service), pki::to_string(level),
                          pki::offers_plaintext(level) ? it->second->plain_port() : 0,
                          pki::offers_tls(level) ? it->second->tls_port() : 0);
    write_endpoints();
    return {};
  }

  std::optional<std::pair<std::uint16_t, std::uint16_t>>
  ports(security::service_name service) const override {
    std::lock_guard lock(mutex_);
    auto it = listeners_.find(service);
    if (it == listeners_.end())
      return std::nullopt;
    auto level = it->second->level();
    return std::pair<std::uint16_t, std::uint16_t>{
        pki::offers_plaintext(level) ? it->second->plain_port() : 0,
        pki::offers_tls(level) ? it->second->tls_port() : 0};
  }

  std::expected<void, std::string> reload(const security::security_settings& settings,
                                          const actors::pki_state& pki) override {
    std::lock_guard lock(mutex_);
    if (listeners_.empty())
      return std::unexpected("the node is not serving (starting or stopping)");
    auto material = management_material(settings, pki, time_);
    auto minimum = settings.certificates.minimum_tls;
    std::vector<security::service_name> done;
    for (auto& [service, listener] : listeners_) {
      auto level = settings.service_levels.at(service);
      auto applied = listener->apply(level, material, minimum);
      if (!applied) {
        // Put back what was already switched: the old material keeps serving everywhere.
        for (auto switched : done)
          (void)listeners_.at(switched)->apply(listeners_.at(switched)->level(), material_,
                                               minimum_tls_);
        logger("tls")->warn("event=tls_reload_refused reason={}", log_value(applied.error()));
        return applied;
      }
      done.push_back(service);
    }
    material_ = std::move(material);
    identity_->set(pki.identity);
    minimum_tls_ = minimum;
    logger("tls")->info("event=tls_reloaded subject={} management_checks={}",
                        log_value(pki.identity.subject()),
                        pki::to_string(settings.certificates.management_checks));
    write_endpoints();
    return {};
  }

  std::string status_endpoint() const {
    std::lock_guard lock(mutex_);
    auto status = listeners_.find(security::service_name::system_status);
    return status == listeners_.end()
               ? std::string{}
               : host_port(config_.listen_address, status->second->tls_port());
  }

  /// Adds an endpoint that is not an administrative service (the line port).
  void add_endpoint(std::string name, std::string endpoint) {
    std::lock_guard lock(mutex_);
    extra_endpoints_[std::move(name)] = std::move(endpoint);
    write_endpoints();
  }

private:
  static bool is_served(security::service_name service) {
    return service == security::service_name::system_status ||
           service == security::service_name::configuration ||
           service == security::service_name::security_administration;
  }

  /// Records the ports the node has open, so tools and tests find a node whose
  /// configuration asked for port 0. Closed ports are left out.
  void write_endpoints() const {
    std::string content = "metrics=" + metrics_endpoint_ + "\n";
    for (const auto& [name, endpoint] : extra_endpoints_)
      content += name + "=" + endpoint + "\n";
    auto line = [&](std::string_view name, std::uint16_t port) {
      if (port != 0)
        content += std::string(name) + "=" + host_port(config_.listen_address, port) + "\n";
    };
    for (auto [service, name] : {std::pair{security::service_name::system_status, "status"},
                                 {security::service_name::configuration, "configuration"},
                                 {security::service_name::security_administration, "security"}}) {
      auto found = listeners_.find(service);
      if (found == listeners_.end())
        continue;
      const auto& listener = found->second;
      auto level = listener->level();
      line(name, pki::offers_tls(level) ? listener->tls_port() : 0);
      line(std::string(name) + "_plain", pki::offers_plaintext(level) ? listener->plain_port() : 0);
    }
    auto run_dir = config_.data_dir / "run";
    std::error_code ec;
    std::filesystem::create_directories(run_dir, ec);
    if (!pki::write_file_atomically(run_dir / "endpoints", content, 0644))
      logger("node")->warn("event=endpoints_not_written");
  }

  const node_config& config_;
  connection_registry& registry_;
  pki::tls_server_material material_;
  pki::tls_min_version minimum_tls_ = pki::tls_min_version::tls1_2;
  std::string metrics_endpoint_;
  caf::actor alarms_;
  const clock& time_;
  std::shared_ptr<pki::current_certificate> identity_;
  mutable std::mutex mutex_;
  std::map<security::service_name, std::unique_ptr<service_listener>> listeners_;
  std::map<std::string, std::string> extra_endpoints_;
};

/// Appends to the audit trail and seals the new end as its anchor (SPEC MON-1), as the
/// security actor does for every record it writes.
std::expected<security::audit_record, security::audit_error>
append_anchored(security::audit_log& audit, security::sealed_store& store,
                security::audit_record record) {
  auto appended = audit.append(std::move(record));
  if (appended)
    if (auto anchored = store.put(actors::audit_anchor_record,
                                  std::to_string(appended->sequence) + " " + appended->hash);
        !anchored)
      return std::unexpected(
          security::audit_error{security::audit_errc::io_error, anchored.error()});
  return appended;
}

/// Loads the security settings, creating the factory defaults at first start and bringing
/// an existing store up to this release (SPEC SEC-3, SEC-8).
std::expected<security::security_database, std::string> load_security(security::sealed_store& store,
                                                                      security::audit_log& audit,
                                                                      clock::time_point now,
                                                                      const random_source& random) {
  auto cost = security::production_argon2_cost;
  auto stored = store.get(actors::settings_record);
  if (!stored)
    return std::unexpected(stored.error().detail);
  if (!*stored) {
    auto defaults = security::security_database::factory_defaults(cost, now, random);
    if (!defaults)
      return std::unexpected(defaults.error().message);
    security::security_database database(std::move(*defaults), cost);
    if (auto written =
            store.put(actors::settings_record, security::encode_settings(database.settings()));
        !written)
      return std::unexpected(written.error().detail);
    security::audit_record record;
    record.kind = security::audit_kind::security_reset;
    record.action = "FirstStart";
    record.object = "security_settings";
    record.reason = "factory defaults created";
    if (auto appended = append_anchored(audit, store, record); !appended)
      return std::unexpected(appended.error().detail);
    return database;
  }
  auto settings = security::decode_settings(**stored);
  if (!settings)
    return std::unexpected(settings.error().detail);
  security::security_database database(std::move(*settings), cost);
  if (database.apply_release_defaults(now, random))
    if (auto written =
            store.put(actors::settings_record, security::encode_settings(database.settings()));
        !written)
      return std::unexpected(written.error().detail);
  return database;
}

std::expected<telephony::telephony_directory, std::string>
load_directory(security::sealed_store& store, const node_config& config) {
  auto stored = store.get(actors::directory_record);
  if (!stored)
    return std::unexpected(stored.error().detail);
  telephony::telephony_directory_data data;
  if (*stored) {
    auto decoded = telephony::decode_directory(**stored);
    if (!decoded)
      return std::unexpected(decoded.error().detail);
    data = std::move(*decoded);
  }
  return telephony::telephony_directory(std::move(data), config.sip_realm,
                                        security::production_argon2_cost);
}

/// The certificate state at start (SPEC PKI-1, PKI-2, PKI-7): the CA on a primary, created
/// at first start; the TCS with its drop directories processed; the node identity issued
/// by the CA when it is not already (or no longer names the node).
std::expected<actors::pki_state, std::string>
bootstrap_pki(const node_config& config, security::sealed_store& store,
              const pki::node_identity& identity, const security::security_settings& settings,
              security::audit_log& audit, clock::time_point now, const random_source& random) {
  auto pki_log = logger("pki");
  auto stored = store.get(actors::pki_record_name);
  if (!stored)
    return std::unexpected(stored.error().detail);
  pki::organisation fields{config.ca_organization, config.ca_organizational_unit,
                           config.ca_locality,     config.ca_state,
                           config.ca_country,      config.ca_email};
  actors::pki_state state{
      security::pki_record{}, identity.key, identity.cert, config.data_dir / "certificates",
      config.hostname,        {},           fields};
  if (config.listen_address != "0.0.0.0" && config.listen_address != "::")
    state.addresses.push_back(config.listen_address);
  for (const auto& address : config.identity_addresses)
    if (std::find(state.addresses.begin(), state.addresses.end(), address) == state.addresses.end())
      state.addresses.push_back(address);

  bool changed = !*stored;
  if (*stored) {
    auto decoded = security::decode_pki(**stored);
    if (!decoded)
      return std::unexpected(decoded.error().detail);
    state.record = std::move(*decoded);
  }
  if (config.role == node_role::primary && !state.record.ca) {
    auto ca = pki::certificate_authority::create_root(config.hostname, fields, now, random);
    if (!ca)
      return std::unexpected("cannot create the certificate authority: " + ca.error().detail);
    pki_log->info("event=ca_created subject={} serial={}",
                  log_value(ca->signing_certificate().subject()),
                  ca->signing_certificate().serial_hex());
    security::audit_record record;
    record.kind = security::audit_kind::change;
    record.action = "CreateCa";
    record.object = "certificate/" + ca->signing_certificate().subject();
    record.reason = "certificate authority created at first start";
    (void)append_anchored(audit, store, record);
    state.record.ca = std::move(*ca);
    changed = true;
  }

  auto tcs_dir = config.data_dir / "certificates" / "tcs";
  std::error_code ec;
  std::filesystem::create_directories(tcs_dir / "add", ec);
  std::filesystem::create_directories(tcs_dir / "delete", ec);
  auto report = state.record.trust.process_drop_directories(tcs_dir / "add", tcs_dir / "delete");
  // Changes at start are administrative changes too (SPEC MON-1): a file dropped into the
  // add directory adds a trust anchor.
  auto audit_start_change = [&](std::string action, std::string object, std::string reason) {
    security::audit_record record;
    record.kind = security::audit_kind::change;
    record.action = std::move(action);
    record.object = std::move(object);
    record.reason = std::move(reason);
    (void)append_anchored(audit, store, record);
  };
  for (const auto& file : report.added) {
    pki_log->info("event=tcs_added source={}", log_value(file));
    audit_start_change("AddTcs", "tcs", "added from drop directory: " + file);
  }
  for (const auto& file : report.removed) {
    pki_log->info("event=tcs_removed source={}", log_value(file));
    audit_start_change("RemoveTcs", "tcs", "removed by drop directory: " + file);
  }
  for (const auto& [file, why] : report.rejected)
    pki_log->warn("event=tcs_drop_rejected file={} reason={}", log_value(file), log_value(why));
  changed = changed || !report.added.empty() || !report.removed.empty();

  auto& ca = state.record.ca;
  bool ours = ca && issued_by(state.identity, ca->signing_certificate());
  bool names_ok = names_match(state.identity, state.hostname, state.addresses);
  bool due = state.identity.days_until_expiry(now) <= actors::identity_renewal_days;
  if (ca && (!ours || due || (!names_ok && settings.certificates.renew_identity_automatically))) {
    auto issued = ca->issue_node_identity(state.identity_key, state.hostname, state.addresses, now);
    if (!issued)
      return std::unexpected("cannot issue the node identity: " + issued.error().detail);
    pki_log->info("event=identity_issued subject={} serial={} reason={}",
                  log_value(issued->subject()), issued->serial_hex(),
                  !ours ? "not issued by this node's CA"
                  : due ? "renewal before expiry"
                        : "hostname or addresses changed");
    audit_start_change("RenewIdentity", "identity",
                       "issued at start, serial " + issued->serial_hex());
    state.identity = *issued;
    state.record.issued.push_back(pki::record_of(*issued, pki::issued_purpose::node_identity));
    changed = true;
  }
  if (changed) {
    auto encoded = security::encode_pki(state.record);
    if (!encoded)
      return std::unexpected(encoded.error().detail);
    if (auto written = store.put(actors::pki_record_name, *encoded); !written)
      return std::unexpected(written.error().detail);
    if (auto written = pki::write_file_atomically(state.identity_dir / "identity.pem",
                                                  state.identity.to_pem().value_or(""), 0644);
        !written)
      return std::unexpected(written.error().detail);
  }
  if (ca)
    (void)pki::write_file_atomically(state.identity_dir / "root-ca.pem",
                                     ca->signing_certificate().to_pem().value_or(""), 0644);
  return state;
}

/// Reads a secret from a file only its owner may read; trailing newlines are not part of it.
std::expected<std::string, std::string> read_secret_file(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    return std::unexpected("cannot read " + path.string());
  if ((info.st_mode & 077) != 0)
    return std::unexpected(path.string() +
                           " must not be readable by group or others (chmod 600 it)");
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  auto secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
    secret.pop_back();
  // The proofs let an active attacker test guesses offline, so the secret must be one no
  // dictionary holds: a generated one (e.g. openssl rand -base64 24).
  if (secret.size() < 16)
    return std::unexpected(path.string() +
                           " must hold a line password of at least 16 characters; generate one "
                           "(openssl rand -base64 24)");
  return secret;
}

/// The numeric address of `host` (an IP literal or a name), first result.
std::expected<std::string, std::string> resolve_address(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0 || !found)
    return std::unexpected("cannot resolve " + host + ": " + ::gai_strerror(rc));
  char text[INET6_ADDRSTRLEN] = {};
  const void* address =
      found->ai_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr);
  ::inet_ntop(found->ai_family, address, text, sizeof text);
  ::freeaddrinfo(found);
  return std::string(text);
}

/// What the line listener presents: the node identity, asking every dialling node for its
/// certificate, which the cluster actor grades (SPEC LINE-1).
pki::tls_server_material line_material(const actors::pki_state& pki) {
  pki::tls_server_material material;
  material.key_pem = pki.identity_key.to_pem().value_or("");
  material.certificate_pem = pki.identity.to_pem().value_or("");
  material.request_client_certificate = true;
  return material;
}

/// SIP over TLS presents the node identity and asks phones for no certificate (SPEC SIP-1;
/// PKI-6: the management identity serves while no telephony identity is set).
std::expected<std::shared_ptr<SSL_CTX>, std::string> sip_tls_context(const actors::pki_state& pki) {
  pki::tls_server_material material;
  material.key_pem = pki.identity_key.to_pem().value_or("");
  material.certificate_pem = pki.identity.to_pem().value_or("");
  auto context =
      pki::make_server_context(pki::tls_strength::medium, pki::tls_min_version::tls1_2, material);
  if (!context)
    return std::unexpected("SIP TLS context: " + context.error().detail);
  return *context;
}

/// An audit record as the RFC 5424 event the syslog receiver gets (SPEC MON-2).
cluster::syslog_event syslog_event_of(const std::string& hostname, const std::string& node,
                                      const security::audit_record& record) {
  cluster::syslog_event event;
  event.time = record.time;
  // Facility 10: security/authorization messages.
  event.facility = 10;
  event.severity = record.kind == security::audit_kind::alarm ? cluster::syslog_severity::warning
                   : record.outcome == security::audit_outcome::failure
                       ? cluster::syslog_severity::notice
                       : cluster::syslog_severity::informational;
  event.hostname = hostname;
  event.app_name = "ward";
  event.proc_id = node;
  event.msg_id = std::string(security::to_string(record.kind));
  event.structured = {{"node", node},
                      {"seq", std::to_string(record.sequence)},
                      {"outcome", std::string(security::to_string(record.outcome))},
                      {"actor", record.actor},
                      {"source", record.source},
                      {"service", record.service},
                      {"action", record.action},
                      {"object", record.object},
                      {"hash", record.hash}};
  event.message = record.action + " " + record.object +
                  (record.reason.empty() ? std::string{} : ": " + record.reason);
  return event;
}

std::shared_ptr<security::sealed_store> open_sealed(const std::filesystem::path& directory,
                                                    const security::node_key& key,
                                                    const random_source& random,
                                                    std::string& error) {
  auto store = storage::kv_store::open(directory);
  if (!store) {
    error = store.error().detail;
    return nullptr;
  }
  return std::make_shared<security::sealed_store>(std::move(*store), key, random);
}

} // namespace

int run_node(const node_config& config) {
  auto log = logger("node");
  gpr_set_log_function(route_grpc_logs);
  const std::string version = WARD_VERSION;
  log->info("event=starting node={} role={} version={} data_dir={}", config.name,
            to_string(config.role), version, log_value(config.data_dir.string()));
  auto fail = [&](std::string_view component, const std::string& reason) {
    log->error("event=start_failed component={} reason={}", component, log_value(reason));
    return 1;
  };

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec)
    return fail("node", "cannot create data directory: " + ec.message());
  ::chmod(config.data_dir.c_str(), 0700);

  system_clock wall_clock;
  auto random = system_random();

  auto store = storage::kv_store::open(config.data_dir / "store");
  if (!store)
    return fail("store", store.error().detail);
  auto starts = record_start(**store, wall_clock.now());
  if (!starts)
    return fail("store", starts.error().detail);

  pki::identity_store identities(config.data_dir / "certificates");
  auto identity = identities.load_or_create(config.hostname, wall_clock.now(), random);
  if (!identity)
    return fail("pki", identity.error().detail);
  auto pki_log = logger("pki");
  if (identity->origin == pki::identity_origin::recreated)
    pki_log->warn("event=identity_recreated reason={} subject={}",
                  log_value(identity->replaced_because), log_value(identity->cert.subject()));
  else
    pki_log->info("event=identity_{} subject={} days_until_expiry={}", to_string(identity->origin),
                  log_value(identity->cert.subject()),
                  identity->cert.days_until_expiry(wall_clock.now()));

  // Security settings and configuration: separate stores, both sealed under the node key
  // (SPEC SEC-1); the audit trail beside them (SPEC MON-1).
  auto key = security::node_key::load_or_create(config.data_dir / "keys" / "node.key", random);
  if (!key)
    return fail("security", key.error().detail);
  std::string open_error;
  auto security_store = open_sealed(config.data_dir / "security", *key, random, open_error);
  if (!security_store)
    return fail("security", open_error);
  auto config_store = open_sealed(config.data_dir / "config", *key, random, open_error);
  if (!config_store)
    return fail("config", open_error);
  std::filesystem::create_directories(config.data_dir / "audit", ec);
  auto audit = security::audit_log::open(config.data_dir / "audit" / "audit.log", wall_clock);
  if (!audit)
    return fail("audit", audit.error().detail);
  std::shared_ptr<security::audit_log> audit_trail = std::move(*audit);
  // Before anything is appended: the trail must still reach the anchor sealed when its
  // newest record was written; records cut from its end while the node was down show here.
  if (auto anchor = security_store->get(actors::audit_anchor_record); anchor && *anchor) {
    std::istringstream fields(**anchor);
    std::uint64_t sequence = 0;
    std::string hash;
    fields >> sequence >> hash;
    if (audit_trail->last_sequence() != sequence || audit_trail->last_hash() != hash) {
      log->error("event=audit_trail_truncated anchored_sequence={} trail_sequence={}", sequence,
                 audit_trail->last_sequence());
      security::audit_record alarm;
      alarm.kind = security::audit_kind::alarm;
      alarm.outcome = security::audit_outcome::failure;
      alarm.action = "audit_trail_truncated";
      alarm.object = "audit";
      alarm.reason = "the trail ends at record " + std::to_string(audit_trail->last_sequence()) +
                     " but record " + std::to_string(sequence) +
                     " was sealed: records were removed or the trail was replaced";
      (void)append_anchored(*audit_trail, *security_store, alarm);
    }
  }
  auto database = load_security(*security_store, *audit_trail, wall_clock.now(), random);
  if (!database)
    return fail("security", database.error());
  auto directory = load_directory(*config_store, config);
  if (!directory)
    return fail("config", directory.error());
  auto pki = bootstrap_pki(config, *security_store, *identity, database->settings(), *audit_trail,
                           wall_clock.now(), random);
  if (!pki)
    return fail("pki", pki.error());
  if (auto pending = database->ignition_pending(); !pending.empty())
    logger("security")
        ->warn("event=first_start_gate pending={}",
               log_value(std::to_string(pending.size()) + " default passwords must be changed"));

  auto current_identity = std::make_shared<pki::current_certificate>(pki->identity);
  caf::actor_system_config actor_config;
  actor_config.set("scheduler.max-threads", 2);
  std::optional<caf::actor_system> actor_system;
  actor_system.emplace(actor_config);

  auto status = actors::spawn_status_actor(*actor_system,
                                           actors::node_facts{config.name, config.role, version,
                                                              config.hostname, starts->start_count,
                                                              current_identity},
                                           wall_clock);
  auto settings_at_start = database->settings();
  auto pki_at_start = *pki;

  // The cluster (SPEC section 6): the line password, the primary's event store and the
  // syslog receiver, checked before anything starts serving.
  std::string line_password;
  if (!config.line_password_file.empty()) {
    auto secret = read_secret_file(config.line_password_file);
    if (!secret)
      return fail("cluster", secret.error());
    line_password = std::move(*secret);
  }
  auto line_security = cluster::parse_line_security(config.line_security);
  if (!line_security)
    return fail("cluster", "unknown line security " + config.line_security);
  auto cluster_store_opened = storage::kv_store::open(config.data_dir / "cluster");
  if (!cluster_store_opened)
    return fail("cluster", cluster_store_opened.error().detail);
  std::shared_ptr<storage::kv_store> cluster_store = std::move(*cluster_store_opened);
  std::shared_ptr<cluster::event_store> forwarded_events;
  if (config.role == node_role::primary)
    forwarded_events = std::make_shared<cluster::event_store>(cluster_store);
  std::shared_ptr<cluster::syslog_tls_sender> syslog_sender;
  if (!config.syslog_address.empty()) {
    std::ifstream ca_in(config.syslog_ca_file);
    std::ostringstream ca_text;
    ca_text << ca_in.rdbuf();
    cluster::syslog_tls_config syslog_config;
    syslog_config.address = config.syslog_address;
    syslog_config.port = config.syslog_port;
    syslog_config.trusted_ca_pem = ca_text.str();
    syslog_config.expected_name = config.syslog_server_name;
    if (auto checked = cluster::syslog_tls_sender::check_config(syslog_config); !checked)
      return fail("syslog", checked.error().detail);
    syslog_sender = std::make_shared<cluster::syslog_tls_sender>(syslog_config);
  }
  std::uint64_t settings_version = 0;
  if (auto held = security_store->get(actors::settings_version_record); held && *held)
    settings_version = std::strtoull((*held)->c_str(), nullptr, 10);

  // The registrar reads the telephony directory from a feed the security actor refreshes.
  auto directory_copies = std::make_shared<directory_feed>();
  directory_copies->publish(directory->data());
  actors::security_actor_deps security_deps{
      std::move(*database), std::move(*directory), std::move(*pki), security_store,
      config_store,         audit_trail,           &wall_clock,     random};
  security_deps.settings_writer = config.role == node_role::primary;
  security_deps.settings_version = settings_version;
  security_deps.refer_logins = config.role == node_role::appserver;
  security_deps.fallback_account = config.fallback_account;
  security_deps.publish_directory =
      [directory_copies](const telephony::telephony_directory_data& data) {
        directory_copies->publish(data);
      };
  auto security_actor = actors::spawn_security_db_actor(*actor_system, std::move(security_deps));

  auto cluster_view = std::make_shared<cluster::cluster_view>();
  cluster::cluster_options cluster_options;
  cluster_options.node = config.name;
  cluster_options.role = config.role;
  cluster_options.line_password = line_password;
  cluster_options.security = *line_security;
  cluster_options.writer = config.role == node_role::primary;
  cluster_options.software_version = version;
  cluster_options.security_actor = security_actor;
  cluster_options.audit = audit_trail;
  cluster_options.store = cluster_store;
  cluster_options.events = forwarded_events;
  cluster_options.view = cluster_view;
  cluster_options.time = &wall_clock;
  cluster_options.random = random;
  if (syslog_sender)
    cluster_options.event_sink =
        [syslog_sender, hostname = config.hostname](const std::string& node,
                                                    const security::audit_record& record) {
          syslog_sender->enqueue(cluster::format_rfc5424(syslog_event_of(hostname, node, record)));
        };
  // Calls the primary proxies to this node run against the node's own server through an
  // in-process channel, which exists once the server does (SPEC TOP-2).
  struct in_process_holder {
    std::mutex mutex;
    std::condition_variable idle;
    std::shared_ptr<grpc::Channel> channel;
    /// Proxied calls running; the server is destroyed only once none is.
    int in_flight = 0;
  };
  auto in_process = std::make_shared<in_process_holder>();
  std::string proxy_key;
  {
    std::array<std::byte, 32> bytes{};
    random(bytes);
    static constexpr char digits[] = "0123456789abcdef";
    for (auto b : bytes) {
      proxy_key += digits[std::to_integer<unsigned>(b) >> 4];
      proxy_key += digits[std::to_integer<unsigned>(b) & 0xf];
    }
  }
  cluster_options.proxy_executor =
      [in_process, proxy_key](const cluster::proxy_invocation& call) -> cluster::proxy_outcome {
    std::shared_ptr<grpc::Channel> channel;
    {
      std::lock_guard lock(in_process->mutex);
      channel = in_process->channel;
      if (channel)
        ++in_process->in_flight;
    }
    if (!channel)
      return {14, "the node is not serving", {}};
    struct done_guard {
      in_process_holder& holder;
      ~done_guard() {
        std::lock_guard lock(holder.mutex);
        if (--holder.in_flight == 0)
          holder.idle.notify_all();
      }
    } finished{*in_process};
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    context.AddMetadata(std::string(proxy_key_header), proxy_key);
    context.AddMetadata(std::string(proxied_user_header), call.user);
    context.AddMetadata(std::string(proxied_source_header), call.source);
    context.AddMetadata(std::string(proxied_connection_header),
                        call.tls ? (call.client_certificate ? "tls+certificate" : "tls") : "plain");
    grpc::Slice slice(call.payload);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, call.method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    auto status = done.get_future().get();
    cluster::proxy_outcome outcome{
        static_cast<int>(status.error_code()), status.error_message(), {}};
    std::vector<grpc::Slice> slices;
    if (status.ok() && response.Dump(&slices).ok())
      for (const auto& part : slices)
        outcome.payload.append(reinterpret_cast<const char*>(part.begin()), part.size());
    return outcome;
  };
  // Blacklistings other nodes made reach this node's SIP guard once it exists (SPEC SIP-4).
  struct sip_slot_holder {
    std::mutex mutex;
    std::weak_ptr<sip_service> service;
  };
  auto sip_slot = std::make_shared<sip_slot_holder>();
  cluster_options.apply_guard_event = [sip_slot](const telephony::guard_event& event) {
    std::lock_guard lock(sip_slot->mutex);
    if (auto service = sip_slot->service.lock())
      service->apply_remote(event);
  };
  // Calls between nodes (SPEC SIP-6): SIP messages and location tables over the lines.
  cluster_options.deliver_sip = [sip_slot](const std::string& from_node, std::string text) {
    std::lock_guard lock(sip_slot->mutex);
    if (auto service = sip_slot->service.lock())
      service->deliver_from_line(from_node, std::move(text));
  };
  cluster_options.apply_locations = [sip_slot](const std::string& node,
                                               std::vector<std::string> extensions) {
    std::lock_guard lock(sip_slot->mutex);
    if (auto service = sip_slot->service.lock())
      service->apply_locations(node, std::move(extensions));
  };
  auto hub = cluster::spawn_cluster_actor(*actor_system, std::move(cluster_options));
  // SIP over UDP (SPEC SIP-1, SIP-2, SIP-4): blacklistings and resets become alarms.
  sip_service_options sip_options;
  sip_options.address = config.listen_address;
  sip_options.udp_port = config.sip_udp_port;
  sip_options.tcp_port = config.sip_tcp_port;
  sip_options.tls_port = config.sip_tls_port;
  sip_options.guard.failure_threshold = config.sip_failure_threshold;
  sip_options.guard.address_blacklisting = config.sip_address_blacklisting;
  sip_options.guard.allow_list = config.sip_allow;
  sip_options.guard.messages_per_second = config.sip_messages_per_second;
  sip_options.guard.burst = std::max<std::uint32_t>(config.sip_messages_per_second * 2, 1);
  sip_options.prefer_md5 = config.sip_prefer_md5;
  sip_options.md5_only = config.sip_md5_only;
  sip_options.node = config.name;
  // The media relay anchors every call's RTP on this node (SPEC MED-3).
  media::relay_pool_options relay_options;
  relay_options.address = config.listen_address;
  relay_options.ports = media::rtp_port_range{config.rtp_port_first, config.rtp_port_last};
  relay_options.max_sessions = sip_options.max_calls;
  relay_options.workers = config.media_workers;
  auto relay = media::relay_pool::start(relay_options);
  if (!relay) {
    caf::anon_send_exit(security_actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(status, caf::exit_reason::user_shutdown);
    return fail("media", relay.error().detail);
  }
  sip_options.relay = std::move(*relay);
  sip_options.send_over_line = [hub](const std::string& node, std::string text) {
    caf::anon_send(hub, cluster::sip_signal_out{node, std::move(text)});
  };
  sip_options.on_locations = [hub](std::vector<std::string> extensions) {
    caf::anon_send(hub, cluster::locations_out{std::move(extensions)});
  };
  sip_options.on_auto_create = [security_actor](const std::string& extension,
                                                const std::string& source) {
    caf::anon_send(security_actor, actors::auto_create_extension{extension, source});
  };
  sip_options.on_media_alarm = [security_actor](const std::string& reason) {
    caf::anon_send(security_actor, actors::cluster_alarm{"srtp_authentication_failures",
                                                         "media/relay", reason, "", false});
  };
  // SPEC TF-2: someone may need help; the alarm reaches syslog and the audit trail.
  sip_options.on_emergency_call = [security_actor](const std::string& caller,
                                                   const std::string& dialled,
                                                   const std::string& route) {
    caf::anon_send(security_actor,
                   actors::cluster_alarm{"emergency_call", "extension/" + caller,
                                         "extension " + caller + " dialled " + dialled +
                                             (route.empty() ? ", and no emergency route is "
                                                              "configured"
                                                            : ", ringing extension " + route),
                                         "", false});
  };
  sip_options.on_call_ended = [](const telephony::call_view& call, telephony::call_end end) {
    logger("sip")->info("event=call_ended call={} caller={} callee={} caller_leg={} "
                        "callee_leg={} end={}",
                        call.id, call.caller, call.callee, call.caller_leg, call.callee_leg,
                        telephony::to_string(end));
  };
  auto sip_context = sip_tls_context(pki_at_start);
  if (!sip_context) {
    caf::anon_send_exit(security_actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(status, caf::exit_reason::user_shutdown);
    return fail("sip", sip_context.error());
  }
  sip_options.tls_context = *sip_context;
  sip_options.realm = config.sip_realm;
  sip_options.directory = directory_copies;
  sip_options.time = &wall_clock;
  sip_options.random = random;
  sip_options.on_guard_event = [security_actor, hub](const telephony::guard_event& event) {
    using kind = telephony::guard_event_kind;
    if (event.kind != kind::address_blacklisted_temporary &&
        event.kind != kind::address_blacklisted_permanent &&
        event.kind != kind::extension_blacklisted_temporary &&
        event.kind != kind::extension_blacklisted_permanent && event.kind != kind::blacklist_reset)
      return;
    caf::anon_send(security_actor,
                   actors::cluster_alarm{"sip_" + std::string(telephony::to_string(event.kind)),
                                         event.address.empty() ? "extension/" + event.extension
                                                               : "address/" + event.address,
                                         event.detail, event.address,
                                         event.kind == kind::blacklist_reset});
    // Every other node blacklists (or lifts) it too.
    caf::anon_send(hub, cluster::guard_broadcast{event});
  };
  auto sip = sip_service::start(std::move(sip_options));
  if (!sip) {
    caf::anon_send_exit(security_actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(status, caf::exit_reason::user_shutdown);
    return fail("sip", sip.error());
  }
  std::shared_ptr<sip_service> sip_server = std::move(*sip);
  {
    std::lock_guard lock(sip_slot->mutex);
    sip_slot->service = sip_server;
  }
  logger("sip")->info("event=listening service=sip udp_port={} tcp_port={} tls_port={}",
                      sip_server->udp_port(), sip_server->tcp_port(), sip_server->tls_port());

  auto stop_actors = [&] {
    sip_server->stop();
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(status, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(security_actor, caf::exit_reason::user_shutdown);
  };

  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(
        host_port(config.listen_address, config.metrics_port), 2);
  } catch (const std::exception& e) {
    stop_actors();
    return fail("metrics", e.what());
  }
  auto metrics =
      std::make_shared<node_metrics>(config.name, config.role, version, starts->start_count,
                                     current_identity, wall_clock, *actor_system);
  exposer->RegisterCollectable(metrics);
  // The exposer holds collectables weakly: this one lives as long as the node.
  auto line_metrics = std::make_shared<cluster_metrics>(cluster_view);
  exposer->RegisterCollectable(line_metrics);
  auto telephony_metrics = std::make_shared<sip_metrics>(sip_server);
  exposer->RegisterCollectable(telephony_metrics);
  auto metrics_endpoint = host_port(config.listen_address, exposer->GetListeningPorts().front());
  logger("metrics")->info("event=listening service=metrics path=/metrics endpoint={}",
                          metrics_endpoint);

  // One gRPC server without ports of its own: Ward's listeners hand it each connection
  // once the service's level has admitted it.
  grpc::EnableDefaultHealthCheckService(true);
  connection_registry connections;
  auto admin = make_admin_service(*actor_system, status, [&connections](const std::string& peer) {
    auto info = connections.find_by_peer(peer);
    return info && info->service == line_service_name;
  });
  grpc::ServerBuilder builder;
  // Idle administrative connections are closed, so nobody can hold the listeners' slots
  // indefinitely; clients reconnect transparently.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 5 * 60 * 1000);
  builder.RegisterService(admin.get());
  listener_set listeners(config, connections, metrics_endpoint, security_actor, wall_clock,
                         current_identity);
  auto api = make_admin_api(admin_api_context{*actor_system, security_actor, connections, listeners,
                                              audit_trail, security_store, cluster_view,
                                              forwarded_events, hub, proxy_key, sip_server});
  for (auto& service : api)
    builder.RegisterService(service.get());
  // Lines arrive on their own listener; its connections are the only ones the Line
  // service accepts, and the admin services refuse them.
  bool serves_lines = is_line_server(config.role) && !line_password.empty();
  std::unique_ptr<cluster::line_service> line_api;
  if (serves_lines) {
    line_api = std::make_unique<cluster::line_service>(
        *actor_system, hub,
        [&connections](const std::string& peer) -> std::optional<cluster::line_connection_facts> {
          auto info = connections.find_by_peer(peer);
          if (!info || info->service != line_service_name || !info->tls)
            return std::nullopt;
          return cluster::line_connection_facts{info->peer_address, info->tls_exporter,
                                                info->client_chain_pem};
        });
    builder.RegisterService(line_api.get());
  } else if (is_line_server(config.role)) {
    log->warn("event=lines_disabled reason=\"no cluster.line_password_file\"");
  }
  auto server = builder.BuildAndStart();
  if (!server) {
    stop_actors();
    return fail("admin", "gRPC server did not start");
  }

  {
    std::lock_guard lock(in_process->mutex);
    in_process->channel = server->InProcessChannel(grpc::ChannelArguments());
  }
  listeners.start(*server);
  listeners.add_endpoint("sip_udp", host_port(config.listen_address, sip_server->udp_port()));
  listeners.add_endpoint("sip_tcp", host_port(config.listen_address, sip_server->tcp_port()));
  listeners.add_endpoint("sip_tls", host_port(config.listen_address, sip_server->tls_port()));
  auto line_level = *line_security == cluster::line_security::high
                        ? pki::service_security_level::secure_high
                        : pki::service_security_level::secure_medium;
  // Shared with the reloader, which runs on the security actor's thread: the listener is
  // taken away under the lock at stop, never destroyed under a reload.
  struct line_listener_holder {
    std::mutex mutex;
    std::unique_ptr<service_listener> listener;
  };
  auto line_holder = std::make_shared<line_listener_holder>();
  std::unique_ptr<service_listener> line_listener;
  if (serves_lines) {
    line_listener = std::make_unique<service_listener>(
        std::string(line_service_name), config.listen_address, 0, config.line_port, *server,
        connections, [security_actor](const tls_failure& failure) {
          logger("tls")->warn("event=tls_handshake_failed service=line peer={} cause={}",
                              failure.peer_address, log_value(failure.cause));
          caf::anon_send(security_actor, actors::tls_failure_report{
                                             failure.service, failure.peer_address, failure.cause});
        });
    if (auto applied = line_listener->apply(line_level, line_material(pki_at_start)); !applied) {
      line_listener.reset();
      listeners.stop();
      server->Shutdown(std::chrono::system_clock::now());
      stop_actors();
      return fail("cluster", "line listener: " + applied.error());
    }
    listeners.add_endpoint("line", host_port(config.listen_address, line_listener->tls_port()));
    logger("cluster")->info("event=listening service=line port={} security={}",
                            line_listener->tls_port(), config.line_security);
    std::lock_guard lock(line_holder->mutex);
    line_holder->listener = std::move(line_listener);
  }
  caf::anon_send(security_actor,
                 actors::reloader_message{
                     [&listeners, line_holder, line_level, sip_server](
                         const security::security_settings& settings,
                         const actors::pki_state& pki) -> std::expected<void, std::string> {
                       auto reloaded = listeners.reload(settings, pki);
                       if (reloaded)
                         if (auto context = sip_tls_context(pki))
                           sip_server->set_tls_context(*context);
                       std::lock_guard lock(line_holder->mutex);
                       if (reloaded && line_holder->listener)
                         return line_holder->listener->apply(line_level, line_material(pki));
                       return reloaded;
                     }});
  if (auto applied = listeners.reload(settings_at_start, pki_at_start); !applied) {
    {
      std::lock_guard lock(line_holder->mutex);
      line_holder->listener.reset();
    }
    listeners.stop();
    server->Shutdown(std::chrono::system_clock::now());
    stop_actors();
    return fail("admin", applied.error());
  }

  // Lines this node dials (SPEC TOP-5): each on its own thread, reconnecting by itself.
  cluster::dial_fn dial =
      [](const std::string& host, std::uint16_t port,
         std::shared_ptr<SSL_CTX> ctx) -> std::expected<cluster::dialed_connection, std::string> {
    auto address = resolve_address(host);
    if (!address)
      return std::unexpected(address.error());
    auto connection =
        tls_client_connection::connect(*address, port, std::move(ctx), std::chrono::seconds(5));
    if (!connection)
      return std::unexpected(connection.error());
    cluster::dialed_connection dialed;
    dialed.grpc_fd = (*connection)->grpc_fd();
    dialed.peer_chain = (*connection)->peer_chain();
    dialed.exporter_hex = (*connection)->exporter_hex();
    dialed.keepalive = std::shared_ptr<tls_client_connection>(std::move(*connection));
    return dialed;
  };
  std::vector<std::unique_ptr<cluster::line_dialer>> dialers;
  for (const auto& peer : config.lines)
    dialers.push_back(std::make_unique<cluster::line_dialer>(
        *actor_system, hub, cluster::line_target{peer.name, peer.address, peer.port}, dial,
        random));

  server->GetHealthCheckService()->SetServingStatus(true);
  log->info("event=ready node={} role={} status={} metrics={}", config.name, to_string(config.role),
            listeners.status_endpoint(), metrics_endpoint);

  int signal_number = wait_for_stop_signal();
  auto stop_started = std::chrono::steady_clock::now();
  log->info("event=stopping signal={}", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");

  server->GetHealthCheckService()->SetServingStatus(false);
  dialers.clear();
  {
    std::lock_guard lock(in_process->mutex);
    in_process->channel.reset();
  }
  {
    std::lock_guard lock(line_holder->mutex);
    line_holder->listener.reset();
  }
  listeners.stop();
  // The actors go first: handlers still waiting for them get an error and return, so the
  // gRPC shutdown below does not wait on them. Line actors close their streams as the
  // cluster actor goes.
  stop_actors();
  server->Shutdown(std::chrono::system_clock::now() + grpc_shutdown_grace);
  {
    // Shutdown cancelled what was still running; wait for the proxy threads to see it.
    std::unique_lock lock(in_process->mutex);
    in_process->idle.wait_for(lock, std::chrono::seconds(5),
                              [&] { return in_process->in_flight == 0; });
    in_process->channel.reset();
  }
  server.reset();
  exposer.reset();
  actor_system.reset();
  syslog_sender.reset();
  int exit_code = 0;
  for (auto* sealed : {security_store.get(), config_store.get()})
    if (auto flushed = sealed->flush(); !flushed) {
      log->error("event=store_flush_failed reason={}", log_value(flushed.error().detail));
      exit_code = 1;
    }
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
