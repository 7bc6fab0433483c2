#include "node/service_steps.hpp"

#include "node/logging.hpp"
#include "node/node_steps.hpp"
#include "node/tls_material.hpp"

#include <caf/send.hpp>
#include <fmt/format.h>

// The start steps of the node's services beside administration: SIP with its media relay
// (SPEC SIP-1, MED-3) and the primary's syslog receiver (SPEC TOP-2, MON-2).
namespace ward::node {

namespace {

/// A Medium-strength server context for `material` under the TLS settings every listener
/// follows, with the check of what clients present; `what` names it in an error.
std::expected<tls_service, std::string> medium_service(const security::security_settings& settings,
                                                       const pki::tls_server_material& material,
                                                       std::string_view what) {
  auto context = pki::make_server_context(pki::tls_strength::medium,
                                          settings.certificates.minimum_tls, material);
  if (!context)
    return std::unexpected(std::string(what) + " TLS context: " + context.error().detail);
  return std::pair{*context, material.client_certificate_check};
}

/// A port for the "listening" log line: its number, or "off" when not opened.
std::string port_text(bool open, std::uint16_t bound) {
  return open ? std::to_string(bound) : std::string("off");
}

} // namespace

std::expected<tls_service, std::string> sip_tls(const security::security_settings& settings,
                                                const actors::pki_state& pki, const clock& time) {
  return medium_service(settings, telephony_material(settings, pki, time), "SIP");
}

std::expected<tls_service, std::string>
syslog_intake_tls(const security::security_settings& settings, const actors::pki_state& pki,
                  const clock& time) {
  auto material = management_material(settings, pki, time);
  material.request_client_certificate = true;
  return medium_service(settings, material, "syslog receiver");
}

namespace {

/// Sends an alarm record to the security actor, which audits it.
void raise_alarm(const caf::actor& security_actor, actors::cluster_alarm alarm) {
  caf::anon_send(security_actor, std::move(alarm));
}

/// How the SIP service reports to the rest of the node: the lines, the security actor's
/// audit trail and alarms, and the call log.
void wire_sip_events(running_node& node, sip_service_options& sip_options) {
  auto line_actor = node.line_actor;
  auto security_actor = node.security_actor;
  sip_options.send_over_line = [line_actor](const std::string& peer, std::string text) {
    caf::anon_send(line_actor, cluster::sip_signal_out{peer, std::move(text)});
  };
  sip_options.on_locations = [line_actor](std::vector<std::string> extensions) {
    caf::anon_send(line_actor, cluster::locations_out{std::move(extensions)});
  };
  sip_options.on_auto_create = [security_actor](const std::string& extension,
                                                const std::string& source) {
    caf::anon_send(security_actor, actors::auto_create_extension{extension, source});
  };
  sip_options.on_media_alarm = [security_actor](const std::string& reason) {
    raise_alarm(security_actor, actors::cluster_alarm{"srtp_authentication_failures", "media/relay",
                                                      reason, "", false});
  };
  // SPEC TF-2: someone may need help; the alarm reaches syslog and the audit trail.
  sip_options.on_emergency_call = [security_actor](const std::string& caller,
                                                   const std::string& dialled,
                                                   const std::string& route) {
    raise_alarm(security_actor,
                actors::cluster_alarm{"emergency_call", "extension/" + caller,
                                      "extension " + caller + " dialled " + dialled +
                                          (route.empty() ? ", and no emergency route is "
                                                           "configured"
                                                         : ", ringing extension " + route),
                                      "", false});
  };
  // SPEC TF-8: a call is reported ended once its record is on disk.
  auto records = node.call_records.get();
  const auto& node_name = node.config.name;
  const auto* time = &node.wall_clock;
  // SPEC TF-10: outside calls placed here count in the fraud rules.
  auto fraud_actor = node.fraud_actor;
  sip_options.on_outside_call = [fraud_actor, node_name](const telephony::metered_call& call) {
    caf::anon_send(fraud_actor, actors::fraud_usage{node_name, call, false});
  };
  sip_options.on_call_ended = [records, node_name, time, fraud_actor](
                                  const telephony::call_view& call, telephony::call_end end) {
    if (!call.trunk.empty() && !call.from_trunk)
      caf::anon_send(fraud_actor,
                     actors::fraud_usage{node_name, telephony::metered_call{call.call_id}, true});
    auto report = fmt::format("event=call_ended call={} caller={} callee={} caller_leg={} "
                              "callee_leg={} end={} trunk={}",
                              call.id, call.caller, call.callee, call.caller_leg, call.callee_leg,
                              telephony::to_string(end), call.trunk.empty() ? "-" : call.trunk);
    records->submit(telephony::record_of(call, end, {}, node_name, time->now()), std::move(report));
  };
  // SPEC TF-3: a barred call is recorded (zero duration, "Barred") when its short code asks
  // for it, and always when barring by class, outgoing call bar or NoUser refused it.
  sip_options.on_barred_call = [records, node_name, time](const telephony::barred_call& barred) {
    if (barred.record)
      records->submit(telephony::barred_record(barred.caller, barred.dialled,
                                               telephony::to_string(barred.reason), node_name,
                                               time->now()));
  };
  sip_options.on_guard_event = [security_actor, line_actor](const telephony::guard_event& event) {
    using kind = telephony::guard_event_kind;
    if (event.kind != kind::address_blacklisted_temporary &&
        event.kind != kind::address_blacklisted_permanent &&
        event.kind != kind::extension_blacklisted_temporary &&
        event.kind != kind::extension_blacklisted_permanent && event.kind != kind::blacklist_reset)
      return;
    raise_alarm(security_actor,
                actors::cluster_alarm{"sip_" + std::string(telephony::to_string(event.kind)),
                                      event.address.empty() ? "extension/" + event.extension
                                                            : "address/" + event.address,
                                      event.detail, event.address,
                                      event.kind == kind::blacklist_reset});
    // Every other node blacklists (or lifts) it too.
    caf::anon_send(line_actor, cluster::guard_broadcast{event});
  };
}

} // namespace

start_result<> start_sip(running_node& node) {
  const auto& config = node.config;
  // SPEC SIP-1, TOP-4: with every transport off (an application server by default) the
  // node runs no registrar and no media relay, and opens no SIP or RTP port.
  if (!config.sip.any()) {
    logger("sip")->info("event=sip_off reason=no_transport role={}", to_string(config.role));
    return {};
  }
  // SIP over UDP (SPEC SIP-1, SIP-2, SIP-4): blacklistings and resets become alarms.
  sip_service_options sip_options;
  sip_options.transports = config.sip;
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
  // The actors started so far stop with a failed start; the cluster actor is not told.
  auto refuse = [&](std::string_view component, std::string reason) {
    caf::anon_send_exit(node.security_actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(node.status, caf::exit_reason::user_shutdown);
    return start_failed(component, std::move(reason));
  };
  // The media relay anchors every call's RTP on this node (SPEC MED-3).
  media::relay_pool_options relay_options;
  relay_options.address = config.listen_address;
  relay_options.ports = media::rtp_port_range{config.rtp_port_first, config.rtp_port_last};
  relay_options.max_sessions = sip_options.max_calls;
  relay_options.workers = config.media_workers;
  auto relay = media::relay_pool::start(relay_options);
  if (!relay)
    return refuse("media", relay.error().detail);
  sip_options.relay = std::move(*relay);
  wire_sip_events(node, sip_options);
  auto tls = sip_tls(*node.settings_at_start, *node.pki_at_start, node.wall_clock);
  if (!tls)
    return refuse("sip", tls.error());
  sip_options.tls_context = tls->first;
  sip_options.tls_client_check = tls->second;
  sip_options.on_tls_failure = [security_actor = node.security_actor](const std::string& peer,
                                                                      const std::string& cause) {
    logger("tls")->warn("event=tls_handshake_failed service=sip peer={} cause={}", peer,
                        log_value(cause));
    caf::anon_send(security_actor, actors::tls_failure_report{"sip", peer, cause});
  };
  sip_options.realm = config.sip_realm;
  sip_options.directory = node.directory_copies;
  sip_options.time = &node.wall_clock;
  sip_options.random = node.random;
  auto sip = sip_service::start(std::move(sip_options));
  if (!sip)
    return refuse("sip", sip.error());
  node.sip_server = std::move(*sip);
  {
    std::lock_guard lock(node.sip_slot->mutex);
    node.sip_slot->service = node.sip_server;
  }
  logger("sip")->info("event=listening service=sip udp_port={} tcp_port={} tls_port={}",
                      port_text(config.sip.udp, node.sip_server->udp_port()),
                      port_text(config.sip.tcp, node.sip_server->tcp_port()),
                      port_text(config.sip.tls, node.sip_server->tls_port()));
  return {};
}

start_result<> start_syslog_intake(running_node& node) {
  const auto& config = node.config;
  if (!config.syslog_intake.any() || !node.forwarded_events)
    return {};
  syslog_listener_options options;
  options.address = config.listen_address;
  options.transports = config.syslog_intake;
  options.tls_port = config.syslog_intake_tls_port;
  options.tcp_port = config.syslog_intake_tcp_port;
  options.udp_port = config.syslog_intake_udp_port;
  options.messages_per_second = config.syslog_intake_messages_per_second;
  options.store = node.forwarded_events;
  options.time = &node.wall_clock;
  if (config.syslog_intake.tls) {
    auto tls = syslog_intake_tls(*node.settings_at_start, *node.pki_at_start, node.wall_clock);
    if (!tls) {
      node.stop_actors();
      return start_failed("syslog_intake", tls.error());
    }
    options.tls_context = tls->first;
    options.tls_client_check = tls->second;
  }
  options.on_tls_failure = [security_actor = node.security_actor](const std::string& peer,
                                                                  const std::string& cause) {
    logger("tls")->warn("event=tls_handshake_failed service=syslog_intake peer={} cause={}", peer,
                        log_value(cause));
    caf::anon_send(security_actor, actors::tls_failure_report{"syslog_intake", peer, cause});
  };
  auto receiver = syslog_listener::start(std::move(options));
  if (!receiver) {
    node.stop_actors();
    return start_failed("syslog_intake", receiver.error());
  }
  node.syslog_intake = std::move(*receiver);
  logger("syslog")->info("event=listening service=syslog_intake tls_port={} tcp_port={} "
                         "udp_port={}",
                         port_text(config.syslog_intake.tls, node.syslog_intake->tls_port()),
                         port_text(config.syslog_intake.tcp, node.syslog_intake->tcp_port()),
                         port_text(config.syslog_intake.udp, node.syslog_intake->udp_port()));
  return {};
}

} // namespace ward::node
