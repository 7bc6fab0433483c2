#include "cli/print.hpp"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <map>
#include <sstream>

namespace ward::cli {
namespace {

namespace pb = admin::v1;

void print_row(std::ostream& out, const std::string& label, const std::string& value) {
  out << std::left << std::setw(18) << label << value << "\n";
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "-" : out;
}

std::string ms_date_text(std::int64_t unix_ms) {
  return date_text(unix_ms / 1000);
}

/// A UserAgentList or NumberList as `sip show` prints it: comma-separated, `-` when empty.
template <class List> std::string list_text(const List& list) {
  std::string out;
  for (const auto& entry : list.entries())
    out += (out.empty() ? "" : ",") + entry;
  return out.empty() ? "-" : out;
}

std::string days_left_text(std::int64_t days) {
  return std::to_string(days) + (days < 0 ? " (expired)" : "");
}

void print_certificate(std::ostream& out, const pb::CertificateInfo& cert,
                       const std::string& indent) {
  print_row(out, indent + "subject", cert.subject());
  print_row(out, indent + "issuer", cert.issuer() + (cert.self_signed() ? " (self-signed)" : ""));
  print_row(out, indent + "serial", cert.serial_hex());
  print_row(out, indent + "not before", date_text(cert.not_before_unix()));
  print_row(out, indent + "not after", date_text(cert.not_after_unix()));
  print_row(out, indent + "days left", days_left_text(cert.days_until_expiry()));
  print_row(out, indent + "sha256", cert.sha256_fingerprint());
  print_row(out, indent + "key bits", std::to_string(cert.key_bits()));
}

/// A column of a table: its heading and width.
struct column {
  const char* heading;
  int width;
};

/// The heading line of a table: each column padded to its width, then the last one. Left
/// alignment stays set for the rows that follow.
void print_header(std::ostream& out, std::initializer_list<column> columns, const char* last) {
  out << std::left;
  for (auto [heading, width] : columns)
    out << std::setw(width) << heading;
  out << last << "\n";
}

} // namespace

std::string to_json(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.always_print_primitive_fields = true;
  print.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &text, print);
  return text;
}

std::string date_text(std::int64_t unix_seconds) {
  if (unix_seconds == 0)
    return "-";
  std::time_t t = unix_seconds;
  std::tm parts{};
  gmtime_r(&t, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buffer;
}

void print(std::ostream& out, const pb::ServiceUser& user) {
  print_row(out, "name", user.name());
  print_row(out, "status", user.status());
  print_row(out, "setting", user.setting());
  print_row(out, "groups", joined(user.groups()));
  print_row(out, "protected", user.protected_() ? "yes" : "no");
  print_row(out, "at default", user.at_default() ? "yes" : "no");
  print_row(out, "expires", date_text(user.expires_at_unix()));
  print_row(out, "last login", date_text(user.last_login_unix()));
  print_row(out, "password changed", date_text(user.password_changed_unix()));
  print_row(out, "recent failures", std::to_string(user.recent_failures()));
  print_row(out, "locked until", date_text(user.locked_until_unix()));
}

void print(std::ostream& out, const pb::ServiceUserList& list) {
  print_header(out, {{"NAME", 20}, {"STATUS", 24}}, "GROUPS");
  for (const auto& user : list.users())
    out << std::setw(20) << user.name() << std::setw(24) << user.status() << joined(user.groups())
        << "\n";
}

void print(std::ostream& out, const pb::RightsGroup& group) {
  print_row(out, "name", group.name());
  print_row(out, "at default", group.at_default() ? "yes" : "no");
  out << "rights\n";
  for (const auto& right : group.rights())
    out << "  " << right << "\n";
}

void print(std::ostream& out, const pb::RightsGroupList& list) {
  print_header(out, {{"GROUP", 28}, {"RIGHTS", 8}}, "DEFAULT");
  for (const auto& group : list.groups())
    out << std::setw(28) << group.name() << std::setw(8) << group.rights_size()
        << (group.at_default() ? "yes" : "no") << "\n";
}

void print(std::ostream& out, const pb::RightList& list) {
  print_header(out, {{"RIGHT", 34}, {"SET", 26}}, "CATEGORY");
  for (const auto& right : list.rights())
    out << std::setw(34) << right.name() << std::setw(26) << right.rights_set() << right.category()
        << "\n";
}

void print(std::ostream& out, const pb::ServiceLevelList& list) {
  print_header(out, {{"SERVICE", 26}, {"LEVEL", 22}, {"PLAIN PORT", 12}}, "TLS PORT");
  for (const auto& level : list.levels())
    out << std::setw(26) << level.service() << std::setw(22) << level.level() << std::setw(12)
        << (level.plain_port() ? std::to_string(level.plain_port()) : "-")
        << (level.tls_port() ? std::to_string(level.tls_port()) : "-") << "\n";
}

void print(std::ostream& out, const pb::AuditRecordList& list) {
  for (const auto& r : list.records()) {
    out << r.sequence() << "  " << date_text(r.time_unix_micros() / 1000000) << "  " << std::left
        << std::setw(15) << r.kind() << std::setw(8) << r.outcome() << std::setw(16)
        << (r.actor().empty() ? "-" : r.actor()) << std::setw(22)
        << (r.source().empty() ? "-" : r.source()) << r.action();
    if (!r.object().empty())
      out << " " << r.object();
    if (!r.reason().empty())
      out << " (" << r.reason() << ")";
    out << "\n";
  }
}

void print(std::ostream& out, const pb::AuditVerifyReply& reply) {
  if (reply.intact())
    out << "audit trail intact: " << reply.records() << " records\n";
  else
    out << "audit trail DAMAGED at record " << reply.first_bad_sequence() << ": " << reply.problem()
        << "\n";
}

void print(std::ostream& out, const pb::TelephonyUser& user) {
  print_row(out, "name", user.name());
  print_row(out, "full name", user.full_name().empty() ? "-" : user.full_name());
  print_row(out, "extension", user.extension());
  print_row(out, "password", user.has_password() ? "set" : "none");
  print_row(out, "login code", user.has_login_code() ? "set" : "none");
  print_row(out, "voicemail code", user.has_voicemail_code() ? "set" : "none");
  print_row(out, "locked", user.locked() ? "yes" : "no");
}

void print(std::ostream& out, const pb::TelephonyUserList& list) {
  print_header(out, {{"NAME", 20}, {"EXTENSION", 12}, {"LOCKED", 10}}, "FULL NAME");
  for (const auto& user : list.users())
    out << std::setw(20) << user.name() << std::setw(12) << user.extension() << std::setw(10)
        << (user.locked() ? "yes" : "no") << user.full_name() << "\n";
}

void print(std::ostream& out, const pb::Extension& ext) {
  print_row(out, "number", ext.number());
  print_row(out, "phone password", ext.has_phone_password() ? "set" : "none");
  print_row(out, "force auth", ext.force_authorization() ? "on" : "off");
  print_row(out, "remote worker",
            ext.remote_worker_address().empty() ? "-" : ext.remote_worker_address());
  print_row(out, "media security", ext.media_security());
}

void print(std::ostream& out, const pb::ExtensionList& list) {
  print_header(
      out, {{"EXTENSION", 12}, {"PHONE PASSWORD", 16}, {"FORCE AUTH", 12}, {"MEDIA SECURITY", 16}},
      "REMOTE WORKER");
  for (const auto& ext : list.extensions())
    out << std::setw(12) << ext.number() << std::setw(16)
        << (ext.has_phone_password() ? "set" : "none") << std::setw(12)
        << (ext.force_authorization() ? "on" : "off") << std::setw(16) << ext.media_security()
        << (ext.remote_worker_address().empty() ? "-" : ext.remote_worker_address()) << "\n";
}

/// SPEC MED-2: the system level and the per-line overrides, one `system: LEVEL` and one
/// `line NODE: LEVEL` per line, as `media show` starts and `media set system|line` answers.

/// One `key: value` line per setting, with the keys `sip set` takes.
void print(std::ostream& out, const pb::SipSettings& sip) {
  auto line = [&out](const char* key, const std::string& value) {
    out << key << ": " << value << "\n";
  };
  line("auto_create", sip.auto_create() ? "on" : "off");
  line("auto_create_enabled_at", ms_date_text(sip.auto_create_enabled_at_unix_ms()));
  line("auto_create_lapses_at", ms_date_text(sip.auto_create_expires_unix_ms()));
  line("strict_sips", sip.strict_sips() ? "on" : "off");
  line("user_agent_allow", list_text(sip.user_agent_allow()));
  line("user_agent_block", list_text(sip.user_agent_block()));
  line("remote_workers", sip.remote_workers() ? "on" : "off");
  line("rtp_port_min", std::to_string(sip.rtp_port_min()));
  line("rtp_port_max", std::to_string(sip.rtp_port_max()));
  line("direct_media", sip.direct_media() ? "on" : "off");
  line("emergency_numbers", list_text(sip.emergency_numbers()));
  line("emergency_extension", sip.emergency_extension().empty() ? "-" : sip.emergency_extension());
}

void print(std::ostream& out, const pb::CertificateInfo& cert) {
  print_certificate(out, cert, "");
}

void print(std::ostream& out, const pb::CaInfo& ca) {
  print_certificate(out, ca.certificate(), "");
  for (int i = 0; i < ca.chain_size(); ++i) {
    out << "chain " << i + 1 << " of " << ca.chain_size() << "\n";
    print_certificate(out, ca.chain(i), "  ");
  }
}

void print(std::ostream& out, const pb::IssuedList& list) {
  std::size_t serial_width = 8, subject_width = 9;
  for (const auto& cert : list.certificates()) {
    serial_width = std::max(serial_width, cert.serial_hex().size() + 2);
    subject_width = std::max(subject_width, cert.subject().size() + 2);
  }
  auto serial = static_cast<int>(serial_width), subject = static_cast<int>(subject_width);
  print_header(out, {{"SERIAL", serial}, {"PURPOSE", 17}, {"SUBJECT", subject}, {"NOT AFTER", 22}},
               "REVOKED");
  for (const auto& cert : list.certificates())
    out << std::setw(serial) << cert.serial_hex() << std::setw(17) << cert.purpose()
        << std::setw(subject) << cert.subject() << std::setw(22) << date_text(cert.not_after_unix())
        << (cert.revoked() ? "yes " + date_text(cert.revoked_unix()) : "no") << "\n";
}

void print(std::ostream& out, const pb::TcsList& list) {
  print_header(out, {{"FINGERPRINT", 25}, {"DEFAULT", 9}, {"DAYS LEFT", 11}}, "SUBJECT");
  for (const auto& entry : list.entries()) {
    const auto& cert = entry.certificate();
    out << std::setw(25) << cert.sha256_fingerprint().substr(0, 23) << std::setw(9)
        << (entry.is_default() ? "yes" : "no") << std::setw(11) << cert.days_until_expiry()
        << cert.subject() << "\n";
  }
  out << list.entries_size() << " of " << list.capacity() << " entries\n";
}

void print(std::ostream& out, const pb::CheckSettings& checks) {
  print_row(out, "management", checks.management());
  print_row(out, "telephony", checks.telephony());
}

void print(std::ostream& out, const pb::TlsSettings& tls) {
  print_row(out, "minimum version", tls.minimum_version());
  print_row(out, "offer chain", tls.offer_chain() ? "on" : "off");
  print_row(out, "auto renew", tls.renew_identity_automatically() ? "on" : "off");
}

void print(std::ostream& out, const pb::RegistrationList& list) {
  if (list.registrations().empty()) {
    out << "no registrations\n";
    return;
  }
  print_header(out, {{"EXTENSION", 12}, {"TRANSPORT", 10}, {"SOURCE", 24}, {"EXPIRES", 9}},
               "CONTACT");
  for (const auto& r : list.registrations())
    out << std::left << std::setw(12) << r.extension() << std::setw(10) << r.transport()
        << std::setw(24) << r.source() << std::setw(9) << (std::to_string(r.expires_in()) + "s")
        << r.contact() << (r.user_agent().empty() ? "" : "  (" + r.user_agent() + ")") << "\n";
}

void print(std::ostream& out, const pb::CallList& list) {
  out << "relay sessions " << list.relay_sessions() << " of " << list.relay_capacity()
      << "; media units " << list.media_units() << " of " << list.media_capacity()
      << " (an SRTP call counts two)\n";
  if (list.calls().empty()) {
    out << "no calls\n";
    return;
  }
  print_header(out,
               {{"CALL", 8},
                {"CALLER", 10},
                {"CALLEE", 10},
                {"STATE", 10},
                {"CALLER LEG", 14},
                {"CALLEE LEG", 14},
                {"CALLER MEDIA", 34},
                {"CALLEE MEDIA", 34}},
               "MEDIA PATH");
  for (const auto& c : list.calls())
    out << std::left << std::setw(8) << c.id() << std::setw(10) << c.caller() << std::setw(10)
        << c.callee() << std::setw(10) << c.state() << std::setw(14) << c.caller_leg()
        << std::setw(14) << c.callee_leg() << std::setw(34) << c.caller_media() << std::setw(34)
        << c.callee_media()
        << (c.direct() ? std::string("direct")
                       : std::to_string(c.caller_relay_port()) + "/" +
                             std::to_string(c.callee_relay_port()))
        << "\n";
}

void print(std::ostream& out, const pb::BlacklistReply& lists) {
  auto rows = [&out](const char* kind,
                     const google::protobuf::RepeatedPtrField<pb::BlacklistEntry>& entries) {
    for (const auto& e : entries)
      out << std::left << std::setw(11) << kind << std::setw(42) << e.key()
          << (e.permanent() ? std::string("permanent") : "until " + std::to_string(e.until_unix()))
          << "  blocks " << e.blocks() << "\n";
  };
  if (lists.addresses().empty() && lists.extensions().empty()) {
    out << "nothing is blacklisted\n";
    return;
  }
  rows("address", lists.addresses());
  rows("extension", lists.extensions());
}

void print(std::ostream& out, const pb::ClusterStatusReply& status) {
  print_row(out, "node", status.node() + " (" + status.role() + ")");
  print_row(out, "settings version", std::to_string(status.settings_version()));
  if (status.members().empty()) {
    out << "no other node has been seen over a line\n";
    return;
  }
  print_header(out,
               {{"NODE", 14},
                {"ROLE", 11},
                {"LINE", 6},
                {"LEVEL", 8},
                {"VERSION", 9},
                {"LAG", 5},
                {"REPL_MS", 10},
                {"AUDIT", 8},
                {"EVENTS", 8},
                {"DAYS", 7}},
               "CERTIFICATE");
  for (const auto& m : status.members()) {
    std::string line = m.line_up() ? (m.enrolment_only() ? "enrol" : "up") : "down";
    char replication[16];
    std::snprintf(replication, sizeof replication, "%.1f", m.replication_ms());
    out << std::left << std::setw(14) << m.name() << std::setw(11) << m.role() << std::setw(6)
        << line << std::setw(8) << m.line_security() << std::setw(9) << m.settings_version()
        << std::setw(5) << m.settings_lag() << std::setw(10)
        << (m.replication_ms() < 0 ? std::string("-") : std::string(replication)) << std::setw(8)
        << m.audit_sequence() << std::setw(8) << m.events_stored() << std::setw(7)
        << m.certificate_days_left() << m.peer_subject()
        << (m.peer_issuer().empty() || m.peer_issuer() == m.peer_subject()
                ? std::string(" (self-signed)")
                : " issued by " + m.peer_issuer())
        << (m.line_up() || m.last_error().empty() ? std::string{}
                                                  : "  last error: " + m.last_error())
        << "\n";
  }
}

void print(std::ostream& out, const google::protobuf::Message& message) {
  out << to_json(message);
}

std::string role_name(pb::NodeRole role) {
  switch (role) {
    case pb::NODE_ROLE_PRIMARY:
      return "primary";
    case pb::NODE_ROLE_SECONDARY:
      return "secondary";
    case pb::NODE_ROLE_EXPANSION:
      return "expansion";
    case pb::NODE_ROLE_APPSERVER:
      return "appserver";
    default:
      return "unspecified";
  }
}

std::string duration_text(std::int64_t seconds) {
  std::ostringstream out;
  if (seconds >= 86400)
    out << seconds / 86400 << "d ";
  if (seconds >= 3600)
    out << (seconds % 86400) / 3600 << "h ";
  if (seconds >= 60)
    out << (seconds % 3600) / 60 << "m ";
  out << seconds % 60 << "s";
  return out.str();
}

void print(std::ostream& out, const pb::StatusReply& reply) {
  print_row(out, "node", reply.node_name());
  print_row(out, "role", role_name(reply.role()));
  print_row(out, "version", reply.version());
  print_row(out, "uptime", duration_text(reply.uptime_seconds()));
  print_row(out, "hostname", reply.hostname());
  print_row(out, "starts", std::to_string(reply.start_count()));
  print_row(out, "running actors", std::to_string(reply.running_actors()));
  const auto& identity = reply.identity();
  print_row(out, "identity", identity.subject() + (identity.self_signed() ? " (self-signed)" : ""));
  print_row(out, "  issuer", identity.issuer());
  print_row(out, "  serial", identity.serial_hex());
  print_row(out, "  expires in", std::to_string(identity.days_until_expiry()) + " days");
  print_row(out, "  sha256", identity.sha256_fingerprint());
}

/// SPEC MED-2: the system level and the per-line overrides, one `system: LEVEL` and one
/// `line NODE: LEVEL` per line, as `media show` starts and `media set system|line` answers.
void print_media_levels(std::ostream& out, const pb::SipSettings& sip) {
  out << "system: " << sip.media_security() << "\n";
  // A protobuf map iterates in no particular order.
  std::map<std::string, std::string> lines(sip.line_media_security().levels().begin(),
                                           sip.line_media_security().levels().end());
  for (const auto& [node, level] : lines)
    out << "line " << node << ": " << level << "\n";
}

void print_media_overview(std::ostream& out, const pb::SipSettings& sip,
                          const pb::ExtensionList& extensions) {
  print_media_levels(out, sip);
  for (const auto& ext : extensions.extensions())
    if (ext.media_security() != "system")
      out << "extension " << ext.number() << ": " << ext.media_security() << "\n";
}

std::string media_overview_json(const pb::SipSettings& sip, const pb::ExtensionList& extensions) {
  google::protobuf::Struct shown;
  auto& fields = *shown.mutable_fields();
  fields["system"].set_string_value(sip.media_security());
  auto& lines = *fields["lines"].mutable_struct_value()->mutable_fields();
  for (const auto& [node, level] : sip.line_media_security().levels())
    lines[node].set_string_value(level);
  auto& overrides = *fields["extensions"].mutable_struct_value()->mutable_fields();
  for (const auto& ext : extensions.extensions())
    if (ext.media_security() != "system")
      overrides[ext.number()].set_string_value(ext.media_security());
  return to_json(shown);
}

} // namespace ward::cli
