#include "cli/print.hpp"

#include "cli/table.hpp"

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

std::string yes_no(bool value) {
  return value ? "yes" : "no";
}

std::string or_dash(const std::string& text) {
  return text.empty() ? "-" : text;
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
  text_table table({"NAME", "STATUS", "GROUPS"});
  for (const auto& user : list.users())
    table.add({user.name(), user.status(), joined(user.groups())});
  table.print(out);
}

void print(std::ostream& out, const pb::RightsGroup& group) {
  print_row(out, "name", group.name());
  print_row(out, "at default", group.at_default() ? "yes" : "no");
  out << "rights\n";
  for (const auto& right : group.rights())
    out << "  " << right << "\n";
}

void print(std::ostream& out, const pb::RightsGroupList& list) {
  text_table table({"GROUP", "RIGHTS", "DEFAULT"});
  for (const auto& group : list.groups())
    table.add({group.name(), std::to_string(group.rights_size()), yes_no(group.at_default())});
  table.print(out);
}

void print(std::ostream& out, const pb::RightList& list) {
  text_table table({"RIGHT", "SET", "CATEGORY"});
  for (const auto& right : list.rights())
    table.add({right.name(), right.rights_set(), right.category()});
  table.print(out);
}

void print(std::ostream& out, const pb::ServiceLevelList& list) {
  auto port = [](std::uint32_t number) { return number ? std::to_string(number) : "-"; };
  text_table table({"SERVICE", "LEVEL", "PLAIN PORT", "TLS PORT"});
  for (const auto& level : list.levels())
    table.add({level.service(),
               level.served() ? level.level() : "not served (stored: " + level.level() + ")",
               port(level.plain_port()), port(level.tls_port())});
  table.print(out);
}

void print(std::ostream& out, const pb::AuditRecordList& list) {
  text_table table(
      {"SEQ", "TIME", "KIND", "OUTCOME", "ACTOR", "SOURCE", "ACTION", "OBJECT", "REASON"});
  for (const auto& r : list.records())
    table.add({std::to_string(r.sequence()), date_text(r.time_unix_micros() / 1000000), r.kind(),
               r.outcome(), or_dash(r.actor()), or_dash(r.source()), r.action(),
               or_dash(r.object()), r.reason()});
  table.print(out);
}

void print(std::ostream& out, const pb::DirectoryImportReply& reply) {
  out << "imported: " << reply.extensions_created() << " extensions created, "
      << reply.extensions_updated() << " updated; " << reply.users_created() << " users created, "
      << reply.users_updated() << " updated\n";
}

void print(std::ostream& out, const pb::LockoutList& list) {
  text_table table({"KIND", "NAME", "LOCKED UNTIL", "RECENT FAILURES"});
  for (const auto& lockout : list.lockouts())
    table.add({lockout.kind(), lockout.name(),
               lockout.until_unlocked() ? std::string("an administrator unlocks it")
                                        : date_text(lockout.locked_until_unix()),
               std::to_string(lockout.recent_failures())});
  table.print(out);
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
  text_table table({"NAME", "EXTENSION", "LOCKED", "FULL NAME"});
  for (const auto& user : list.users())
    table.add({user.name(), user.extension(), yes_no(user.locked()), user.full_name()});
  table.print(out);
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
  text_table table(
      {"EXTENSION", "PHONE PASSWORD", "FORCE AUTH", "MEDIA SECURITY", "REMOTE WORKER"});
  for (const auto& ext : list.extensions())
    table.add({ext.number(), ext.has_phone_password() ? "set" : "none",
               ext.force_authorization() ? "on" : "off", ext.media_security(),
               or_dash(ext.remote_worker_address())});
  table.print(out);
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
  text_table table({"SERIAL", "PURPOSE", "SUBJECT", "NOT AFTER", "REVOKED"});
  for (const auto& cert : list.certificates())
    table.add({cert.serial_hex(), cert.purpose(), cert.subject(), date_text(cert.not_after_unix()),
               cert.revoked() ? "yes " + date_text(cert.revoked_unix()) : "no"});
  table.print(out);
}

void print(std::ostream& out, const pb::TcsList& list) {
  text_table table({"FINGERPRINT", "DEFAULT", "DAYS LEFT", "SUBJECT"});
  for (const auto& entry : list.entries()) {
    const auto& cert = entry.certificate();
    table.add({cert.sha256_fingerprint().substr(0, 23), yes_no(entry.is_default()),
               std::to_string(cert.days_until_expiry()), cert.subject()});
  }
  table.print(out);
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
  text_table table({"EXTENSION", "TRANSPORT", "SOURCE", "EXPIRES", "CONTACT", "USER AGENT"});
  for (const auto& r : list.registrations())
    table.add({r.extension(), r.transport(), r.source(), std::to_string(r.expires_in()) + "s",
               r.contact(), r.user_agent()});
  table.print(out);
}

void print(std::ostream& out, const pb::CallList& list) {
  out << "relay sessions " << list.relay_sessions() << " of " << list.relay_capacity()
      << "; media units " << list.media_units() << " of " << list.media_capacity()
      << " (an SRTP call counts two)\n";
  if (list.calls().empty()) {
    out << "no calls\n";
    return;
  }
  text_table table({"CALL", "CALLER", "CALLEE", "STATE", "CALLER LEG", "CALLEE LEG", "CALLER MEDIA",
                    "CALLEE MEDIA", "MEDIA PATH"});
  for (const auto& c : list.calls())
    table.add({std::to_string(c.id()), c.caller(), c.callee(), c.state(), c.caller_leg(),
               c.callee_leg(), c.caller_media(), c.callee_media(),
               c.direct() ? std::string("direct")
                          : std::to_string(c.caller_relay_port()) + "/" +
                                std::to_string(c.callee_relay_port())});
  table.print(out);
}

void print(std::ostream& out, const pb::CallRecordList& list) {
  if (list.records().empty()) {
    out << "no call records\n";
    return;
  }
  text_table table({"START", "DURATION", "RING", "CALLER", "DIRECTION", "CALLED", "DIALLED",
                    "PARTY2", "TRUNK", "END", "NODE"});
  for (const auto& r : list.records())
    table.add({date_text(r.start_unix()), std::to_string(r.duration_seconds()) + "s",
               std::to_string(r.ring_seconds()) + "s", r.caller(), r.direction(),
               r.called().empty() ? "-" : r.called(), r.dialled(), r.party2(),
               r.trunk().empty() ? "-" : r.trunk(), r.end(), r.node()});
  table.print(out);
}

void print(std::ostream& out, const pb::BlacklistReply& lists) {
  if (lists.addresses().empty() && lists.extensions().empty()) {
    out << "nothing is blacklisted\n";
    return;
  }
  text_table table({"KIND", "KEY", "UNTIL", "BLOCKS"});
  auto rows = [&table](const char* kind,
                       const google::protobuf::RepeatedPtrField<pb::BlacklistEntry>& entries) {
    for (const auto& e : entries)
      table.add({kind, e.key(),
                 e.permanent() ? std::string("permanent") : date_text(e.until_unix()),
                 std::to_string(e.blocks())});
  };
  rows("address", lists.addresses());
  rows("extension", lists.extensions());
  table.print(out);
}

void print(std::ostream& out, const pb::ClusterStatusReply& status) {
  print_row(out, "node", status.node() + " (" + status.role() + ")");
  print_row(out, "settings version", std::to_string(status.settings_version()));
  if (status.members().empty()) {
    out << "no other node has been seen over a line\n";
    return;
  }
  text_table table({"NODE", "ROLE", "LINE", "LEVEL", "VERSION", "LAG", "REPL_MS", "AUDIT", "EVENTS",
                    "DAYS", "CERTIFICATE"});
  for (const auto& m : status.members()) {
    std::string line = m.line_up() ? (m.enrolment_only() ? "enrol" : "up") : "down";
    char replication[16];
    std::snprintf(replication, sizeof replication, "%.1f", m.replication_ms());
    table.add({m.name(), m.role(), line, m.line_security(), std::to_string(m.settings_version()),
               std::to_string(m.settings_lag()),
               m.replication_ms() < 0 ? std::string("-") : std::string(replication),
               std::to_string(m.audit_sequence()), std::to_string(m.events_stored()),
               std::to_string(m.certificate_days_left()),
               m.peer_subject() +
                   (m.peer_issuer().empty() || m.peer_issuer() == m.peer_subject()
                        ? std::string(" (self-signed)")
                        : " issued by " + m.peer_issuer()) +
                   (m.line_up() || m.last_error().empty() ? std::string{}
                                                          : "  last error: " + m.last_error())});
  }
  table.print(out);
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

/// SPEC MED-1: the system's SRTP options and the per-line overrides, one `system srtp: …`
/// and one `line NODE srtp: …` per line.
void print_srtp_levels(std::ostream& out, const pb::SipSettings& sip) {
  out << "system srtp: " << sip.srtp() << "\n";
  std::map<std::string, std::string> lines(sip.line_srtp().begin(), sip.line_srtp().end());
  for (const auto& [node, options] : lines)
    out << "line " << node << " srtp: " << options << "\n";
}

void print_media_overview(std::ostream& out, const pb::SipSettings& sip,
                          const pb::ExtensionList& extensions) {
  print_media_levels(out, sip);
  for (const auto& ext : extensions.extensions())
    if (ext.media_security() != "system")
      out << "extension " << ext.number() << ": " << ext.media_security() << "\n";
  print_srtp_levels(out, sip);
  for (const auto& ext : extensions.extensions())
    if (!ext.srtp().empty() && ext.srtp() != "system")
      out << "extension " << ext.number() << " srtp: " << ext.srtp() << "\n";
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
  auto& srtp = *fields["srtp"].mutable_struct_value()->mutable_fields();
  srtp["system"].set_string_value(sip.srtp());
  auto& srtp_lines = *srtp["lines"].mutable_struct_value()->mutable_fields();
  for (const auto& [node, options] : sip.line_srtp())
    srtp_lines[node].set_string_value(options);
  auto& srtp_extensions = *srtp["extensions"].mutable_struct_value()->mutable_fields();
  for (const auto& ext : extensions.extensions())
    if (!ext.srtp().empty() && ext.srtp() != "system")
      srtp_extensions[ext.number()].set_string_value(ext.srtp());
  return to_json(shown);
}

} // namespace ward::cli
