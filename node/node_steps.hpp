#pragma once

#include "node/call_record_writer.hpp"

#include "actors/fraud_actor.hpp"
#include "actors/security_db_actor.hpp"
#include "actors/status_actor.hpp"
#include "cluster/line_actor.hpp"
#include "cluster/line_transport.hpp"
#include "cluster/syslog_sender.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "node/config.hpp"
#include "node/listener_set.hpp"
#include "node/metrics.hpp"
#include "node/service_listener.hpp"
#include "node/sip_service.hpp"
#include "node/start_record.hpp"
#include "node/stored_state.hpp"
#include "node/syslog_listener.hpp"
#include "pki/identity_store.hpp"
#include "security/audit_log.hpp"
#include "security/sealed_store.hpp"
#include "storage/kv_store.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <grpcpp/grpcpp.h>
#include <prometheus/exposer.h>

#include <condition_variable>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::node {

/// Why a node did not start: the component its `start_failed` log line names, and why.
struct start_failure {
  std::string_view component;
  std::string reason;
};

/// What a start step reports: nothing, or why the node cannot start.
template <class T = void> using start_result = std::expected<T, start_failure>;

/// A step's report that `component` cannot start, and why.
inline std::unexpected<start_failure> start_failed(std::string_view component, std::string reason) {
  return std::unexpected(start_failure{component, std::move(reason)});
}

/// Calls the primary proxies to this node run against the node's own server through an
/// in-process channel, which exists once the server does (SPEC TOP-2).
struct in_process_holder {
  std::mutex mutex;
  std::condition_variable idle;
  std::shared_ptr<grpc::Channel> channel;
  /// Proxied calls running; the server is destroyed only once none is.
  int in_flight = 0;
};

/// Blacklistings other nodes made reach this node's SIP guard once it exists (SPEC SIP-4).
struct sip_slot_holder {
  std::mutex mutex;
  std::weak_ptr<sip_service> service;
};

/// Shared with the reloader, which runs on the security actor's thread: the listener is
/// taken away under the lock at stop, never destroyed under a reload.
struct line_listener_holder {
  std::mutex mutex;
  std::unique_ptr<service_listener> listener;
};

/// Everything a running node started, in start order. Each start step fills in its part;
/// members go in reverse order, so whatever a failed start leaves behind is torn down as
/// a stopped node's is. Not movable: listeners and callbacks hold references into it.
struct running_node {
  explicit running_node(const node_config& configuration);
  running_node(const running_node&) = delete;
  running_node& operator=(const running_node&) = delete;

  /// Stops SIP, then the cluster, status and security actors (asynchronously).
  void stop_actors();

  const node_config& config;
  const std::string version;
  system_clock wall_clock;
  random_source random;
  std::unique_ptr<storage::kv_store> store;
  start_record starts;
  // Security settings and configuration: separate stores, both sealed under the node key
  // (SPEC SEC-1); the audit trail beside them (SPEC MON-1).
  std::shared_ptr<security::sealed_store> security_store;
  std::shared_ptr<security::sealed_store> config_store;
  std::shared_ptr<security::audit_log> audit_trail;
  std::shared_ptr<pki::current_certificate> current_identity;
  std::optional<caf::actor_system_config> actor_config;
  std::optional<caf::actor_system> actor_system;
  actors::status_actor status;
  std::optional<security::security_settings> settings_at_start;
  std::optional<actors::pki_state> pki_at_start;
  // The cluster (SPEC section 6).
  std::string line_password;
  cluster::line_security line_security{};
  std::shared_ptr<storage::kv_store> cluster_store;
  std::shared_ptr<cluster::event_store> forwarded_events;
  /// One sender per syslog receiver (SPEC MON-2), each with its own queue and connection.
  std::vector<cluster::syslog_tls_config> syslog_configs;
  std::vector<std::shared_ptr<cluster::syslog_tls_sender>> syslog_senders;
  std::uint64_t settings_version = 0;
  /// The registrar reads the telephony directory from a feed the security actor refreshes.
  std::shared_ptr<directory_feed> directory_copies;
  caf::actor security_actor;
  std::shared_ptr<cluster::cluster_view> cluster_view;
  std::shared_ptr<in_process_holder> in_process;
  std::string proxy_key;
  std::shared_ptr<sip_slot_holder> sip_slot;
  caf::actor line_actor;
  /// SPEC TF-10: the fraud counters; on the primary they decide for the cluster.
  caf::actor fraud_actor;
  std::shared_ptr<actors::fraud_counters> fraud_counts = std::make_shared<actors::fraud_counters>();
  /// SPEC TF-8: the node's call records; outlives the SIP service that feeds it.
  std::unique_ptr<call_record_writer> call_records;
  std::shared_ptr<sip_service> sip_server;
  /// The primary's receiver of syslog from devices (SPEC TOP-2, MON-2); null when off.
  std::shared_ptr<syslog_listener> syslog_intake;
  std::unique_ptr<prometheus::Exposer> exposer;
  // The exposer holds collectables weakly: these live as long as the node.
  std::shared_ptr<node_metrics> metrics;
  std::shared_ptr<cluster_metrics> line_metrics;
  std::shared_ptr<sip_metrics> telephony_metrics;
  std::shared_ptr<syslog_intake_metrics> syslog_intake_counts;
  std::shared_ptr<security::security_counters> security_counts =
      std::make_shared<security::security_counters>();
  std::shared_ptr<security_metrics> security_event_metrics;
  std::shared_ptr<fraud_metrics> fraud_event_metrics;
  std::string metrics_endpoint;
  connection_registry connections;
  std::unique_ptr<grpc::Service> admin;
  std::optional<listener_set> listeners;
  std::vector<std::unique_ptr<grpc::Service>> api;
  bool serves_lines = false;
  std::unique_ptr<cluster::line_service> line_api;
  std::unique_ptr<grpc::Server> server;
  pki::service_security_level line_level{};
  std::shared_ptr<line_listener_holder> line_holder;
  std::vector<std::unique_ptr<cluster::line_dialer>> dialers;
};

// The start steps, in the order run_node calls them. A step that fails has undone what
// it started itself and says which component failed.

/// Creates the data directory, readable by the node's user only.
start_result<> prepare_data_dir(const node_config& config);
/// Opens the node's own store and counts this start in it.
start_result<> open_node_store(running_node& node);
/// Loads the node identity, or creates a self-signed one (SPEC PKI-5, PKI-11).
start_result<pki::node_identity> load_identity(running_node& node);
/// Opens the sealed security and configuration stores and the audit trail, and checks
/// the trail against its anchor.
start_result<> open_security_stores(running_node& node);
/// Loads the security settings, the telephony directory and the certificate state.
start_result<stored_state> load_stored_state(running_node& node,
                                             const pki::node_identity& identity);
/// Starts the actor system and the status actor.
void start_actor_system(running_node& node, const stored_state& state);
/// Reads what the cluster needs before anything serves: the line password, the line
/// security, the cluster store and event store, the syslog receiver.
start_result<> prepare_cluster(running_node& node);
/// Spawns the security database actor over the stored state.
void spawn_security(running_node& node, stored_state state);
/// Spawns the node's cluster actor, wired to the in-process channel and the SIP service.
void spawn_cluster(running_node& node);
/// Starts the media relay and the SIP service.
start_result<> start_sip(running_node& node);
/// Opens the primary's syslog receiver on the transports its configuration lists.
start_result<> start_syslog_intake(running_node& node);
/// Serves /metrics.
start_result<> start_metrics(running_node& node);
/// Builds and starts the gRPC server with the admin services and the Line service.
start_result<> start_admin_server(running_node& node);
/// Opens the administrative listeners and the line listener over the started server.
start_result<> start_listeners(running_node& node);
/// Hands the security actor the TLS reloader and applies the stored levels and material.
start_result<> apply_security_levels(running_node& node);
/// Starts dialling the lines this node opens (SPEC TOP-5).
void start_dialers(running_node& node);
/// Stops everything in reverse start order and flushes the stores; the exit code.
int stop_node(running_node& node);

} // namespace ward::node
