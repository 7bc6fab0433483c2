#include "node/node_steps.hpp"

#include "cluster/syslog.hpp"
#include "cluster/tls_client.hpp"
#include "core/hex.hpp"
#include "core/net_address.hpp"
#include "node/admin/admin_service.hpp"
#include "node/admin/gateway.hpp"
#include "node/logging.hpp"
#include "node/service_steps.hpp"
#include "node/tls_material.hpp"
#include "pki/tls_policy.hpp"

#include <caf/send.hpp>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/health_check_service_interface.h>

#include <arpa/inet.h>
#include <array>
#include <fstream>
#include <future>
#include <netdb.h>
#include <sstream>
#include <sys/stat.h>

#ifndef WARD_VERSION
#error "WARD_VERSION must be defined by the build"
#endif

namespace ward::node {
namespace {

constexpr auto grpc_shutdown_grace = std::chrono::seconds(2);

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

/// What the line listener presents: the node identity (and chain, SPEC PKI-6), asking
/// every dialling node for its certificate, which the line actor grades (SPEC LINE-1).
pki::tls_server_material line_material(const security::security_settings& settings,
                                       const actors::pki_state& pki) {
  auto material = identity_material(settings, pki);
  material.request_client_certificate = true;
  return material;
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

/// 32 random bytes as lowercase hex.
std::string random_hex_key(const random_source& random) {
  std::array<std::byte, 32> bytes{};
  random(bytes);
  return to_hex(std::span<const std::byte>(bytes));
}

/// Runs a call the primary proxies to this node against the node's own server, marked
/// with `proxy_key` so the server honours the proxied user (SPEC TOP-2).
cluster::proxy_outcome run_proxied_call(in_process_holder& in_process, const std::string& proxy_key,
                                        const cluster::proxy_invocation& call) {
  std::shared_ptr<grpc::Channel> channel;
  {
    std::lock_guard lock(in_process.mutex);
    channel = in_process.channel;
    if (channel)
      ++in_process.in_flight;
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
  } finished{in_process};
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
  cluster::proxy_outcome outcome{static_cast<int>(status.error_code()), status.error_message(), {}};
  std::vector<grpc::Slice> slices;
  if (status.ok() && response.Dump(&slices).ok())
    for (const auto& part : slices)
      outcome.payload.append(reinterpret_cast<const char*>(part.begin()), part.size());
  return outcome;
}

/// Tears down what start_listeners opened when a later start step fails.
void close_listeners(running_node& node) {
  node.listeners->stop();
  node.server->Shutdown(std::chrono::system_clock::now());
  node.stop_actors();
}

} // namespace

running_node::running_node(const node_config& configuration)
    : config(configuration), version(WARD_VERSION) {}

void running_node::stop_actors() {
  if (sip_server)
    sip_server->stop();
  caf::anon_send_exit(line_actor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(fraud_actor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(status, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(security_actor, caf::exit_reason::user_shutdown);
}

start_result<> prepare_data_dir(const node_config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec)
    return start_failed("node", "cannot create data directory: " + ec.message());
  ::chmod(config.data_dir.c_str(), 0700);
  return {};
}

start_result<> open_node_store(running_node& node) {
  node.random = system_random();
  auto store = storage::kv_store::open(node.config.data_dir / "store");
  if (!store)
    return start_failed("store", store.error().detail);
  node.store = std::move(*store);
  auto starts = record_start(*node.store, node.wall_clock.now());
  if (!starts)
    return start_failed("store", starts.error().detail);
  node.starts = *starts;
  return {};
}

start_result<pki::node_identity> load_identity(running_node& node) {
  pki::identity_store identities(node.config.data_dir / "certificates");
  auto identity =
      identities.load_or_create(node.config.hostname, node.wall_clock.now(), node.random);
  if (!identity)
    return start_failed("pki", identity.error().detail);
  auto pki_log = logger("pki");
  if (identity->origin == pki::identity_origin::recreated)
    pki_log->warn("event=identity_recreated reason={} subject={}",
                  log_value(identity->replaced_because), log_value(identity->cert.subject()));
  else
    pki_log->info("event=identity_{} subject={} days_until_expiry={}", to_string(identity->origin),
                  log_value(identity->cert.subject()),
                  identity->cert.days_until_expiry(node.wall_clock.now()));
  return std::move(*identity);
}

start_result<> open_security_stores(running_node& node) {
  const auto& data_dir = node.config.data_dir;
  auto key = security::node_key::load_or_create(data_dir / "keys" / "node.key", node.random);
  if (!key)
    return start_failed("security", key.error().detail);
  std::string open_error;
  node.security_store = open_sealed(data_dir / "security", *key, node.random, open_error);
  if (!node.security_store)
    return start_failed("security", open_error);
  node.config_store = open_sealed(data_dir / "config", *key, node.random, open_error);
  if (!node.config_store)
    return start_failed("config", open_error);
  std::error_code ec;
  std::filesystem::create_directories(data_dir / "audit", ec);
  auto audit = security::audit_log::open(data_dir / "audit" / "audit.log", node.wall_clock);
  if (!audit)
    return start_failed("audit", audit.error().detail);
  node.audit_trail = std::move(*audit);
  check_audit_anchor(*node.audit_trail, *node.security_store);
  // SPEC TF-8: the call record log beside the trail, open before a call can end and before
  // the line actor that forwards it starts.
  auto records =
      call_record_writer::start(data_dir / "audit" / "call-records.log", node.wall_clock, nullptr);
  if (!records)
    return start_failed("call records", records.error());
  node.call_records = std::move(*records);
  return {};
}

start_result<stored_state> load_stored_state(running_node& node,
                                             const pki::node_identity& identity) {
  auto database =
      load_security(*node.security_store, *node.audit_trail, node.wall_clock.now(), node.random);
  if (!database)
    return start_failed("security", database.error());
  auto directory = load_directory(*node.config_store, node.config);
  if (!directory)
    return start_failed("config", directory.error());
  auto pki = bootstrap_pki(node.config, *node.security_store, identity, database->settings(),
                           *node.audit_trail, node.wall_clock.now(), node.random);
  if (!pki)
    return start_failed("pki", pki.error());
  if (auto pending = database->ignition_pending(); !pending.empty())
    logger("security")
        ->warn("event=first_start_gate pending={}",
               log_value(std::to_string(pending.size()) + " default passwords must be changed"));
  return stored_state{std::move(*database), std::move(*directory), std::move(*pki)};
}

void start_actor_system(running_node& node, const stored_state& state) {
  const auto& config = node.config;
  node.current_identity = std::make_shared<pki::current_certificate>(state.pki.identity);
  node.actor_config.emplace();
  node.actor_config->set("scheduler.max-threads", 2);
  node.actor_system.emplace(*node.actor_config);
  node.status = actors::spawn_status_actor(
      *node.actor_system,
      actors::node_facts{config.name, config.role, node.version, config.hostname,
                         node.starts.start_count, node.current_identity},
      node.wall_clock);
  node.settings_at_start = state.database.settings();
  node.pki_at_start = state.pki;
}

start_result<> prepare_cluster(running_node& node) {
  const auto& config = node.config;
  if (!config.line_password_file.empty()) {
    auto secret = read_secret_file(config.line_password_file);
    if (!secret)
      return start_failed("cluster", secret.error());
    node.line_password = std::move(*secret);
  }
  auto line_security = cluster::parse_line_security(config.line_security);
  if (!line_security)
    return start_failed("cluster", "unknown line security " + config.line_security);
  node.line_security = *line_security;
  auto cluster_store = storage::kv_store::open(config.data_dir / "cluster");
  if (!cluster_store)
    return start_failed("cluster", cluster_store.error().detail);
  node.cluster_store = std::move(*cluster_store);
  if (config.role == node_role::primary)
    node.forwarded_events = std::make_shared<cluster::event_store>(node.cluster_store);
  for (const auto& receiver : syslog_receivers_of(config)) {
    cluster::syslog_tls_config syslog_config;
    syslog_config.address = receiver.address;
    syslog_config.port = receiver.port;
    syslog_config.transport = cluster::parse_syslog_transport(receiver.transport)
                                  .value_or(cluster::syslog_transport::tls);
    if (syslog_config.transport == cluster::syslog_transport::tls) {
      std::ifstream ca_in(receiver.ca_file);
      std::ostringstream ca_text;
      ca_text << ca_in.rdbuf();
      syslog_config.trusted_ca_pem = ca_text.str();
      syslog_config.expected_name = receiver.server_name;
    }
    if (auto checked = cluster::syslog_tls_sender::check_config(syslog_config); !checked)
      return start_failed("syslog", join_host_port(receiver.address, receiver.port) + ": " +
                                        checked.error().detail);
    // Started with the cluster, once the security actor can hear of its failures.
    node.syslog_configs.push_back(std::move(syslog_config));
  }
  if (auto held = node.security_store->get(actors::settings_version_record); held && *held)
    node.settings_version = std::strtoull((*held)->c_str(), nullptr, 10);
  return {};
}

void spawn_security(running_node& node, stored_state state) {
  const auto& config = node.config;
  node.directory_copies = std::make_shared<directory_feed>();
  node.directory_copies->publish(state.directory.data());
  actors::security_actor_deps security_deps{std::move(state.database), std::move(state.directory),
                                            std::move(state.pki),      node.security_store,
                                            node.config_store,         node.audit_trail,
                                            &node.wall_clock,          node.random};
  security_deps.settings_writer = config.role == node_role::primary;
  security_deps.node_name = config.name;
  security_deps.settings_version = node.settings_version;
  security_deps.refer_logins = config.role == node_role::appserver;
  security_deps.fallback_account = config.fallback_account;
  security_deps.counters = node.security_counts;
  security_deps.publish_directory =
      [directory_copies = node.directory_copies](const telephony::telephony_directory_data& data) {
        directory_copies->publish(data);
      };
  node.security_actor =
      actors::spawn_security_db_actor(*node.actor_system, std::move(security_deps));
}

void spawn_cluster(running_node& node) {
  const auto& config = node.config;
  node.cluster_view = std::make_shared<cluster::cluster_view>();
  cluster::line_actor_options cluster_options;
  cluster_options.node = config.name;
  cluster_options.role = config.role;
  cluster_options.line_password = node.line_password;
  cluster_options.security = node.line_security;
  cluster_options.writer = config.role == node_role::primary;
  cluster_options.software_version = node.version;
  cluster_options.security_actor = node.security_actor;
  cluster_options.audit = node.audit_trail;
  cluster_options.call_records = node.call_records->log();
  cluster_options.store = node.cluster_store;
  cluster_options.events = node.forwarded_events;
  cluster_options.view = node.cluster_view;
  cluster_options.time = &node.wall_clock;
  cluster_options.random = node.random;
  for (auto& syslog_config : node.syslog_configs) {
    syslog_config.on_failure = [security_actor = node.security_actor](const std::string& receiver,
                                                                      const std::string& cause) {
      logger("syslog")->warn("event=syslog_send_failed receiver={} cause={}", receiver,
                             log_value(cause));
      caf::anon_send(security_actor, actors::tls_failure_report{"syslog", receiver, cause});
    };
    node.syslog_senders.push_back(std::make_shared<cluster::syslog_tls_sender>(syslog_config));
  }
  if (!node.syslog_senders.empty())
    cluster_options.event_sink = [senders = node.syslog_senders, hostname = config.hostname](
                                     const std::string& node_name,
                                     const security::audit_record& record) {
      auto message = cluster::format_rfc5424(syslog_event_of(hostname, node_name, record));
      for (const auto& sender : senders)
        sender->enqueue(message);
    };
  node.in_process = std::make_shared<in_process_holder>();
  node.proxy_key = random_hex_key(node.random);
  cluster_options.proxy_executor = [in_process = node.in_process, proxy_key = node.proxy_key](
                                       const cluster::proxy_invocation& call) {
    return run_proxied_call(*in_process, proxy_key, call);
  };
  node.sip_slot = std::make_shared<sip_slot_holder>();
  auto sip_slot = node.sip_slot;
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
  cluster_options.apply_locations = [sip_slot](const std::string& peer,
                                               std::vector<std::string> extensions) {
    std::lock_guard lock(sip_slot->mutex);
    if (auto service = sip_slot->service.lock())
      service->apply_locations(peer, std::move(extensions));
  };
  // SPEC TF-10: fraud counters; their local holds reach the SIP service once it exists.
  actors::fraud_actor_deps fraud;
  fraud.node = config.name;
  fraud.authoritative = config.role == node_role::primary;
  fraud.time = &node.wall_clock;
  fraud.directory = [feed = node.directory_copies] { return feed->current(); };
  fraud.security_actor = node.security_actor;
  fraud.apply_holds = [sip_slot](telephony::fraud_holds holds) {
    std::lock_guard lock(sip_slot->mutex);
    if (auto service = sip_slot->service.lock())
      service->set_fraud_holds(std::move(holds));
  };
  fraud.counters = node.fraud_counts;
  node.fraud_actor = actors::spawn_fraud_actor(*node.actor_system, std::move(fraud));
  cluster_options.fraud_actor = node.fraud_actor;
  node.line_actor = cluster::spawn_line_actor(*node.actor_system, std::move(cluster_options));
  caf::anon_send(node.fraud_actor, actors::fraud_link{node.line_actor});
}

start_result<> start_metrics(running_node& node) {
  const auto& config = node.config;
  try {
    node.exposer = std::make_unique<prometheus::Exposer>(
        join_host_port(config.listen_address, config.metrics_port), 2);
  } catch (const std::exception& e) {
    node.stop_actors();
    return start_failed("metrics", e.what());
  }
  node.metrics = std::make_shared<node_metrics>(config.name, config.role, node.version,
                                                node.starts.start_count, node.current_identity,
                                                node.wall_clock, *node.actor_system);
  node.exposer->RegisterCollectable(node.metrics);
  node.line_metrics = std::make_shared<cluster_metrics>(node.cluster_view);
  node.exposer->RegisterCollectable(node.line_metrics);
  if (node.sip_server) {
    node.telephony_metrics = std::make_shared<sip_metrics>(node.sip_server);
    node.exposer->RegisterCollectable(node.telephony_metrics);
  }
  if (node.syslog_intake) {
    node.syslog_intake_counts = std::make_shared<syslog_intake_metrics>(node.syslog_intake);
    node.exposer->RegisterCollectable(node.syslog_intake_counts);
  }
  node.security_event_metrics = std::make_shared<security_metrics>(node.security_counts);
  node.exposer->RegisterCollectable(node.security_event_metrics);
  node.fraud_event_metrics = std::make_shared<fraud_metrics>(node.fraud_counts);
  node.exposer->RegisterCollectable(node.fraud_event_metrics);
  node.metrics_endpoint =
      join_host_port(config.listen_address, node.exposer->GetListeningPorts().front());
  logger("metrics")->info("event=listening service=metrics path=/metrics endpoint={}",
                          node.metrics_endpoint);
  return {};
}

start_result<> start_admin_server(running_node& node) {
  const auto& config = node.config;
  // One gRPC server without ports of its own: Ward's listeners hand it each connection
  // once the service's level has admitted it.
  grpc::EnableDefaultHealthCheckService(true);
  auto& connections = node.connections;
  node.admin =
      make_admin_service(*node.actor_system, node.status, [&connections](const std::string& peer) {
        auto info = connections.find_by_peer(peer);
        return info && info->service == line_service_name;
      });
  grpc::ServerBuilder builder;
  // Idle administrative connections are closed, so nobody can hold the listeners' slots
  // indefinitely; clients reconnect transparently.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 5 * 60 * 1000);
  builder.RegisterService(node.admin.get());
  node.listeners.emplace(config, connections, node.metrics_endpoint, node.security_actor,
                         node.wall_clock, node.current_identity);
  node.api = make_admin_api(admin_api_context{
      *node.actor_system, node.security_actor, connections, *node.listeners, node.audit_trail,
      node.security_store, node.cluster_view, node.forwarded_events, node.line_actor,
      node.proxy_key, node.sip_server, security::production_argon2_cost,
      node.call_records ? node.call_records->log() : nullptr});
  for (auto& service : node.api)
    builder.RegisterService(service.get());
  // Lines arrive on their own listener; its connections are the only ones the Line
  // service accepts, and the admin services refuse them.
  node.serves_lines = is_line_server(config.role) && !node.line_password.empty();
  if (node.serves_lines) {
    node.line_api = std::make_unique<cluster::line_service>(
        *node.actor_system, node.line_actor,
        [&connections](const std::string& peer) -> std::optional<cluster::line_connection_facts> {
          auto info = connections.find_by_peer(peer);
          if (!info || info->service != line_service_name || !info->tls)
            return std::nullopt;
          return cluster::line_connection_facts{info->peer_address, info->tls_exporter,
                                                info->client_chain_pem};
        });
    builder.RegisterService(node.line_api.get());
  } else if (is_line_server(config.role)) {
    logger("node")->warn("event=lines_disabled reason=\"no cluster.line_password_file\"");
  }
  node.server = builder.BuildAndStart();
  if (!node.server) {
    node.stop_actors();
    return start_failed("admin", "gRPC server did not start");
  }
  return {};
}

start_result<> start_listeners(running_node& node) {
  const auto& config = node.config;
  {
    std::lock_guard lock(node.in_process->mutex);
    node.in_process->channel = node.server->InProcessChannel(grpc::ChannelArguments());
  }
  auto& listeners = *node.listeners;
  listeners.start(*node.server);
  auto sip_port = [&](std::uint16_t port) { return join_host_port(config.listen_address, port); };
  if (node.sip_server) {
    const auto& open = config.sip;
    if (open.udp)
      listeners.add_endpoint("sip_udp", sip_port(node.sip_server->udp_port()));
    if (open.tcp)
      listeners.add_endpoint("sip_tcp", sip_port(node.sip_server->tcp_port()));
    if (open.tls)
      listeners.add_endpoint("sip_tls", sip_port(node.sip_server->tls_port()));
  }
  if (node.syslog_intake) {
    const auto& open = config.syslog_intake;
    if (open.tls)
      listeners.add_endpoint("syslog_tls", sip_port(node.syslog_intake->tls_port()));
    if (open.tcp)
      listeners.add_endpoint("syslog_tcp", sip_port(node.syslog_intake->tcp_port()));
    if (open.udp)
      listeners.add_endpoint("syslog_udp", sip_port(node.syslog_intake->udp_port()));
  }
  node.line_level = node.line_security == cluster::line_security::high
                        ? pki::service_security_level::secure_high
                        : pki::service_security_level::secure_medium;
  node.line_holder = std::make_shared<line_listener_holder>();
  if (!node.serves_lines)
    return {};
  auto line_listener = std::make_unique<service_listener>(
      std::string(line_service_name), config.listen_address, 0, config.line_port, *node.server,
      node.connections, [security_actor = node.security_actor](const tls_failure& failure) {
        logger("tls")->warn("event=tls_handshake_failed service=line peer={} cause={}",
                            failure.peer_address, log_value(failure.cause));
        caf::anon_send(security_actor, actors::tls_failure_report{
                                           failure.service, failure.peer_address, failure.cause});
      });
  if (auto applied = line_listener->apply(
          node.line_level, line_material(*node.settings_at_start, *node.pki_at_start),
          node.settings_at_start->certificates.minimum_tls);
      !applied) {
    line_listener.reset();
    close_listeners(node);
    return start_failed("cluster", "line listener: " + applied.error());
  }
  listeners.add_endpoint("line", join_host_port(config.listen_address, line_listener->tls_port()));
  logger("cluster")->info("event=listening service=line port={} security={}",
                          line_listener->tls_port(), config.line_security);
  std::lock_guard lock(node.line_holder->mutex);
  node.line_holder->listener = std::move(line_listener);
  return {};
}

start_result<> apply_security_levels(running_node& node) {
  node.listeners->follow_with(
      [line_holder = node.line_holder, line_level = node.line_level, sip_server = node.sip_server,
       syslog_senders = node.syslog_senders, syslog_intake = node.syslog_intake,
       &time = node.wall_clock](const security::security_settings& settings,
                                const actors::pki_state& pki) -> std::expected<void, std::string> {
        for (const auto& sender : syslog_senders)
          sender->set_minimum_tls(settings.certificates.minimum_tls);
        if (syslog_intake && syslog_intake->tls_port() != 0) {
          auto tls = syslog_intake_tls(settings, pki, time);
          if (!tls)
            return std::unexpected(tls.error());
          syslog_intake->set_tls(tls->first, tls->second);
        }
        if (sip_server) {
          auto tls = sip_tls(settings, pki, time);
          if (!tls)
            return std::unexpected(tls.error());
          sip_server->set_tls(tls->first, tls->second);
        }
        std::lock_guard lock(line_holder->mutex);
        if (!line_holder->listener)
          return {};
        return line_holder->listener->apply(line_level, line_material(settings, pki),
                                            settings.certificates.minimum_tls);
      });
  caf::anon_send(node.security_actor,
                 actors::reloader_message{
                     [&listeners = *node.listeners](const security::security_settings& settings,
                                                    const actors::pki_state& pki) {
                       return listeners.reload(settings, pki);
                     }});
  if (auto applied = node.listeners->reload(*node.settings_at_start, *node.pki_at_start);
      !applied) {
    {
      std::lock_guard lock(node.line_holder->mutex);
      node.line_holder->listener.reset();
    }
    close_listeners(node);
    return start_failed("admin", applied.error());
  }
  return {};
}

void start_dialers(running_node& node) {
  // Each line on its own thread, reconnecting by itself.
  cluster::dial_fn dial = [](const std::string& host, std::uint16_t port,
                             std::shared_ptr<SSL_CTX> ctx)
      -> std::expected<cluster::dialed_connection, cluster::error> {
    auto address = resolve_address(host);
    if (!address)
      return std::unexpected(cluster::error{cluster::errc::connect_failed, address.error()});
    auto connection = cluster::tls_client_connection::connect(*address, port, std::move(ctx),
                                                              std::chrono::seconds(5));
    if (!connection)
      return std::unexpected(connection.error());
    cluster::dialed_connection dialed;
    dialed.grpc_fd = (*connection)->grpc_fd();
    dialed.peer_chain = (*connection)->peer_chain();
    dialed.exporter_hex = (*connection)->exporter_hex();
    dialed.keepalive = std::shared_ptr<cluster::tls_client_connection>(std::move(*connection));
    return dialed;
  };
  for (const auto& peer : node.config.lines)
    node.dialers.push_back(std::make_unique<cluster::line_dialer>(
        *node.actor_system, node.line_actor,
        cluster::line_target{peer.name, peer.address, peer.port}, dial, node.random));
}

int stop_node(running_node& node) {
  auto log = logger("node");
  node.server->GetHealthCheckService()->SetServingStatus(false);
  node.dialers.clear();
  {
    std::lock_guard lock(node.in_process->mutex);
    node.in_process->channel.reset();
  }
  {
    std::lock_guard lock(node.line_holder->mutex);
    node.line_holder->listener.reset();
  }
  node.listeners->stop();
  // What the receiver already took is written before the stores close.
  node.syslog_intake.reset();
  // The actors go first: handlers still waiting for them get an error and return, so the
  // gRPC shutdown below does not wait on them. Line actors close their streams as the
  // cluster actor goes.
  node.stop_actors();
  node.server->Shutdown(std::chrono::system_clock::now() + grpc_shutdown_grace);
  {
    // Shutdown cancelled what was still running; wait for the proxy threads to see it.
    std::unique_lock lock(node.in_process->mutex);
    node.in_process->idle.wait_for(lock, std::chrono::seconds(5),
                                   [&] { return node.in_process->in_flight == 0; });
    node.in_process->channel.reset();
  }
  node.server.reset();
  node.exposer.reset();
  node.actor_system.reset();
  node.syslog_senders.clear();
  int exit_code = 0;
  for (auto* sealed : {node.security_store.get(), node.config_store.get()})
    if (auto flushed = sealed->flush(); !flushed) {
      log->error("event=store_flush_failed reason={}", log_value(flushed.error().detail));
      exit_code = 1;
    }
  if (auto flushed = node.store->flush(); !flushed) {
    log->error("event=store_flush_failed reason={}", log_value(flushed.error().detail));
    exit_code = 1;
  }
  node.store.reset();
  return exit_code;
}

} // namespace ward::node
