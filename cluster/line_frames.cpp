#include "cluster/line_frames.hpp"

#include "pki/certificate.hpp"

namespace ward::cluster {

line::Frame settings_frame(const actors::settings_changed& snapshot, const pin_map& pins,
                           const std::string& cluster_ca_pem) {
  line::Frame frame;
  auto* settings = frame.mutable_settings();
  settings->set_version(snapshot.version);
  settings->set_settings(snapshot.settings);
  for (const auto& serial : snapshot.revoked_serials)
    settings->add_revoked_serials(serial);
  settings->set_written_unix_us(snapshot.written_unix_us);
  settings->set_directory(snapshot.directory);
  for (const auto& [node, pem] : pins) {
    auto* pin = settings->add_pins();
    pin->set_node(node);
    pin->set_certificate_pem(pem);
  }
  settings->set_cluster_ca_pem(cluster_ca_pem);
  return frame;
}

line::Frame heartbeat_frame(const heartbeat_facts& facts) {
  line::Frame frame;
  auto* beat = frame.mutable_heartbeat();
  beat->set_sent_unix_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(facts.now.time_since_epoch()).count());
  auto* status = beat->mutable_status();
  status->set_uptime_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(facts.uptime).count());
  if (auto identity = pki::certificate::from_pem(facts.identity_pem)) {
    status->set_identity_subject(identity->subject());
    status->set_identity_issuer(identity->issuer_label());
    status->set_identity_days_left(identity->days_until_expiry(facts.now));
  }
  status->set_audit_sequence(facts.audit_sequence);
  status->set_settings_version(facts.settings_version);
  return frame;
}

line::Frame guard_event_frame(const telephony::guard_event& event, std::string_view origin_node) {
  line::Frame frame;
  auto* out = frame.mutable_guard_event();
  out->set_kind(std::string(telephony::to_string(event.kind)));
  out->set_address(event.address);
  out->set_extension(event.extension);
  out->set_until_unix_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(event.until.time_since_epoch())
          .count());
  out->set_blocks(event.blocks);
  out->set_origin_node(std::string(origin_node));
  return frame;
}

std::optional<telephony::guard_event> guard_event_of(const line::GuardEvent& remote,
                                                     std::string_view from_node) {
  using gk = telephony::guard_event_kind;
  telephony::guard_event event;
  bool known = false;
  for (auto candidate : {gk::address_blacklisted_temporary, gk::address_blacklisted_permanent,
                         gk::extension_blacklisted_temporary, gk::extension_blacklisted_permanent,
                         gk::blacklist_reset})
    if (telephony::to_string(candidate) == remote.kind()) {
      event.kind = candidate;
      known = true;
    }
  if (!known || remote.address().size() > max_guard_field ||
      remote.extension().size() > max_guard_field)
    return std::nullopt;
  event.address = remote.address();
  event.extension = remote.extension();
  event.until =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(remote.until_unix_ms()));
  event.blocks = remote.blocks();
  event.detail = "from node " + std::string(from_node);
  return event;
}

line::Frame enrol_error_frame(const std::string& error) {
  line::Frame reply;
  reply.mutable_enrol_reply()->set_error(error);
  return reply;
}

} // namespace ward::cluster
