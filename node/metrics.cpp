#include "node/metrics.hpp"

#include <algorithm>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <map>
#include <prometheus/metric_family.h>

namespace ward::node {
namespace {

prometheus::MetricFamily gauge(std::string name, std::string help, double value,
                               std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  return prometheus::MetricFamily{
      std::move(name), std::move(help), prometheus::MetricType::Gauge, {std::move(metric)}};
}

/// One gauge family with a series per label set.
prometheus::MetricFamily
gauges(std::string name, std::string help,
       const std::vector<std::pair<std::vector<prometheus::ClientMetric::Label>, double>>& series) {
  prometheus::MetricFamily family{
      std::move(name), std::move(help), prometheus::MetricType::Gauge, {}};
  for (const auto& [labels, value] : series) {
    prometheus::ClientMetric metric;
    metric.label = labels;
    metric.gauge.value = value;
    family.metric.push_back(std::move(metric));
  }
  return family;
}

/// One counter family with a series per label set.
prometheus::MetricFamily counters(
    std::string name, std::string help,
    std::vector<std::pair<std::vector<prometheus::ClientMetric::Label>, std::uint64_t>> series) {
  prometheus::MetricFamily family{
      std::move(name), std::move(help), prometheus::MetricType::Counter, {}};
  for (auto& [labels, value] : series) {
    prometheus::ClientMetric metric;
    metric.label = std::move(labels);
    metric.counter.value = static_cast<double>(value);
    family.metric.push_back(std::move(metric));
  }
  return family;
}

} // namespace

node_metrics::node_metrics(std::string node_name, node_role role, std::string version,
                           std::uint64_t start_count,
                           std::shared_ptr<const pki::current_certificate> identity,
                           const clock& time, caf::actor_system& system)
    : node_name_(std::move(node_name)), role_(role), version_(std::move(version)),
      start_count_(start_count), identity_(std::move(identity)), time_(time), started_(time.now()),
      system_(system) {}

std::vector<prometheus::MetricFamily> node_metrics::Collect() const {
  auto now = time_.now();
  std::vector<prometheus::MetricFamily> families;
  families.push_back(gauge(
      "ward_build_info", "Ward build and node identity; always 1.", 1,
      {{"version", version_}, {"node", node_name_}, {"role", std::string(to_string(role_))}}));
  families.push_back(gauge("ward_uptime_seconds", "Seconds since the node started.",
                           std::chrono::duration<double>(now - started_).count()));
  families.push_back(gauge("ward_running_actors", "Actors running in the node's actor system.",
                           static_cast<double>(system_.registry().running())));
  families.push_back(gauge("ward_node_start_count", "Times this node's store has been opened.",
                           static_cast<double>(start_count_)));
  families.push_back(gauge(
      "ward_certificate_days_to_expiry", "Whole days until a certificate in use expires.",
      static_cast<double>(identity_->get().days_until_expiry(now)), {{"certificate", "identity"}}));
  return families;
}

security_metrics::security_metrics(std::shared_ptr<const security::security_counters> counters)
    : counters_(std::move(counters)) {}

std::vector<prometheus::MetricFamily> security_metrics::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  families.push_back(counters("ward_admin_logins_total",
                              "Administrative logins since the node started, by outcome.",
                              {{{{"outcome", "success"}}, counters_->logins_succeeded()},
                               {{{"outcome", "failure"}}, counters_->logins_failed()}}));
  families.push_back(counters("ward_account_lockouts_total",
                              "Service and telephony user accounts locked since the node started.",
                              {{{}, counters_->lockouts()}}));
  families.push_back(counters("ward_alarms_total", "Alarms raised since the node started.",
                              {{{}, counters_->alarms()}}));
  return families;
}

fraud_metrics::fraud_metrics(std::shared_ptr<const actors::fraud_counters> counters)
    : counters_(std::move(counters)) {}

std::vector<prometheus::MetricFamily> fraud_metrics::Collect() const {
  using telephony::fraud_action;
  using telephony::fraud_level;
  std::vector<std::pair<std::vector<prometheus::ClientMetric::Label>, std::uint64_t>> trips;
  for (auto level : {fraud_level::warning, fraud_level::critical})
    for (auto action : {fraud_action::alarm, fraud_action::bar_user, fraud_action::disable_trunk,
                        fraud_action::require_auth_code})
      trips.push_back({{{"level", std::string(telephony::to_string(level))},
                        {"action", std::string(telephony::to_string(action))}},
                       counters_->trips[actors::fraud_counters::index(level, action)].load()});
  std::vector<prometheus::MetricFamily> families;
  families.push_back(counters("ward_fraud_trips_total",
                              "Fraud rule levels reached on this node, by level and action "
                              "(TF-10).",
                              std::move(trips)));
  families.push_back(gauges("ward_fraud_rules", "Fraud threshold rules loaded.",
                            {{{}, static_cast<double>(counters_->rules.load())}}));
  families.push_back(gauges("ward_fraud_calls_metered",
                            "Outside calls up in the fraud counters of this node.",
                            {{{}, static_cast<double>(counters_->calls_up.load())}}));
  families.push_back(gauges("ward_fraud_local_holds",
                            "Users and trunks held on this node alone while its line to the "
                            "primary is down.",
                            {{{}, static_cast<double>(counters_->held.load())}}));
  return families;
}

sip_metrics::sip_metrics(std::shared_ptr<const sip_service> sip) : sip_(std::move(sip)) {}

std::vector<prometheus::MetricFamily> sip_metrics::Collect() const {
  auto counter = [](std::string name, std::string help, double value,
                    std::vector<prometheus::ClientMetric::Label> labels = {}) {
    prometheus::ClientMetric metric;
    metric.counter.value = value;
    metric.label = std::move(labels);
    return prometheus::MetricFamily{
        std::move(name), std::move(help), prometheus::MetricType::Counter, {std::move(metric)}};
  };
  auto lists = sip_->blacklists();
  std::vector<prometheus::MetricFamily> families;
  families.push_back(counter("ward_sip_datagrams_total", "SIP datagrams received.",
                             static_cast<double>(sip_->datagrams())));
  families.push_back(counter("ward_sip_malformed_total", "SIP messages dropped as malformed.",
                             static_cast<double>(sip_->malformed())));
  families.push_back(counter("ward_sip_guard_dropped_total",
                             "SIP datagrams the guard dropped before parsing.",
                             static_cast<double>(sip_->dropped())));
  families.push_back(gauge("ward_sip_registrations", "Current registrar bindings.",
                           static_cast<double>(sip_->bindings().size())));
  families.push_back(
      gauges("ward_sip_blacklisted", "Blacklisted addresses and extensions.",
             {{{{"kind", "address"}}, static_cast<double>(lists.addresses.size())},
              {{{"kind", "extension"}}, static_cast<double>(lists.extensions.size())}}));
  families.push_back(counter("ward_sip_user_agent_refused_total",
                             "SIP requests dropped for a refused User-Agent.",
                             static_cast<double>(sip_->refused_user_agents())));
  // SPEC MON-4, MED-4: calls and the media relay's capacity.
  const auto calls = sip_->calls();
  const auto direct = std::ranges::count_if(calls, &telephony::call_view::direct);
  families.push_back(gauges("ward_calls_active", "Calls in progress through the B2BUA.",
                            {{{{"media", "relayed"}},
                              static_cast<double>(calls.size() - static_cast<std::size_t>(direct))},
                             {{{"media", "direct"}}, static_cast<double>(direct)}}));
  // SPEC MED-4: every leg, secure or plain, relayed or direct.
  std::map<std::pair<std::string, std::string>, double> legs{{{"srtp", "relayed"}, 0},
                                                             {{"rtp", "relayed"}, 0},
                                                             {{"srtp", "direct"}, 0},
                                                             {{"rtp", "direct"}, 0}};
  for (const auto& call : calls)
    for (const auto* media : {&call.caller_media, &call.callee_media})
      legs[{media->starts_with("srtp") ? "srtp" : "rtp", call.direct ? "direct" : "relayed"}] += 1;
  std::vector<std::pair<std::vector<prometheus::ClientMetric::Label>, double>> leg_series;
  for (const auto& [key, count] : legs)
    leg_series.push_back({{{"media", key.first}, {"path", key.second}}, count});
  families.push_back(gauges("ward_call_legs_active",
                            "Legs of the calls in progress by media (srtp, rtp) and path (relayed, "
                            "direct).",
                            leg_series));
  families.push_back(counter("ward_calls_started_total", "Calls the B2BUA started.",
                             static_cast<double>(sip_->calls_started())));
  families.push_back(counter("ward_calls_direct_media_total",
                             "Calls started with media directly between the phones (MED-3).",
                             static_cast<double>(sip_->direct_calls())));
  families.push_back(counter("ward_calls_emergency_total",
                             "Calls to an emergency number (TF-2, MED-2).",
                             static_cast<double>(sip_->emergency_calls())));
  families.push_back(counter("ward_calls_answered_total", "Calls that were answered and ended.",
                             static_cast<double>(sip_->calls_answered())));
  // SPEC TF-3: every reason, zero included, so an alert can watch each.
  std::vector<std::pair<std::vector<prometheus::ClientMetric::Label>, std::uint64_t>> barred_series;
  const auto barred = sip_->barred_calls();
  for (std::size_t i = 0; i < barred.size(); ++i)
    barred_series.push_back(
        {{{"reason", std::string(telephony::to_string(static_cast<telephony::bar_reason>(i)))}},
         barred[i]});
  families.push_back(counters("ward_calls_barred_total",
                              "Calls the dial plan barred, by reason (TF-3).", barred_series));
  // SPEC TF-9: calls in progress through each trunk.
  std::map<std::string, double> per_trunk;
  for (const auto& name : sip_->trunk_names())
    per_trunk[name] = 0;
  for (const auto& call : calls)
    if (!call.trunk.empty())
      per_trunk[call.trunk] += 1;
  std::vector<std::pair<std::vector<prometheus::ClientMetric::Label>, double>> trunk_series;
  for (const auto& [name, count] : per_trunk)
    trunk_series.push_back({{{"trunk", name}}, count});
  families.push_back(gauges("ward_trunk_calls_active",
                            "Calls in progress through each trunk (TF-9).", trunk_series));
  auto [units, capacity] = sip_->media_capacity();
  families.push_back(gauges("ward_media_capacity_units",
                            "Media units in use and the maximum (SPEC MED-4: SRTP counts two).",
                            {{{{"kind", "used"}}, static_cast<double>(units)},
                             {{{"kind", "max"}}, static_cast<double>(capacity)}}));
  if (auto relay = sip_->relay()) {
    auto stats = relay->stats();
    families.push_back(gauge("ward_media_relay_sessions", "Media relay sessions in use.",
                             static_cast<double>(stats.active_sessions)));
    families.push_back(gauge("ward_media_relay_capacity", "Media relay sessions available.",
                             static_cast<double>(stats.max_sessions)));
    families.push_back(counter("ward_media_packets_relayed_total",
                               "RTP and RTCP packets relayed between call legs.",
                               static_cast<double>(stats.packets_relayed)));
    families.push_back(counter("ward_media_packets_dropped_total",
                               "RTP and RTCP packets dropped (wrong source, no peer, too long).",
                               static_cast<double>(stats.packets_dropped)));
    families.push_back(counter("ward_media_packets_wrong_source_total",
                               "Media packets from a source other than the signalled peer.",
                               static_cast<double>(stats.packets_from_wrong_source)));
    // SPEC MON-4, MED-5: SRTP packets protected, unprotected and failing authentication.
    families.push_back(counter(
        "ward_media_srtp_packets_total", "SRTP and SRTCP packets by what the relay did with them.",
        static_cast<double>(stats.packets_protected), {{"op", "protected"}}));
    for (auto [op, value] : {std::pair{"unprotected", stats.packets_unprotected},
                             std::pair{"auth_failed", stats.packets_auth_failed}}) {
      prometheus::ClientMetric metric;
      metric.label = {{"op", op}};
      metric.counter.value = static_cast<double>(value);
      families.back().metric.push_back(std::move(metric));
    }
  }
  return families;
}

cluster_metrics::cluster_metrics(std::shared_ptr<const cluster::cluster_view> view)
    : view_(std::move(view)) {}

std::vector<prometheus::MetricFamily> cluster_metrics::Collect() const {
  auto snapshot = view_->read();
  auto family = [](std::string name, std::string help) {
    return prometheus::MetricFamily{
        std::move(name), std::move(help), prometheus::MetricType::Gauge, {}};
  };
  auto line_up = family("ward_line_up", "1 while the line to the peer node is up, else 0.");
  auto lag = family("ward_replication_lag_versions",
                    "Replicated settings versions the peer node is behind this node.");
  auto latency = family("ward_replication_latency_ms",
                        "Commit-to-acknowledgement time of the newest version the peer acked.");
  auto events = family("ward_forwarded_events_stored",
                       "Highest audit sequence of the peer held by the primary without gaps.");
  for (const auto& member : snapshot.members) {
    std::vector<prometheus::ClientMetric::Label> labels{{"peer", member.name},
                                                        {"role", member.role}};
    auto add = [&](prometheus::MetricFamily& target, double value) {
      prometheus::ClientMetric metric;
      metric.label = labels;
      metric.gauge.value = value;
      target.metric.push_back(std::move(metric));
    };
    add(line_up, member.line_up ? 1 : 0);
    add(lag, snapshot.settings_version > member.settings_version
                 ? static_cast<double>(snapshot.settings_version - member.settings_version)
                 : 0);
    if (member.replication_ms >= 0)
      add(latency, member.replication_ms);
    add(events, static_cast<double>(member.events_stored));
  }
  std::vector<prometheus::MetricFamily> families;
  families.push_back(gauge("ward_settings_version",
                           "Version of the replicated security settings this node holds.",
                           static_cast<double>(snapshot.settings_version)));
  for (auto* f : {&line_up, &lag, &latency, &events})
    if (!f->metric.empty())
      families.push_back(std::move(*f));
  return families;
}

syslog_intake_metrics::syslog_intake_metrics(std::shared_ptr<const syslog_listener> receiver)
    : receiver_(std::move(receiver)) {}

std::vector<prometheus::MetricFamily> syslog_intake_metrics::Collect() const {
  const auto counts = receiver_->counts();
  std::vector<prometheus::MetricFamily> families;
  families.push_back(counters("ward_syslog_received_total",
                              "Syslog messages received from devices and stored, by transport.",
                              {{{{"transport", "tls"}}, counts.received_tls},
                               {{{"transport", "tcp"}}, counts.received_tcp},
                               {{{"transport", "udp"}}, counts.received_udp}}));
  families.push_back(counters("ward_syslog_dropped_total",
                              "Syslog messages from devices not stored, by reason.",
                              {{{{"reason", "malformed"}}, counts.malformed},
                               {{{"reason", "rate_limited"}}, counts.rate_limited},
                               {{{"reason", "queue_full"}}, counts.queue_full},
                               {{{"reason", "storage_failed"}}, counts.storage_failed}}));
  families.push_back(counters("ward_syslog_refused_connections_total",
                              "Syslog stream connections closed on accept: no free slot.",
                              {{{}, counts.refused_connections}}));
  return families;
}

} // namespace ward::node
