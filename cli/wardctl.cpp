// wardctl: the administration command line of a Ward cluster.
#include "cli/connection.hpp"

#include "admin.grpc.pb.h"
#include "health.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>

namespace {

namespace pb = ward::admin::v1;
using ward::cli::target_service;

constexpr int exit_ok = 0;
constexpr int exit_remote_error = 1;
constexpr int exit_usage = 2;

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct cli_state {
  ward::cli::connection_options options;
  bool json = false;
  std::string session_file;
  /// --on NODE: the call is made through the primary and proxied over NODE's line.
  std::string on_node;
};

constexpr const char* node_scoped_commands =
    "status, audit list, audit verify, pki identity show, service-user list, service-user "
    "show, cluster status, registrations, calls, blacklist list";

std::string default_session_file() {
  if (const char* explicit_file = std::getenv("WARD_SESSION_FILE"))
    return explicit_file;
  std::string base;
  if (const char* config = std::getenv("XDG_CONFIG_HOME"))
    base = config;
  else if (const char* home = std::getenv("HOME"))
    base = std::string(home) + "/.config";
  else
    base = ".";
  return base + "/ward/session";
}

std::string read_token(const cli_state& state) {
  std::ifstream in(state.session_file);
  std::string token;
  std::getline(in, token);
  return token;
}

void save_token(const cli_state& state, const std::string& token) {
  std::filesystem::path path(state.session_file);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  // Created 0600 from the start: a session token is a credential.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw usage_error("cannot write session file " + path.string());
  ::fchmod(fd, 0600);
  auto line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok)
    throw usage_error("cannot write session file " + path.string());
}

/// The whole content of a local file, byte for byte.
std::string read_local_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw usage_error("cannot read " + path + ": " + std::strerror(errno));
  std::string data;
  char buffer[16384];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0)
    data.append(buffer, static_cast<std::size_t>(n));
  int error = errno;
  ::close(fd);
  if (n < 0)
    throw usage_error("cannot read " + path + ": " + std::strerror(error));
  if (data.empty())
    throw usage_error(path + " is empty");
  return data;
}

/// Refuses, before anything changes on the node, an output file that cannot be written.
void check_writable(const std::string& path) {
  std::filesystem::path file(path);
  std::error_code ec;
  if (path.empty() || std::filesystem::is_directory(file, ec))
    throw usage_error("cannot write '" + path + "': not a file name");
  auto directory = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  bool writable = std::filesystem::exists(file, ec) ? ::access(file.c_str(), W_OK) == 0
                                                    : ::access(directory.c_str(), W_OK | X_OK) == 0;
  if (!writable)
    throw usage_error("cannot write " + path + ": " + std::strerror(errno));
}

/// Writes `data` to `path` with exactly `mode`, set before the first byte is written.
void write_local_file(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    throw usage_error("cannot write " + path + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::size_t done = 0; ok && done < data.size();) {
    auto written = ::write(fd, data.data() + done, data.size() - done);
    ok = written > 0;
    if (ok)
      done += static_cast<std::size_t>(written);
  }
  int error = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    throw usage_error("cannot write " + path + ": " + std::strerror(error));
  }
}

/// A secret from the terminal without echo, or one line of standard input when piped.
std::string read_secret(const std::string& prompt) {
  std::string secret;
  if (::isatty(STDIN_FILENO)) {
    std::cerr << prompt << ": " << std::flush;
    termios saved{};
    tcgetattr(STDIN_FILENO, &saved);
    auto quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, secret);
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  } else if (!std::getline(std::cin, secret)) {
    throw usage_error(prompt + ": expected a line on standard input");
  }
  return secret;
}

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

std::int64_t parse_date(const std::string& text) {
  std::tm parts{};
  std::istringstream in(text);
  in >> std::get_time(&parts, "%Y-%m-%d");
  if (in.fail())
    throw usage_error("dates are YYYY-MM-DD, got '" + text + "'");
  return static_cast<std::int64_t>(timegm(&parts));
}

bool parse_switch(const std::string& text, const std::string& option) {
  if (text == "on" || text == "true" || text == "yes")
    return true;
  if (text == "off" || text == "false" || text == "no")
    return false;
  throw usage_error(option + " takes on or off, got '" + text + "'");
}

template <class Stub>
std::unique_ptr<Stub>
stub_for(const cli_state& state, target_service target,
         std::unique_ptr<Stub> (*make)(const std::shared_ptr<grpc::ChannelInterface>&,
                                       const grpc::StubOptions&)) {
  auto channel = ward::cli::open_channel(state.options, target);
  if (!channel)
    throw usage_error(channel.error());
  return make(*channel, grpc::StubOptions());
}

/// Calls one RPC with the session token and reports a failure in one line.
template <class Stub, class Request, class Reply>
int invoke(const cli_state& state, target_service target, Stub& stub,
           grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
           const Request& request, Reply& reply, bool with_token = true) {
  if (!state.on_node.empty())
    throw usage_error(std::string("--on is for node-scoped commands (") + node_scoped_commands +
                      "); every other call is made on the primary itself");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + state.options.timeout);
  if (with_token) {
    auto token = read_token(state);
    if (!token.empty())
      context.AddMetadata("authorization", "Bearer " + token);
  }
  auto status = (stub.*method)(&context, request, &reply);
  if (!status.ok()) {
    auto endpoint = ward::cli::endpoint_for(state.options, target).value_or("node");
    std::cerr << "wardctl: " << endpoint << ": " << status.error_message() << " (code "
              << status.error_code() << ")\n";
    return exit_remote_error;
  }
  return exit_ok;
}

/// Like invoke(), but with --on NODE the call goes to the primary's Cluster.Proxy, which
/// proxies it over NODE's line; `method_path` is the call's full gRPC method name.
template <class Stub, class Request, class Reply>
int invoke_on_node(const cli_state& state, target_service target, Stub& stub,
                   grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
                   const std::string& method_path, const Request& request, Reply& reply,
                   bool with_token = true) {
  if (state.on_node.empty())
    return invoke(state, target, stub, method, request, reply, with_token);
  cli_state on_primary = state;
  on_primary.on_node.clear();
  auto proxy = stub_for(on_primary, target, &pb::Cluster::NewStub);
  pb::ProxyRequest call;
  call.set_node(state.on_node);
  call.set_method(method_path);
  call.set_payload(request.SerializeAsString());
  pb::ProxyReply answer;
  if (int code = invoke(on_primary, target, *proxy, &pb::Cluster::Stub::Proxy, call, answer);
      code != exit_ok)
    return code;
  if (answer.code() != 0) {
    std::cerr << "wardctl: " << state.on_node << " (through the primary): " << answer.message()
              << " (code " << answer.code() << ")\n";
    return exit_remote_error;
  }
  if (!reply.ParseFromString(answer.payload())) {
    std::cerr << "wardctl: " << state.on_node << " sent a reply that cannot be read\n";
    return exit_remote_error;
  }
  return exit_ok;
}

void print_row(const std::string& label, const std::string& value) {
  std::cout << std::left << std::setw(18) << label << value << "\n";
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "-" : out;
}

// ---- printers --------------------------------------------------------------------------

void print(const pb::ServiceUser& user) {
  print_row("name", user.name());
  print_row("status", user.status());
  print_row("setting", user.setting());
  print_row("groups", joined(user.groups()));
  print_row("protected", user.protected_() ? "yes" : "no");
  print_row("at default", user.at_default() ? "yes" : "no");
  print_row("expires", date_text(user.expires_at_unix()));
  print_row("last login", date_text(user.last_login_unix()));
  print_row("password changed", date_text(user.password_changed_unix()));
  print_row("recent failures", std::to_string(user.recent_failures()));
  print_row("locked until", date_text(user.locked_until_unix()));
}

void print(const pb::ServiceUserList& list) {
  std::cout << std::left << std::setw(20) << "NAME" << std::setw(24) << "STATUS"
            << "GROUPS\n";
  for (const auto& user : list.users())
    std::cout << std::setw(20) << user.name() << std::setw(24) << user.status()
              << joined(user.groups()) << "\n";
}

void print(const pb::RightsGroup& group) {
  print_row("name", group.name());
  print_row("at default", group.at_default() ? "yes" : "no");
  std::cout << "rights\n";
  for (const auto& right : group.rights())
    std::cout << "  " << right << "\n";
}

void print(const pb::RightsGroupList& list) {
  std::cout << std::left << std::setw(28) << "GROUP" << std::setw(8) << "RIGHTS"
            << "DEFAULT\n";
  for (const auto& group : list.groups())
    std::cout << std::setw(28) << group.name() << std::setw(8) << group.rights_size()
              << (group.at_default() ? "yes" : "no") << "\n";
}

void print(const pb::RightList& list) {
  std::cout << std::left << std::setw(34) << "RIGHT" << std::setw(26) << "SET"
            << "CATEGORY\n";
  for (const auto& right : list.rights())
    std::cout << std::setw(34) << right.name() << std::setw(26) << right.rights_set()
              << right.category() << "\n";
}

void print(const pb::ServiceLevelList& list) {
  std::cout << std::left << std::setw(26) << "SERVICE" << std::setw(22) << "LEVEL" << std::setw(12)
            << "PLAIN PORT"
            << "TLS PORT\n";
  for (const auto& level : list.levels())
    std::cout << std::setw(26) << level.service() << std::setw(22) << level.level() << std::setw(12)
              << (level.plain_port() ? std::to_string(level.plain_port()) : "-")
              << (level.tls_port() ? std::to_string(level.tls_port()) : "-") << "\n";
}

void print(const pb::AuditRecordList& list) {
  for (const auto& r : list.records()) {
    std::cout << r.sequence() << "  " << date_text(r.time_unix_micros() / 1000000) << "  "
              << std::left << std::setw(15) << r.kind() << std::setw(8) << r.outcome()
              << std::setw(16) << (r.actor().empty() ? "-" : r.actor()) << std::setw(22)
              << (r.source().empty() ? "-" : r.source()) << r.action();
    if (!r.object().empty())
      std::cout << " " << r.object();
    if (!r.reason().empty())
      std::cout << " (" << r.reason() << ")";
    std::cout << "\n";
  }
}

void print(const pb::AuditVerifyReply& reply) {
  if (reply.intact())
    std::cout << "audit trail intact: " << reply.records() << " records\n";
  else
    std::cout << "audit trail DAMAGED at record " << reply.first_bad_sequence() << ": "
              << reply.problem() << "\n";
}

void print(const pb::TelephonyUser& user) {
  print_row("name", user.name());
  print_row("full name", user.full_name().empty() ? "-" : user.full_name());
  print_row("extension", user.extension());
  print_row("password", user.has_password() ? "set" : "none");
  print_row("login code", user.has_login_code() ? "set" : "none");
  print_row("voicemail code", user.has_voicemail_code() ? "set" : "none");
  print_row("locked", user.locked() ? "yes" : "no");
}

void print(const pb::TelephonyUserList& list) {
  std::cout << std::left << std::setw(20) << "NAME" << std::setw(12) << "EXTENSION" << std::setw(10)
            << "LOCKED"
            << "FULL NAME\n";
  for (const auto& user : list.users())
    std::cout << std::setw(20) << user.name() << std::setw(12) << user.extension() << std::setw(10)
              << (user.locked() ? "yes" : "no") << user.full_name() << "\n";
}

void print(const pb::Extension& ext) {
  print_row("number", ext.number());
  print_row("phone password", ext.has_phone_password() ? "set" : "none");
  print_row("force auth", ext.force_authorization() ? "on" : "off");
  print_row("remote worker",
            ext.remote_worker_address().empty() ? "-" : ext.remote_worker_address());
  print_row("media security", ext.media_security());
}

void print(const pb::ExtensionList& list) {
  std::cout << std::left << std::setw(12) << "EXTENSION" << std::setw(16) << "PHONE PASSWORD"
            << std::setw(12) << "FORCE AUTH" << std::setw(16) << "MEDIA SECURITY"
            << "REMOTE WORKER\n";
  for (const auto& ext : list.extensions())
    std::cout << std::setw(12) << ext.number() << std::setw(16)
              << (ext.has_phone_password() ? "set" : "none") << std::setw(12)
              << (ext.force_authorization() ? "on" : "off") << std::setw(16) << ext.media_security()
              << (ext.remote_worker_address().empty() ? "-" : ext.remote_worker_address()) << "\n";
}

/// SPEC MED-2: the system level and the per-line overrides, one `system: LEVEL` and one
/// `line NODE: LEVEL` per line, as `media show` starts and `media set system|line` answers.
void print_media_levels(const pb::SipSettings& sip) {
  std::cout << "system: " << sip.media_security() << "\n";
  // A protobuf map iterates in no particular order.
  std::map<std::string, std::string> lines(sip.line_media_security().levels().begin(),
                                           sip.line_media_security().levels().end());
  for (const auto& [node, level] : lines)
    std::cout << "line " << node << ": " << level << "\n";
}

/// The media security levels `media set` and `--media-security` take; `system` where an
/// override can be cleared.
std::string media_level_of(const std::string& text, const std::string& what, bool system_allowed) {
  if (text == "disabled" || text == "best_effort" || text == "enforce" ||
      (system_allowed && text == "system"))
    return text;
  throw usage_error(what + " takes disabled, best_effort" +
                    (system_allowed ? ", enforce or system" : " or enforce") + ", got '" + text +
                    "'");
}

/// The keys of `wardctl sip set`, in the order `sip show` prints them.
constexpr const char* sip_setting_keys =
    "auto_create, strict_sips, user_agent_allow, user_agent_block, remote_workers, "
    "rtp_port_min, rtp_port_max, direct_media, emergency_numbers, emergency_extension";

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

/// One `key: value` line per setting, with the keys `sip set` takes.
void print(const pb::SipSettings& sip) {
  auto line = [](const char* key, const std::string& value) {
    std::cout << key << ": " << value << "\n";
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

std::string days_left_text(std::int64_t days) {
  return std::to_string(days) + (days < 0 ? " (expired)" : "");
}

void print_certificate(const pb::CertificateInfo& cert, const std::string& indent) {
  print_row(indent + "subject", cert.subject());
  print_row(indent + "issuer", cert.issuer() + (cert.self_signed() ? " (self-signed)" : ""));
  print_row(indent + "serial", cert.serial_hex());
  print_row(indent + "not before", date_text(cert.not_before_unix()));
  print_row(indent + "not after", date_text(cert.not_after_unix()));
  print_row(indent + "days left", days_left_text(cert.days_until_expiry()));
  print_row(indent + "sha256", cert.sha256_fingerprint());
  print_row(indent + "key bits", std::to_string(cert.key_bits()));
}

void print(const pb::CertificateInfo& cert) {
  print_certificate(cert, "");
}

void print(const pb::CaInfo& ca) {
  print_certificate(ca.certificate(), "");
  for (int i = 0; i < ca.chain_size(); ++i) {
    std::cout << "chain " << i + 1 << " of " << ca.chain_size() << "\n";
    print_certificate(ca.chain(i), "  ");
  }
}

void print(const pb::IssuedList& list) {
  std::size_t serial_width = 8, subject_width = 9;
  for (const auto& cert : list.certificates()) {
    serial_width = std::max(serial_width, cert.serial_hex().size() + 2);
    subject_width = std::max(subject_width, cert.subject().size() + 2);
  }
  auto serial = static_cast<int>(serial_width), subject = static_cast<int>(subject_width);
  std::cout << std::left << std::setw(serial) << "SERIAL" << std::setw(17) << "PURPOSE"
            << std::setw(subject) << "SUBJECT" << std::setw(22) << "NOT AFTER"
            << "REVOKED\n";
  for (const auto& cert : list.certificates())
    std::cout << std::setw(serial) << cert.serial_hex() << std::setw(17) << cert.purpose()
              << std::setw(subject) << cert.subject() << std::setw(22)
              << date_text(cert.not_after_unix())
              << (cert.revoked() ? "yes " + date_text(cert.revoked_unix()) : "no") << "\n";
}

void print(const pb::TcsList& list) {
  std::cout << std::left << std::setw(25) << "FINGERPRINT" << std::setw(9) << "DEFAULT"
            << std::setw(11) << "DAYS LEFT"
            << "SUBJECT\n";
  for (const auto& entry : list.entries()) {
    const auto& cert = entry.certificate();
    std::cout << std::setw(25) << cert.sha256_fingerprint().substr(0, 23) << std::setw(9)
              << (entry.is_default() ? "yes" : "no") << std::setw(11) << cert.days_until_expiry()
              << cert.subject() << "\n";
  }
  std::cout << list.entries_size() << " of " << list.capacity() << " entries\n";
}

void print(const pb::CheckSettings& checks) {
  print_row("management", checks.management());
  print_row("telephony", checks.telephony());
}

void print(const pb::TlsSettings& tls) {
  print_row("minimum version", tls.minimum_version());
  print_row("offer chain", tls.offer_chain() ? "on" : "off");
  print_row("auto renew", tls.renew_identity_automatically() ? "on" : "off");
}

void print(const pb::RegistrationList& list) {
  if (list.registrations().empty()) {
    std::cout << "no registrations\n";
    return;
  }
  std::cout << std::left << std::setw(12) << "EXTENSION" << std::setw(10) << "TRANSPORT"
            << std::setw(24) << "SOURCE" << std::setw(9) << "EXPIRES"
            << "CONTACT\n";
  for (const auto& r : list.registrations())
    std::cout << std::left << std::setw(12) << r.extension() << std::setw(10) << r.transport()
              << std::setw(24) << r.source() << std::setw(9)
              << (std::to_string(r.expires_in()) + "s") << r.contact()
              << (r.user_agent().empty() ? "" : "  (" + r.user_agent() + ")") << "\n";
}

void print(const pb::CallList& list) {
  std::cout << "relay sessions " << list.relay_sessions() << " of " << list.relay_capacity()
            << "; media units " << list.media_units() << " of " << list.media_capacity()
            << " (an SRTP call counts two)\n";
  if (list.calls().empty()) {
    std::cout << "no calls\n";
    return;
  }
  std::cout << std::left << std::setw(8) << "CALL" << std::setw(10) << "CALLER" << std::setw(10)
            << "CALLEE" << std::setw(10) << "STATE" << std::setw(14) << "CALLER LEG"
            << std::setw(14) << "CALLEE LEG" << std::setw(34) << "CALLER MEDIA" << std::setw(34)
            << "CALLEE MEDIA"
            << "MEDIA PATH\n";
  for (const auto& c : list.calls())
    std::cout << std::left << std::setw(8) << c.id() << std::setw(10) << c.caller() << std::setw(10)
              << c.callee() << std::setw(10) << c.state() << std::setw(14) << c.caller_leg()
              << std::setw(14) << c.callee_leg() << std::setw(34) << c.caller_media()
              << std::setw(34) << c.callee_media()
              << (c.direct() ? std::string("direct")
                             : std::to_string(c.caller_relay_port()) + "/" +
                                   std::to_string(c.callee_relay_port()))
              << "\n";
}

void print(const pb::BlacklistReply& lists) {
  auto rows = [](const char* kind,
                 const google::protobuf::RepeatedPtrField<pb::BlacklistEntry>& entries) {
    for (const auto& e : entries)
      std::cout << std::left << std::setw(11) << kind << std::setw(42) << e.key()
                << (e.permanent() ? std::string("permanent")
                                  : "until " + std::to_string(e.until_unix()))
                << "  blocks " << e.blocks() << "\n";
  };
  if (lists.addresses().empty() && lists.extensions().empty()) {
    std::cout << "nothing is blacklisted\n";
    return;
  }
  rows("address", lists.addresses());
  rows("extension", lists.extensions());
}

void print(const pb::ClusterStatusReply& status) {
  print_row("node", status.node() + " (" + status.role() + ")");
  print_row("settings version", std::to_string(status.settings_version()));
  if (status.members().empty()) {
    std::cout << "no other node has been seen over a line\n";
    return;
  }
  std::cout << std::left << std::setw(14) << "NODE" << std::setw(11) << "ROLE" << std::setw(6)
            << "LINE" << std::setw(8) << "LEVEL" << std::setw(9) << "VERSION" << std::setw(5)
            << "LAG" << std::setw(10) << "REPL_MS" << std::setw(8) << "AUDIT" << std::setw(8)
            << "EVENTS" << std::setw(7) << "DAYS"
            << "CERTIFICATE\n";
  for (const auto& m : status.members()) {
    std::string line = m.line_up() ? (m.enrolment_only() ? "enrol" : "up") : "down";
    char replication[16];
    std::snprintf(replication, sizeof replication, "%.1f", m.replication_ms());
    std::cout << std::left << std::setw(14) << m.name() << std::setw(11) << m.role() << std::setw(6)
              << line << std::setw(8) << m.line_security() << std::setw(9) << m.settings_version()
              << std::setw(5) << m.settings_lag() << std::setw(10)
              << (m.replication_ms() < 0 ? std::string("-") : std::string(replication))
              << std::setw(8) << m.audit_sequence() << std::setw(8) << m.events_stored()
              << std::setw(7) << m.certificate_days_left() << m.peer_subject()
              << (m.peer_issuer().empty() || m.peer_issuer() == m.peer_subject()
                      ? std::string(" (self-signed)")
                      : " issued by " + m.peer_issuer())
              << (m.line_up() || m.last_error().empty() ? std::string{}
                                                        : "  last error: " + m.last_error())
              << "\n";
  }
}

void print(const google::protobuf::Message& message) {
  std::cout << to_json(message);
}

template <class Reply> int show(const cli_state& state, int code, const Reply& reply) {
  if (code != exit_ok)
    return code;
  if (state.json)
    std::cout << to_json(reply);
  else
    print(reply);
  return exit_ok;
}

// ---- status and health ------------------------------------------------------------------

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

int run_status(const cli_state& state) {
  auto stub = stub_for(state, target_service::status, &pb::Admin::NewStub);
  pb::StatusReply reply;
  int code = invoke_on_node(state, target_service::status, *stub, &pb::Admin::Stub::Status,
                            "/ward.admin.v1.Admin/Status", pb::StatusRequest{}, reply, false);
  if (code != exit_ok || state.json)
    return code == exit_ok ? (std::cout << to_json(reply), exit_ok) : code;
  print_row("node", reply.node_name());
  print_row("role", role_name(reply.role()));
  print_row("version", reply.version());
  print_row("uptime", duration_text(reply.uptime_seconds()));
  print_row("hostname", reply.hostname());
  print_row("starts", std::to_string(reply.start_count()));
  print_row("running actors", std::to_string(reply.running_actors()));
  const auto& identity = reply.identity();
  print_row("identity", identity.subject() + (identity.self_signed() ? " (self-signed)" : ""));
  print_row("  issuer", identity.issuer());
  print_row("  serial", identity.serial_hex());
  print_row("  expires in", std::to_string(identity.days_until_expiry()) + " days");
  print_row("  sha256", identity.sha256_fingerprint());
  return exit_ok;
}

int run_health(const cli_state& state, const std::string& service) {
  auto channel = ward::cli::open_channel(state.options, target_service::status);
  if (!channel)
    throw usage_error(channel.error());
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse reply;
  int code = invoke(state, target_service::status, *stub, &grpc::health::v1::Health::Stub::Check,
                    request, reply, false);
  if (code != exit_ok)
    return code;
  auto name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(reply.status());
  std::cout << (state.json ? "{\"status\": \"" + name + "\"}" : name) << "\n";
  return reply.status() == grpc::health::v1::HealthCheckResponse::SERVING ? exit_ok
                                                                          : exit_remote_error;
}

// ---- command registration ---------------------------------------------------------------

using action = std::function<int()>;

struct command_table {
  std::vector<std::pair<CLI::App*, action>> entries;
  void add(CLI::App* command, action run) { entries.emplace_back(command, std::move(run)); }
};

template <class Stub>
std::unique_ptr<Stub>
security_stub(const cli_state& state,
              std::unique_ptr<Stub> (*make)(const std::shared_ptr<grpc::ChannelInterface>&,
                                            const grpc::StubOptions&)) {
  return stub_for(state, target_service::security, make);
}

void add_session_commands(CLI::App& app, cli_state& state, command_table& table) {
  auto* login = app.add_subcommand("login", "Log in as a service user; caches the session token");
  auto name = std::make_shared<std::string>();
  login->add_option("--user,-u", *name, "Service user name")->required();
  table.add(login, [&state, name] {
    pb::LoginRequest request;
    request.set_name(*name);
    request.set_password(read_secret("password for " + *name));
    auto stub = stub_for(state, target_service::security, &pb::Session::NewStub);
    pb::LoginReply reply;
    int code = invoke(state, target_service::security, *stub, &pb::Session::Stub::Login, request,
                      reply, false);
    if (code != exit_ok)
      return code;
    save_token(state, reply.token());
    if (state.json) {
      auto shown = reply;
      shown.clear_token();
      std::cout << to_json(shown);
      return exit_ok;
    }
    std::cout << "logged in as " << *name << " for " << reply.expires_in_seconds() / 60
              << " minutes; session saved to " << state.session_file << "\n";
    if (reply.must_change_password())
      std::cout << "the password must be changed now: wardctl passwd\n";
    for (const auto& pending : reply.ignition_pending())
      std::cout << "first start: " << pending << " is still the default\n";
    std::cout << "identity certificate expires in " << reply.identity_certificate_expires_in_days()
              << " days\n";
    return exit_ok;
  });

  auto* logout = app.add_subcommand("logout", "End the cached session");
  table.add(logout, [&state] {
    auto stub = stub_for(state, target_service::security, &pb::Session::NewStub);
    pb::Empty reply;
    int code = invoke(state, target_service::security, *stub, &pb::Session::Stub::Logout,
                      pb::Empty{}, reply);
    std::filesystem::remove(state.session_file);
    return code;
  });

  auto* passwd = app.add_subcommand("passwd", "Change your own password (old, then new)");
  table.add(passwd, [&state] {
    pb::ChangePasswordRequest request;
    request.set_old_password(read_secret("current password"));
    request.set_new_password(read_secret("new password"));
    auto stub = stub_for(state, target_service::security, &pb::Session::NewStub);
    pb::Empty reply;
    int code = invoke(state, target_service::security, *stub, &pb::Session::Stub::ChangePassword,
                      request, reply);
    if (code == exit_ok && !state.json)
      std::cout << "password changed; log in again\n";
    return code;
  });

  auto* system_password = app.add_subcommand("system-password", "Set the system password");
  table.add(system_password, [&state] {
    pb::SetSystemPasswordRequest request;
    request.set_new_password(read_secret("new system password"));
    auto stub = stub_for(state, target_service::security, &pb::Session::NewStub);
    pb::Empty reply;
    int code = invoke(state, target_service::security, *stub, &pb::Session::Stub::SetSystemPassword,
                      request, reply);
    if (code == exit_ok && !state.json)
      std::cout << "system password changed\n";
    return code;
  });

  auto* user_login = app.add_subcommand("user-login", "Check a telephony user's password");
  auto user = std::make_shared<std::string>();
  user_login->add_option("name", *user, "Telephony user")->required();
  table.add(user_login, [&state, user] {
    pb::UserLoginRequest request;
    request.set_name(*user);
    request.set_password(read_secret("password for " + *user));
    auto stub = stub_for(state, target_service::security, &pb::Session::NewStub);
    pb::UserLoginReply reply;
    int code = invoke(state, target_service::security, *stub, &pb::Session::Stub::UserLogin,
                      request, reply);
    if (code != exit_ok)
      return code;
    if (state.json)
      std::cout << to_json(reply);
    else
      std::cout << (reply.accepted() ? "accepted"
                    : reply.locked() ? "refused: locked"
                                     : "refused")
                << "\n";
    return reply.accepted() ? exit_ok : exit_remote_error;
  });
}

void add_service_user_commands(CLI::App& app, cli_state& state, command_table& table) {
  auto* group = app.add_subcommand("service-user", "Administrative accounts");
  group->require_subcommand(1);
  using S = pb::Security::Stub;

  auto* list = group->add_subcommand("list", "List service users");
  table.add(list, [&state] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::ServiceUserList reply;
    return show(state,
                invoke_on_node(state, target_service::security, *stub, &S::ListServiceUsers,
                               "/ward.admin.v1.Security/ListServiceUsers", pb::Empty{}, reply),
                reply);
  });

  auto name = std::make_shared<std::string>();
  auto* show_cmd = group->add_subcommand("show", "Show one service user");
  show_cmd->add_option("name", *name)->required();
  table.add(show_cmd, [&state, name] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::NameRequest request;
    request.set_name(*name);
    pb::ServiceUser reply;
    return show(state,
                invoke_on_node(state, target_service::security, *stub, &S::GetServiceUser,
                               "/ward.admin.v1.Security/GetServiceUser", request, reply),
                reply);
  });

  struct add_options {
    std::string name, setting, expires;
    std::vector<std::string> groups;
  };
  auto add_opts = std::make_shared<add_options>();
  auto* add = group->add_subcommand("add", "Create a service user (password on stdin)");
  add->add_option("name", add_opts->name)->required();
  add->add_option("--group,-g", add_opts->groups, "Rights group (repeatable)");
  add->add_option("--setting", add_opts->setting, "enabled | disabled | force_new_password");
  add->add_option("--expires", add_opts->expires, "Expiry date YYYY-MM-DD");
  table.add(add, [&state, add_opts] {
    pb::CreateServiceUserRequest request;
    request.set_name(add_opts->name);
    for (const auto& g : add_opts->groups)
      request.add_groups(g);
    request.set_setting(add_opts->setting);
    if (!add_opts->expires.empty())
      request.set_expires_at_unix(parse_date(add_opts->expires));
    request.set_password(read_secret("password for " + add_opts->name));
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::ServiceUser reply;
    return show(
        state,
        invoke(state, target_service::security, *stub, &S::CreateServiceUser, request, reply),
        reply);
  });

  struct set_options {
    std::string name, setting, expires;
    std::vector<std::string> groups;
    bool no_groups = false, no_expiry = false, reset_password = false;
  };
  auto set_opts = std::make_shared<set_options>();
  auto* set = group->add_subcommand("set", "Change a service user");
  set->add_option("name", set_opts->name)->required();
  set->add_option("--setting", set_opts->setting, "enabled | disabled | force_new_password");
  set->add_option("--group,-g", set_opts->groups, "Replace membership (repeatable)");
  set->add_flag("--no-groups", set_opts->no_groups, "Remove every membership");
  set->add_option("--expires", set_opts->expires, "Expiry date YYYY-MM-DD");
  set->add_flag("--no-expiry", set_opts->no_expiry, "Clear the expiry");
  set->add_flag("--reset-password", set_opts->reset_password,
                "Set a new password from stdin; the user must change it at next login");
  table.add(set, [&state, set_opts] {
    pb::UpdateServiceUserRequest request;
    request.set_name(set_opts->name);
    if (!set_opts->setting.empty())
      request.set_setting(set_opts->setting);
    if (!set_opts->groups.empty() || set_opts->no_groups) {
      request.set_set_groups(true);
      for (const auto& g : set_opts->groups)
        request.add_groups(g);
    }
    if (!set_opts->expires.empty())
      request.set_expires_at_unix(parse_date(set_opts->expires));
    if (set_opts->no_expiry)
      request.set_expires_at_unix(0);
    if (set_opts->reset_password)
      request.set_password(read_secret("new password for " + set_opts->name));
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::ServiceUser reply;
    return show(
        state,
        invoke(state, target_service::security, *stub, &S::UpdateServiceUser, request, reply),
        reply);
  });

  for (auto [verb, help] : {std::pair{"delete", "Delete a service user"},
                            std::pair{"unlock", "Unlock a locked service user"}}) {
    auto target = std::make_shared<std::string>();
    auto* command = group->add_subcommand(verb, help);
    command->add_option("name", *target)->required();
    bool is_delete = std::string_view(verb) == "delete";
    table.add(command, [&state, target, is_delete] {
      auto stub = security_stub(state, &pb::Security::NewStub);
      pb::NameRequest request;
      request.set_name(*target);
      if (is_delete) {
        pb::Empty reply;
        int code =
            invoke(state, target_service::security, *stub, &S::DeleteServiceUser, request, reply);
        if (code == exit_ok && !state.json)
          std::cout << "deleted " << *target << "\n";
        return code;
      }
      pb::ServiceUser reply;
      return show(
          state,
          invoke(state, target_service::security, *stub, &S::UnlockServiceUser, request, reply),
          reply);
    });
  }
}

void add_rights_commands(CLI::App& app, cli_state& state, command_table& table) {
  using S = pb::Security::Stub;
  auto* rights = app.add_subcommand("rights", "List every right");
  table.add(rights, [&state] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::RightList reply;
    return show(state,
                invoke(state, target_service::security, *stub, &S::ListRights, pb::Empty{}, reply),
                reply);
  });

  auto* group = app.add_subcommand("rights-group", "Rights groups");
  group->require_subcommand(1);
  auto* list = group->add_subcommand("list", "List rights groups");
  table.add(list, [&state] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::RightsGroupList reply;
    return show(
        state,
        invoke(state, target_service::security, *stub, &S::ListRightsGroups, pb::Empty{}, reply),
        reply);
  });
  auto name = std::make_shared<std::string>();
  auto* show_cmd = group->add_subcommand("show", "Show one rights group");
  show_cmd->add_option("name", *name)->required();
  table.add(show_cmd, [&state, name] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::NameRequest request;
    request.set_name(*name);
    pb::RightsGroup reply;
    return show(state,
                invoke(state, target_service::security, *stub, &S::GetRightsGroup, request, reply),
                reply);
  });
  for (auto verb : {"add", "set"}) {
    struct options {
      std::string name;
      std::vector<std::string> rights;
    };
    auto opts = std::make_shared<options>();
    bool creating = std::string_view(verb) == "add";
    auto* command = group->add_subcommand(verb, creating ? "Create a rights group"
                                                         : "Replace a rights group's rights");
    command->add_option("name", opts->name)->required();
    command->add_option("--right,-r", opts->rights, "Right (repeatable; see wardctl rights)");
    table.add(command, [&state, opts, creating] {
      pb::RightsGroup request;
      request.set_name(opts->name);
      for (const auto& r : opts->rights)
        request.add_rights(r);
      auto stub = security_stub(state, &pb::Security::NewStub);
      pb::RightsGroup reply;
      return show(state,
                  invoke(state, target_service::security, *stub,
                         creating ? &S::CreateRightsGroup : &S::UpdateRightsGroup, request, reply),
                  reply);
    });
  }
  auto doomed = std::make_shared<std::string>();
  auto* del = group->add_subcommand("delete", "Delete a rights group nobody uses");
  del->add_option("name", *doomed)->required();
  table.add(del, [&state, doomed] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::NameRequest request;
    request.set_name(*doomed);
    pb::Empty reply;
    int code =
        invoke(state, target_service::security, *stub, &S::DeleteRightsGroup, request, reply);
    if (code == exit_ok && !state.json)
      std::cout << "deleted " << *doomed << "\n";
    return code;
  });
}

void add_policy_commands(CLI::App& app, cli_state& state, command_table& table) {
  using S = pb::Security::Stub;
  auto* policy = app.add_subcommand("policy", "Password, PIN and lockout policy");
  policy->require_subcommand(1);
  auto* show_cmd = policy->add_subcommand("show", "Show the policy");
  table.add(show_cmd, [&state] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::Policy reply;
    return show(state,
                invoke(state, target_service::security, *stub, &S::GetPolicy, pb::Empty{}, reply),
                reply);
  });

  struct options {
    std::optional<unsigned> min_name, min_password, history, change_period, idle, reject_limit;
    std::optional<std::int64_t> reject_window, lock_seconds, source_lock_seconds;
    std::optional<unsigned> source_reject_limit;
    std::optional<std::string> complexity, reject_action;
    std::optional<std::string> tel_enforce, tel_complexity, tel_reject_action;
    std::optional<unsigned> tel_min_password, tel_reject_limit;
    std::optional<std::int64_t> tel_reject_window;
    std::optional<unsigned> login_code_min, voicemail_code_min;
    std::optional<std::string> login_code_test, voicemail_code_test;
  };
  auto o = std::make_shared<options>();
  auto* set = policy->add_subcommand("set", "Change parts of the policy");
  set->add_option("--min-name-length", o->min_name);
  set->add_option("--min-password-length", o->min_password);
  set->add_option("--complexity", o->complexity, "low | medium | high");
  set->add_option("--history", o->history, "Previous passwords that may not be reused");
  set->add_option("--change-period-days", o->change_period, "Forced change period; 0 = never");
  set->add_option("--idle-days", o->idle, "Disable accounts unused this long; 0 = never");
  set->add_option("--reject-limit", o->reject_limit);
  set->add_option("--reject-window-seconds", o->reject_window);
  set->add_option("--reject-action", o->reject_action,
                  "log_only | log_and_temporary_disable | log_and_disable_account");
  set->add_option("--lock-seconds", o->lock_seconds, "Temporary lock duration");
  set->add_option("--source-reject-limit", o->source_reject_limit,
                  "Failed logins from one address that block it");
  set->add_option("--source-lock-seconds", o->source_lock_seconds,
                  "How long an address is blocked");
  set->add_option("--telephony-enforce", o->tel_enforce, "on | off");
  set->add_option("--telephony-min-password-length", o->tel_min_password);
  set->add_option("--telephony-complexity", o->tel_complexity);
  set->add_option("--telephony-reject-limit", o->tel_reject_limit);
  set->add_option("--telephony-reject-window-seconds", o->tel_reject_window);
  set->add_option("--telephony-reject-action", o->tel_reject_action);
  set->add_option("--login-code-min-length", o->login_code_min);
  set->add_option("--login-code-complexity-test", o->login_code_test, "on | off");
  set->add_option("--voicemail-code-min-length", o->voicemail_code_min);
  set->add_option("--voicemail-code-complexity-test", o->voicemail_code_test, "on | off");
  table.add(set, [&state, o] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::Policy policy;
    int code = invoke(state, target_service::security, *stub, &S::GetPolicy, pb::Empty{}, policy);
    if (code != exit_ok)
      return code;
    auto* su = policy.mutable_service_user();
    if (o->min_name)
      su->set_min_name_length(*o->min_name);
    if (o->min_password)
      su->set_min_password_length(*o->min_password);
    if (o->complexity)
      su->set_complexity(*o->complexity);
    if (o->history)
      su->set_history_entries(*o->history);
    if (o->change_period)
      su->set_password_change_period_days(*o->change_period);
    if (o->idle)
      su->set_account_idle_days(*o->idle);
    if (o->reject_limit)
      su->mutable_lockout()->set_reject_limit(*o->reject_limit);
    if (o->reject_window)
      su->mutable_lockout()->set_reject_window_seconds(*o->reject_window);
    if (o->reject_action)
      su->mutable_lockout()->set_reject_action(*o->reject_action);
    if (o->lock_seconds)
      su->mutable_lockout()->set_temporary_lock_seconds(*o->lock_seconds);
    if (o->source_reject_limit)
      su->mutable_source_lockout()->set_reject_limit(*o->source_reject_limit);
    if (o->source_lock_seconds)
      su->mutable_source_lockout()->set_temporary_lock_seconds(*o->source_lock_seconds);
    auto* tu = policy.mutable_telephony_user();
    if (o->tel_enforce)
      tu->set_enforce(parse_switch(*o->tel_enforce, "--telephony-enforce"));
    if (o->tel_min_password)
      tu->set_min_password_length(*o->tel_min_password);
    if (o->tel_complexity)
      tu->set_complexity(*o->tel_complexity);
    if (o->tel_reject_limit)
      tu->mutable_lockout()->set_reject_limit(*o->tel_reject_limit);
    if (o->tel_reject_window)
      tu->mutable_lockout()->set_reject_window_seconds(*o->tel_reject_window);
    if (o->tel_reject_action)
      tu->mutable_lockout()->set_reject_action(*o->tel_reject_action);
    if (o->login_code_min)
      policy.mutable_login_code()->set_min_length(*o->login_code_min);
    if (o->login_code_test)
      policy.mutable_login_code()->set_complexity_test(
          parse_switch(*o->login_code_test, "--login-code-complexity-test"));
    if (o->voicemail_code_min)
      policy.mutable_voicemail_code()->set_min_length(*o->voicemail_code_min);
    if (o->voicemail_code_test)
      policy.mutable_voicemail_code()->set_complexity_test(
          parse_switch(*o->voicemail_code_test, "--voicemail-code-complexity-test"));
    pb::Policy reply;
    return show(state, invoke(state, target_service::security, *stub, &S::SetPolicy, policy, reply),
                reply);
  });
}

void add_level_commands(CLI::App& app, cli_state& state, command_table& table) {
  using S = pb::Security::Stub;
  auto* levels = app.add_subcommand("service-level", "Service security levels");
  levels->require_subcommand(1);
  auto* show_cmd = levels->add_subcommand("show", "Show every service's level and open ports");
  table.add(show_cmd, [&state] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::ServiceLevelList reply;
    return show(
        state,
        invoke(state, target_service::security, *stub, &S::GetServiceLevels, pb::Empty{}, reply),
        reply);
  });
  auto service = std::make_shared<std::string>();
  auto level = std::make_shared<std::string>();
  auto* set = levels->add_subcommand("set", "Set a service's level; takes effect at once");
  set->add_option("service", *service)->required();
  set->add_option("level", *level,
                  "disabled | unsecure_only | unsecure_and_secure | secure_low | secure_medium | "
                  "secure_high")
      ->required();
  table.add(set, [&state, service, level] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::ServiceLevel request;
    request.set_service(*service);
    request.set_level(*level);
    pb::ServiceLevelList reply;
    return show(state,
                invoke(state, target_service::security, *stub, &S::SetServiceLevel, request, reply),
                reply);
  });

  auto* interfaces = app.add_subcommand("interfaces", "Unsecured application interfaces");
  interfaces->require_subcommand(1);
  auto* ishow = interfaces->add_subcommand("show", "Show the switches");
  table.add(ishow, [&state] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::UnsecuredInterfaces reply;
    return show(state,
                invoke(state, target_service::security, *stub, &S::GetUnsecuredInterfaces,
                       pb::Empty{}, reply),
                reply);
  });
  struct options {
    std::optional<std::string> monitor, cti, dir_read, dir_write, writer;
  };
  auto o = std::make_shared<options>();
  auto* iset = interfaces->add_subcommand("set", "Change switches (on | off)");
  iset->add_option("--legacy-monitor", o->monitor);
  iset->add_option("--cti", o->cti);
  iset->add_option("--directory-read", o->dir_read);
  iset->add_option("--directory-write", o->dir_write);
  iset->add_option("--file-writer", o->writer, "IPv4 address allowed to write files");
  table.add(iset, [&state, o] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::UnsecuredInterfaces current;
    int code = invoke(state, target_service::security, *stub, &S::GetUnsecuredInterfaces,
                      pb::Empty{}, current);
    if (code != exit_ok)
      return code;
    if (o->monitor)
      current.set_legacy_monitor(parse_switch(*o->monitor, "--legacy-monitor"));
    if (o->cti)
      current.set_cti(parse_switch(*o->cti, "--cti"));
    if (o->dir_read)
      current.set_directory_read(parse_switch(*o->dir_read, "--directory-read"));
    if (o->dir_write)
      current.set_directory_write(parse_switch(*o->dir_write, "--directory-write"));
    if (o->writer)
      current.set_file_writer_address(*o->writer);
    pb::UnsecuredInterfaces reply;
    return show(
        state,
        invoke(state, target_service::security, *stub, &S::SetUnsecuredInterfaces, current, reply),
        reply);
  });

  auto* security = app.add_subcommand("security", "Security settings as a whole");
  security->require_subcommand(1);
  auto yes = std::make_shared<bool>(false);
  auto* reset = security->add_subcommand("reset", "Restore every security default");
  reset->add_flag("--yes", *yes, "Confirm the reset")->required();
  table.add(reset, [&state] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::Empty reply;
    int code =
        invoke(state, target_service::security, *stub, &S::SecurityReset, pb::Empty{}, reply);
    if (code == exit_ok && !state.json)
      std::cout << "security settings reset to defaults; first-start passwords apply again\n";
    return code;
  });

  auto* audit = app.add_subcommand("audit", "The audit trail");
  audit->require_subcommand(1);
  struct query {
    std::string kind, actor;
    std::uint64_t after = 0;
    unsigned limit = 50;
  };
  auto q = std::make_shared<query>();
  auto* alist = audit->add_subcommand("list", "Newest audit records");
  alist->add_option("--kind", q->kind,
                    "login | logout | change | password_change | security_reset | alarm | "
                    "access_denied");
  alist->add_option("--actor", q->actor);
  alist->add_option("--after", q->after, "Only records after this sequence number");
  alist->add_option("--limit", q->limit)->capture_default_str();
  table.add(alist, [&state, q] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::AuditQueryRequest request;
    request.set_kind(q->kind);
    request.set_actor(q->actor);
    request.set_after_sequence(q->after);
    request.set_limit(q->limit);
    pb::AuditRecordList reply;
    return show(state,
                invoke_on_node(state, target_service::security, *stub, &S::AuditQuery,
                               "/ward.admin.v1.Security/AuditQuery", request, reply),
                reply);
  });
  auto* verify = audit->add_subcommand("verify", "Check the hash chain of the whole trail");
  table.add(verify, [&state] {
    auto stub = security_stub(state, &pb::Security::NewStub);
    pb::AuditVerifyReply reply;
    int code = show(state,
                    invoke_on_node(state, target_service::security, *stub, &S::AuditVerify,
                                   "/ward.admin.v1.Security/AuditVerify", pb::Empty{}, reply),
                    reply);
    return code == exit_ok && !reply.intact() ? exit_remote_error : code;
  });
}

void add_telephony_commands(CLI::App& app, cli_state& state, command_table& table) {
  auto* blacklist = app.add_subcommand("blacklist", "SIP blacklists of this node's guard");
  blacklist->require_subcommand(1);
  auto* blist = blacklist->add_subcommand("list", "Blacklisted addresses and extensions");
  table.add(blist, [&state] {
    auto stub = stub_for(state, target_service::status, &pb::Telephony::NewStub);
    pb::BlacklistReply reply;
    return show(state,
                invoke_on_node(state, target_service::status, *stub,
                               &pb::Telephony::Stub::Blacklist,
                               "/ward.admin.v1.Telephony/Blacklist", pb::Empty{}, reply),
                reply);
  });
  struct reset_target {
    std::string address, extension;
  };
  auto target = std::make_shared<reset_target>();
  auto* breset = blacklist->add_subcommand("reset", "Lift a blacklisting");
  auto* by_address = breset->add_option("--address", target->address, "IP address");
  auto* by_extension = breset->add_option("--extension", target->extension, "Extension number");
  by_address->excludes(by_extension);
  table.add(breset, [&state, target] {
    if (target->address.empty() == target->extension.empty())
      throw usage_error("name exactly one of --address and --extension");
    auto stub = stub_for(state, target_service::status, &pb::Telephony::NewStub);
    pb::ResetBlacklistRequest request;
    request.set_kind(target->address.empty() ? "extension" : "address");
    request.set_key(target->address.empty() ? target->extension : target->address);
    pb::Empty reply;
    int code = invoke(state, target_service::status, *stub, &pb::Telephony::Stub::ResetBlacklist,
                      request, reply);
    if (code == exit_ok)
      std::cout << "blacklisting of " << request.key() << " lifted\n";
    return code;
  });
  auto* registrations =
      app.add_subcommand("registrations", "SIP registrations held by this node's registrar");
  table.add(registrations, [&state] {
    auto stub = stub_for(state, target_service::status, &pb::Telephony::NewStub);
    pb::RegistrationList reply;
    return show(state,
                invoke_on_node(state, target_service::status, *stub,
                               &pb::Telephony::Stub::Registrations,
                               "/ward.admin.v1.Telephony/Registrations", pb::Empty{}, reply),
                reply);
  });
  auto* calls = app.add_subcommand(
      "calls", "Calls in progress through this node's B2BUA, with media per leg");
  table.add(calls, [&state] {
    auto stub = stub_for(state, target_service::status, &pb::Telephony::NewStub);
    pb::CallList reply;
    return show(state,
                invoke_on_node(state, target_service::status, *stub, &pb::Telephony::Stub::Calls,
                               "/ward.admin.v1.Telephony/Calls", pb::Empty{}, reply),
                reply);
  });
}

/// `key=value` assignments of `wardctl sip set` as a request that names only those
/// settings; anything unreadable is a usage error, before anything is sent.
pb::SipSettings sip_settings_of(const std::vector<std::string>& assignments) {
  pb::SipSettings request;
  std::set<std::string> seen;
  auto port = [](const std::string& key, const std::string& text) {
    bool digits =
        !text.empty() && text.size() <= 5 &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    auto value = digits ? std::stoul(text) : 0;
    if (!digits || value > 65535)
      throw usage_error(key + " takes a port number, got '" + text + "'");
    return static_cast<std::uint32_t>(value);
  };
  // A UserAgentList or a NumberList.
  auto list = [](const std::string& key, const std::string& text, auto* out) {
    out->Clear();
    auto trimmed = [](std::string item) {
      auto first = item.find_first_not_of(' ');
      return first == std::string::npos
                 ? std::string{}
                 : item.substr(first, item.find_last_not_of(' ') - first + 1);
    };
    if (trimmed(text).empty())
      return;
    std::size_t start = 0;
    while (true) {
      auto comma = text.find(',', start);
      auto item = trimmed(text.substr(start, comma == std::string::npos ? comma : comma - start));
      if (item.empty())
        throw usage_error(key + " has an empty entry in '" + text +
                          "'; entries are comma-separated, and " + key + "= clears the list");
      out->add_entries(item);
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
  };
  for (const auto& assignment : assignments) {
    auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0)
      throw usage_error("expected key=value, got '" + assignment + "'; keys are " +
                        sip_setting_keys);
    auto key = assignment.substr(0, equals);
    auto value = assignment.substr(equals + 1);
    if (!seen.insert(key).second)
      throw usage_error(key + " is given twice");
    if (key == "auto_create")
      request.set_auto_create(parse_switch(value, key));
    else if (key == "strict_sips")
      request.set_strict_sips(parse_switch(value, key));
    else if (key == "remote_workers")
      request.set_remote_workers(parse_switch(value, key));
    else if (key == "user_agent_allow")
      list(key, value, request.mutable_user_agent_allow());
    else if (key == "user_agent_block")
      list(key, value, request.mutable_user_agent_block());
    else if (key == "rtp_port_min")
      request.set_rtp_port_min(port(key, value));
    else if (key == "rtp_port_max")
      request.set_rtp_port_max(port(key, value));
    else if (key == "direct_media")
      request.set_direct_media(parse_switch(value, key));
    else if (key == "emergency_numbers")
      list(key, value, request.mutable_emergency_numbers());
    else if (key == "emergency_extension")
      request.set_emergency_extension(value);
    else
      throw usage_error("unknown setting '" + key + "'; keys are " + sip_setting_keys);
  }
  return request;
}

void add_sip_commands(CLI::App& app, cli_state& state, command_table& table) {
  using T = pb::Telephony::Stub;
  // The SIP policy is configuration, like the extensions: the Configuration endpoint.
  auto sip_stub = [&state] {
    return stub_for(state, target_service::configuration, &pb::Telephony::NewStub);
  };
  auto* sip = app.add_subcommand(
      "sip", "The cluster's SIP policy (SPEC SIP-1, SIP-3..SIP-5, MED-3, TF-1, TF-2)");
  sip->require_subcommand(1);
  auto* show_cmd = sip->add_subcommand("show", "Show the SIP policy, one key: value per line");
  table.add(show_cmd, [&state, sip_stub] {
    auto stub = sip_stub();
    pb::SipSettings reply;
    return show(
        state,
        invoke(state, target_service::configuration, *stub, &T::GetSipSettings, pb::Empty{}, reply),
        reply);
  });
  auto assignments = std::make_shared<std::vector<std::string>>();
  auto* set = sip->add_subcommand(
      "set", "Change SIP policy settings in one step; a refused value changes none of them");
  set->add_option("key=value", *assignments,
                  "auto_create=on|off (lapses 24 h after it is switched on), strict_sips=on|off, "
                  "user_agent_allow=A,B, user_agent_block=A,B (case-insensitive substrings; "
                  "empty clears), remote_workers=on|off (needs rtp_port_max <= 50750), "
                  "rtp_port_min=N (even, >= 1024), rtp_port_max=N, direct_media=on|off (media "
                  "directly between phones on one node when their capabilities match), "
                  "emergency_numbers=112,911 (1 to 15 of 0-9 * # each; empty clears), "
                  "emergency_extension=N (the extension emergency calls ring; empty clears)")
      ->required();
  table.add(set, [&state, assignments, sip_stub] {
    auto request = sip_settings_of(*assignments);
    auto stub = sip_stub();
    pb::SipSettings reply;
    return show(
        state,
        invoke(state, target_service::configuration, *stub, &T::SetSipSettings, request, reply),
        reply);
  });
}

/// SPEC MED-2: `media show|set`. The system level and the line overrides live in the SIP
/// policy, the extension overrides on the extensions: both on the Configuration endpoint.
void add_media_commands(CLI::App& app, cli_state& state, command_table& table) {
  using T = pb::Telephony::Stub;
  using C = pb::Configuration::Stub;
  auto telephony_stub = [&state] {
    return stub_for(state, target_service::configuration, &pb::Telephony::NewStub);
  };
  auto config_stub = [&state] {
    return stub_for(state, target_service::configuration, &pb::Configuration::NewStub);
  };
  auto* media = app.add_subcommand(
      "media", "Media security (MED-2): system level with per-line and per-extension overrides");
  media->require_subcommand(1);

  auto* show_cmd = media->add_subcommand(
      "show", "The system level, then each line override, then each extension override");
  table.add(show_cmd, [&state, telephony_stub, config_stub] {
    pb::SipSettings sip;
    auto tstub = telephony_stub();
    if (int code = invoke(state, target_service::configuration, *tstub, &T::GetSipSettings,
                          pb::Empty{}, sip);
        code != exit_ok)
      return code;
    pb::ExtensionList extensions;
    auto cstub = config_stub();
    if (int code = invoke(state, target_service::configuration, *cstub, &C::ListExtensions,
                          pb::Empty{}, extensions);
        code != exit_ok)
      return code;
    if (state.json) {
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
      std::cout << to_json(shown);
      return exit_ok;
    }
    print_media_levels(sip);
    for (const auto& ext : extensions.extensions())
      if (ext.media_security() != "system")
        std::cout << "extension " << ext.number() << ": " << ext.media_security() << "\n";
    return exit_ok;
  });

  auto* set = media->add_subcommand("set", "Change the system level or one override");
  set->require_subcommand(1);
  // Sends one change of the media levels and prints the levels the primary then holds.
  auto set_media = [&state, telephony_stub](const pb::SipSettings& request) {
    auto stub = telephony_stub();
    pb::SipSettings reply;
    int code =
        invoke(state, target_service::configuration, *stub, &T::SetSipSettings, request, reply);
    if (code != exit_ok || state.json)
      return show(state, code, reply);
    print_media_levels(reply);
    return exit_ok;
  };
  auto system_level = std::make_shared<std::string>();
  auto* set_system = set->add_subcommand("system", "Set the system level");
  set_system->add_option("level", *system_level, "disabled | best_effort | enforce")->required();
  table.add(set_system, [system_level, set_media] {
    pb::SipSettings request;
    request.set_media_security(media_level_of(*system_level, "media set system", false));
    return set_media(request);
  });

  auto line = std::make_shared<std::pair<std::string, std::string>>();
  auto* set_line = set->add_subcommand(
      "line", "Override the level on the cluster line to a node; system removes the override");
  set_line->add_option("node", line->first, "Name of the node at the other end of the line")
      ->required();
  set_line->add_option("level", line->second, "disabled | best_effort | enforce | system")
      ->required();
  table.add(set_line, [line, set_media] {
    const auto& node = line->first;
    bool valid_name =
        !node.empty() && node.size() <= 63 && std::all_of(node.begin(), node.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        });
    if (!valid_name)
      throw usage_error("a node name is 1 to 63 of a-z 0-9 -, got '" + node + "'");
    pb::SipSettings request;
    // One change, applied on the primary to the overrides it holds: concurrent changes to
    // other lines are kept.
    (*request.mutable_line_media_security_changes())[node] =
        media_level_of(line->second, "media set line", true);
    return set_media(request);
  });

  auto extension = std::make_shared<std::pair<std::string, std::string>>();
  auto* set_extension = set->add_subcommand(
      "extension", "Override the level of an extension; system removes the override");
  set_extension->add_option("number", extension->first, "Extension number")->required();
  set_extension->add_option("level", extension->second, "disabled | best_effort | enforce | system")
      ->required();
  table.add(set_extension, [&state, extension, config_stub] {
    const auto& number = extension->first;
    if (number.empty() ||
        !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw usage_error("an extension number is digits, got '" + number + "'");
    pb::ExtensionRequest request;
    request.set_number(number);
    request.set_media_security(media_level_of(extension->second, "media set extension", true));
    auto stub = config_stub();
    pb::Extension reply;
    int code =
        invoke(state, target_service::configuration, *stub, &C::UpdateExtension, request, reply);
    if (code != exit_ok || state.json)
      return show(state, code, reply);
    std::cout << "extension " << reply.number() << ": " << reply.media_security() << "\n";
    return exit_ok;
  });
}

void add_cluster_commands(CLI::App& app, cli_state& state, command_table& table) {
  auto* cluster = app.add_subcommand("cluster", "The cluster as this node sees it over its lines");
  cluster->require_subcommand(1);
  auto* status = cluster->add_subcommand(
      "status", "Nodes, roles, line state and security, certificates, replication and events");
  table.add(status, [&state] {
    auto stub = stub_for(state, target_service::status, &pb::Cluster::NewStub);
    pb::ClusterStatusReply reply;
    return show(state,
                invoke_on_node(state, target_service::status, *stub, &pb::Cluster::Stub::Status,
                               "/ward.admin.v1.Cluster/Status", pb::Empty{}, reply),
                reply);
  });
  struct events_query {
    std::string node;
    std::uint64_t after = 0;
    unsigned limit = 100;
  };
  auto q = std::make_shared<events_query>();
  auto* events =
      cluster->add_subcommand("events", "Audit records and alarms a node forwarded to the primary");
  events->add_option("--node", q->node, "The node whose events to list")->required();
  events->add_option("--after", q->after, "Only records after this sequence number");
  events->add_option("--limit", q->limit)->capture_default_str();
  table.add(events, [&state, q] {
    auto stub = stub_for(state, target_service::security, &pb::Cluster::NewStub);
    pb::ClusterEventsRequest request;
    request.set_node(q->node);
    request.set_after_sequence(q->after);
    request.set_limit(q->limit);
    pb::AuditRecordList reply;
    return show(
        state,
        invoke(state, target_service::security, *stub, &pb::Cluster::Stub::Events, request, reply),
        reply);
  });
}

void add_configuration_commands(CLI::App& app, cli_state& state, command_table& table) {
  using C = pb::Configuration::Stub;
  auto config_stub = [&state] {
    return stub_for(state, target_service::configuration, &pb::Configuration::NewStub);
  };
  auto* user = app.add_subcommand("user", "Telephony users");
  user->require_subcommand(1);
  auto* list = user->add_subcommand("list", "List telephony users");
  table.add(list, [&state, config_stub] {
    auto stub = config_stub();
    pb::TelephonyUserList reply;
    return show(state,
                invoke(state, target_service::configuration, *stub, &C::ListTelephonyUsers,
                       pb::Empty{}, reply),
                reply);
  });
  for (auto verb : {"add", "set"}) {
    struct options {
      std::string name;
      std::optional<std::string> full_name, extension;
      bool password = false, login_code = false, voicemail_code = false;
    };
    auto o = std::make_shared<options>();
    bool creating = std::string_view(verb) == "add";
    auto* command = user->add_subcommand(verb, creating ? "Create a telephony user"
                                                        : "Change a telephony user");
    command->add_option("name", o->name)->required();
    command->add_option("--full-name", o->full_name);
    auto* extension = command->add_option("--extension", o->extension);
    if (creating)
      extension->required();
    command->add_flag("--password-stdin", o->password, "Read the user password from stdin");
    command->add_flag("--login-code-stdin", o->login_code, "Read the login code from stdin");
    command->add_flag("--voicemail-code-stdin", o->voicemail_code,
                      "Read the voicemail code from stdin");
    table.add(command, [&state, o, creating, config_stub] {
      pb::TelephonyUserRequest request;
      request.set_name(o->name);
      if (o->full_name)
        request.set_full_name(*o->full_name);
      if (o->extension)
        request.set_extension(*o->extension);
      if (o->password)
        request.set_password(read_secret("user password"));
      if (o->login_code)
        request.set_login_code(read_secret("login code"));
      if (o->voicemail_code)
        request.set_voicemail_code(read_secret("voicemail code"));
      auto stub = config_stub();
      pb::TelephonyUser reply;
      return show(state,
                  invoke(state, target_service::configuration, *stub,
                         creating ? &C::CreateTelephonyUser : &C::UpdateTelephonyUser, request,
                         reply),
                  reply);
    });
  }
  for (auto verb : {"delete", "unlock"}) {
    auto target = std::make_shared<std::string>();
    bool is_delete = std::string_view(verb) == "delete";
    auto* command = user->add_subcommand(verb, is_delete ? "Delete a telephony user"
                                                         : "Unlock a locked telephony user");
    command->add_option("name", *target)->required();
    table.add(command, [&state, target, is_delete, config_stub] {
      auto stub = config_stub();
      pb::NameRequest request;
      request.set_name(*target);
      if (is_delete) {
        pb::Empty reply;
        int code = invoke(state, target_service::configuration, *stub, &C::DeleteTelephonyUser,
                          request, reply);
        if (code == exit_ok && !state.json)
          std::cout << "deleted " << *target << "\n";
        return code;
      }
      pb::TelephonyUser reply;
      return show(state,
                  invoke(state, target_service::configuration, *stub, &C::UnlockTelephonyUser,
                         request, reply),
                  reply);
    });
  }

  auto* ext = app.add_subcommand("extension", "SIP extensions");
  ext->require_subcommand(1);
  auto* elist = ext->add_subcommand("list", "List extensions");
  table.add(elist, [&state, config_stub] {
    auto stub = config_stub();
    pb::ExtensionList reply;
    return show(
        state,
        invoke(state, target_service::configuration, *stub, &C::ListExtensions, pb::Empty{}, reply),
        reply);
  });
  for (auto verb : {"add", "set"}) {
    struct options {
      std::string number;
      bool phone_password = false;
      std::optional<std::string> force_authorization, remote_worker_address, media_security;
    };
    auto o = std::make_shared<options>();
    bool creating = std::string_view(verb) == "add";
    auto* command =
        ext->add_subcommand(verb, creating ? "Create an extension" : "Change an extension");
    command->add_option("number", o->number)->required();
    command->add_flag("--phone-password-stdin", o->phone_password,
                      "Read the phone password from stdin");
    command->add_option("--force-authorization", o->force_authorization, "on | off");
    command->add_option("--remote-worker-address", o->remote_worker_address,
                        "Pinned public IP address of a remote worker's phone (SIP-5); \"\" "
                        "clears it");
    command->add_option("--media-security", o->media_security,
                        "disabled | best_effort | enforce: this extension's media security "
                        "(MED-2); system = the system setting");
    table.add(command, [&state, o, creating, config_stub] {
      pb::ExtensionRequest request;
      request.set_number(o->number);
      if (o->phone_password)
        request.set_phone_password(read_secret("phone password"));
      if (o->force_authorization)
        request.set_force_authorization(
            parse_switch(*o->force_authorization, "--force-authorization"));
      if (o->remote_worker_address)
        request.set_remote_worker_address(*o->remote_worker_address);
      if (o->media_security)
        request.set_media_security(media_level_of(*o->media_security, "--media-security", true));
      auto stub = config_stub();
      pb::Extension reply;
      return show(state,
                  invoke(state, target_service::configuration, *stub,
                         creating ? &C::CreateExtension : &C::UpdateExtension, request, reply),
                  reply);
    });
  }
  auto doomed = std::make_shared<std::string>();
  auto* edel = ext->add_subcommand("delete", "Delete an extension");
  edel->add_option("number", *doomed)->required();
  table.add(edel, [&state, doomed, config_stub] {
    auto stub = config_stub();
    pb::NameRequest request;
    request.set_name(*doomed);
    pb::Empty reply;
    int code =
        invoke(state, target_service::configuration, *stub, &C::DeleteExtension, request, reply);
    if (code == exit_ok && !state.json)
      std::cout << "deleted " << *doomed << "\n";
    return code;
  });
}

void add_pki_ca_commands(CLI::App& pki, cli_state& state, command_table& table) {
  using P = pb::Pki::Stub;
  auto pki_stub = [&state] { return stub_for(state, target_service::security, &pb::Pki::NewStub); };
  auto* ca = pki.add_subcommand("ca", "The certificate authority of the cluster (primary)");
  ca->require_subcommand(1);

  auto* ca_show = ca->add_subcommand("show", "Show the CA certificate and the chain above it");
  table.add(ca_show, [&state, pki_stub] {
    auto stub = pki_stub();
    pb::CaInfo reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::GetCa, pb::Empty{}, reply),
                reply);
  });

  struct export_options {
    bool pem = false, der = false;
    std::string out;
  };
  auto ex = std::make_shared<export_options>();
  auto* ca_export = ca->add_subcommand("export", "Write the CA certificate to a file (0644)");
  ca_export->add_flag("--pem", ex->pem, "PEM (default file root-ca.pem)");
  ca_export->add_flag("--der", ex->der, "DER (default file root-ca.crt)");
  ca_export->add_option("--out", ex->out, "File to write");
  table.add(ca_export, [&state, pki_stub, ex] {
    if (ex->pem == ex->der)
      throw usage_error("pki ca export takes exactly one of --pem and --der");
    std::string out = ex->out.empty() ? (ex->pem ? "root-ca.pem" : "root-ca.crt") : ex->out;
    check_writable(out);
    pb::ExportCaRequest request;
    request.set_format(ex->pem ? "pem" : "der");
    auto stub = pki_stub();
    pb::Blob reply;
    int code = invoke(state, target_service::security, *stub, &P::ExportCa, request, reply);
    if (code != exit_ok)
      return code;
    if (reply.data().empty()) {
      std::cerr << "wardctl: the node sent an empty certificate\n";
      return exit_remote_error;
    }
    write_local_file(out, reply.data(), 0644);
    if (!state.json)
      std::cout << "CA certificate written to " << out << "\n";
    return exit_ok;
  });

  auto* renew = ca->add_subcommand("renew", "Renew the root CA certificate with the same key");
  table.add(renew, [&state, pki_stub] {
    auto stub = pki_stub();
    pb::CaInfo reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::RenewCa, pb::Empty{}, reply),
                reply);
  });

  auto yes = std::make_shared<bool>(false);
  auto* create = ca->add_subcommand(
      "create-new", "Replace the CA with a new key; every identity must be issued again");
  create->add_flag("--yes", *yes, "Confirm the replacement")->required();
  table.add(create, [&state, pki_stub] {
    auto stub = pki_stub();
    pb::CaInfo reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::CreateNewCa, pb::Empty{}, reply),
                reply);
  });

  auto import_file = std::make_shared<std::string>();
  auto* import = ca->add_subcommand("import", "Replace the CA with a PKCS#12 (password on stdin)");
  import->add_option("--p12", *import_file, "PKCS#12 with the CA certificate, key and chain")
      ->required();
  table.add(import, [&state, pki_stub, import_file] {
    pb::ImportP12Request request;
    request.set_pkcs12(read_local_file(*import_file));
    request.set_password(read_secret("password of " + *import_file));
    auto stub = pki_stub();
    pb::CaInfo reply;
    return show(state, invoke(state, target_service::security, *stub, &P::ImportCa, request, reply),
                reply);
  });

  auto p12_out = std::make_shared<std::string>();
  auto* export_p12 = ca->add_subcommand(
      "export-p12", "Back up the CA with its key as a PKCS#12 (0600; password on stdin)");
  export_p12->add_option("--out", *p12_out, "File to write")->required();
  table.add(export_p12, [&state, pki_stub, p12_out] {
    check_writable(*p12_out);
    pb::PasswordRequest request;
    request.set_password(read_secret("password for " + *p12_out));
    auto stub = pki_stub();
    pb::Blob reply;
    int code = invoke(state, target_service::security, *stub, &P::ExportCaP12, request, reply);
    if (code != exit_ok)
      return code;
    if (reply.data().empty()) {
      std::cerr << "wardctl: the node sent an empty PKCS#12\n";
      return exit_remote_error;
    }
    write_local_file(*p12_out, reply.data(), 0600);
    if (!state.json)
      std::cout << "CA and key written to " << *p12_out << "\n";
    return exit_ok;
  });
}

void add_pki_issue_commands(CLI::App& pki, cli_state& state, command_table& table) {
  using P = pb::Pki::Stub;
  auto pki_stub = [&state] { return stub_for(state, target_service::security, &pb::Pki::NewStub); };
  struct issue_options {
    std::string subject, hash, out;
    std::vector<std::string> alt_names;
    unsigned days = 0, key_bits = 0;
    bool legacy = false;
  };
  auto o = std::make_shared<issue_options>();
  auto* issue = pki.add_subcommand(
      "issue", "Issue a device certificate as a PKCS#12 (0600; password on stdin)");
  issue->add_option("--subject", o->subject, "Common name")->required();
  issue
      ->add_option("--san", o->alt_names,
                   "DNS:name, IP:address, URI:uri, email:address (comma-separated, repeatable)")
      ->delimiter(',');
  issue->add_option("--days", o->days, "Validity in days (default: the node's)");
  issue->add_option("--key-bits", o->key_bits, "1024 | 2048 | 4096 (default: the node's)");
  issue->add_option("--hash", o->hash, "sha1 | sha224 | sha256 | sha384 | sha512");
  issue->add_flag("--legacy", o->legacy, "Allow legacy algorithms (1024-bit keys, SHA-1)");
  issue->add_option("--out", o->out, "PKCS#12 file to write")->required();
  table.add(issue, [&state, pki_stub, o] {
    check_writable(o->out);
    pb::IssueRequest request;
    request.set_common_name(o->subject);
    for (const auto& name : o->alt_names)
      request.add_subject_alt_names(name);
    request.set_validity_days(o->days);
    request.set_key_bits(o->key_bits);
    request.set_hash(o->hash);
    request.set_legacy(o->legacy);
    request.set_pkcs12_password(read_secret("password for " + o->out));
    auto stub = pki_stub();
    pb::IssueReply reply;
    int code = invoke(state, target_service::security, *stub, &P::Issue, request, reply);
    if (code != exit_ok)
      return code;
    for (const auto& warning : reply.warnings())
      std::cerr << "wardctl: warning: " << warning << "\n";
    if (reply.pkcs12().empty()) {
      std::cerr << "wardctl: the node sent an empty PKCS#12 for serial " << reply.serial_hex()
                << "\n";
      return exit_remote_error;
    }
    try {
      write_local_file(o->out, reply.pkcs12(), 0600);
    } catch (const usage_error& e) {
      throw usage_error(std::string(e.what()) + " (serial " + reply.serial_hex() +
                        " was issued; revoke it)");
    }
    if (state.json) {
      auto shown = reply;
      shown.clear_pkcs12();
      std::cout << to_json(shown);
    } else {
      std::cout << "issued serial " << reply.serial_hex() << "; PKCS#12 written to " << o->out
                << "\n";
    }
    return exit_ok;
  });

  auto* issued = pki.add_subcommand("issued", "List the certificates the CA issued");
  table.add(issued, [&state, pki_stub] {
    auto stub = pki_stub();
    pb::IssuedList reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::ListIssued, pb::Empty{}, reply),
                reply);
  });

  auto serial = std::make_shared<std::string>();
  auto* revoke = pki.add_subcommand("revoke", "Revoke an issued certificate");
  revoke->add_option("serial", *serial, "Serial in hex (see pki issued)")->required();
  table.add(revoke, [&state, pki_stub, serial] {
    pb::RevokeRequest request;
    request.set_serial_hex(*serial);
    auto stub = pki_stub();
    pb::IssuedList reply;
    return show(state, invoke(state, target_service::security, *stub, &P::Revoke, request, reply),
                reply);
  });
}

void add_pki_identity_commands(CLI::App& pki, cli_state& state, command_table& table) {
  using P = pb::Pki::Stub;
  auto pki_stub = [&state] { return stub_for(state, target_service::security, &pb::Pki::NewStub); };
  auto* identity = pki.add_subcommand("identity", "This node's identity certificate");
  identity->require_subcommand(1);
  for (auto verb : {"show", "renew"}) {
    bool renewing = std::string_view(verb) == "renew";
    auto* command = identity->add_subcommand(verb, renewing ? "Issue a new identity from the CA"
                                                            : "Show the identity certificate");
    table.add(command, [&state, pki_stub, renewing] {
      auto stub = pki_stub();
      pb::CertificateInfo reply;
      if (renewing)
        return show(
            state,
            invoke(state, target_service::security, *stub, &P::RenewIdentity, pb::Empty{}, reply),
            reply);
      return show(state,
                  invoke_on_node(state, target_service::security, *stub, &P::GetIdentity,
                                 "/ward.admin.v1.Pki/GetIdentity", pb::Empty{}, reply),
                  reply);
    });
  }
  auto file = std::make_shared<std::string>();
  auto* set_p12 = identity->add_subcommand(
      "set-p12", "Replace the identity with a PKCS#12 (password on stdin)");
  set_p12->add_option("--p12", *file, "PKCS#12 with the certificate, key and chain")->required();
  table.add(set_p12, [&state, pki_stub, file] {
    pb::ImportP12Request request;
    request.set_pkcs12(read_local_file(*file));
    request.set_password(read_secret("password of " + *file));
    auto stub = pki_stub();
    pb::CertificateInfo reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::SetIdentityP12, request, reply),
                reply);
  });
}

void add_pki_tcs_commands(CLI::App& pki, cli_state& state, command_table& table) {
  using P = pb::Pki::Stub;
  auto pki_stub = [&state] { return stub_for(state, target_service::security, &pb::Pki::NewStub); };
  auto* tcs = pki.add_subcommand("tcs", "The Trusted Certificate Store");
  tcs->require_subcommand(1);
  auto* list = tcs->add_subcommand("list", "List the trusted certificates");
  table.add(list, [&state, pki_stub] {
    auto stub = pki_stub();
    pb::TcsList reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::ListTcs, pb::Empty{}, reply),
                reply);
  });
  auto file = std::make_shared<std::string>();
  auto* add = tcs->add_subcommand("add", "Trust a certificate (PEM or DER file)");
  add->add_option("file", *file, "Certificate file")->required();
  table.add(add, [&state, pki_stub, file] {
    pb::Blob request;
    request.set_data(read_local_file(*file));
    auto stub = pki_stub();
    pb::TcsList reply;
    return show(state, invoke(state, target_service::security, *stub, &P::AddTcs, request, reply),
                reply);
  });
  auto fingerprint = std::make_shared<std::string>();
  auto* remove = tcs->add_subcommand("remove", "Stop trusting a certificate");
  remove->add_option("fingerprint", *fingerprint, "Full SHA-256 fingerprint (see --json tcs list)")
      ->required();
  table.add(remove, [&state, pki_stub, fingerprint] {
    pb::FingerprintRequest request;
    request.set_sha256_fingerprint(*fingerprint);
    auto stub = pki_stub();
    pb::TcsList reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::RemoveTcs, request, reply),
                reply);
  });
}

void add_pki_settings_commands(CLI::App& pki, cli_state& state, command_table& table) {
  using P = pb::Pki::Stub;
  auto pki_stub = [&state] { return stub_for(state, target_service::security, &pb::Pki::NewStub); };
  auto* checks = pki.add_subcommand("checks", "Checks of received certificates");
  checks->require_subcommand(1);
  auto* checks_show = checks->add_subcommand("show", "Show the check levels");
  table.add(checks_show, [&state, pki_stub] {
    auto stub = pki_stub();
    pb::CheckSettings reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::GetChecks, pb::Empty{}, reply),
                reply);
  });
  struct check_options {
    std::optional<std::string> management, telephony;
  };
  auto c = std::make_shared<check_options>();
  auto* checks_set = checks->add_subcommand("set", "Change check levels");
  checks_set->add_option("--management", c->management,
                         "none | low | medium | high | medium_remote | high_remote");
  checks_set->add_option("--telephony", c->telephony,
                         "none | low | medium | high | medium_remote | high_remote");
  table.add(checks_set, [&state, pki_stub, c] {
    auto stub = pki_stub();
    pb::CheckSettings current;
    int code = invoke(state, target_service::security, *stub, &P::GetChecks, pb::Empty{}, current);
    if (code != exit_ok)
      return code;
    if (c->management)
      current.set_management(*c->management);
    if (c->telephony)
      current.set_telephony(*c->telephony);
    pb::CheckSettings reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::SetChecks, current, reply),
                reply);
  });

  auto* tls = pki.add_subcommand("tls", "TLS settings");
  tls->require_subcommand(1);
  auto* tls_show = tls->add_subcommand("show", "Show the TLS settings");
  table.add(tls_show, [&state, pki_stub] {
    auto stub = pki_stub();
    pb::TlsSettings reply;
    return show(state,
                invoke(state, target_service::security, *stub, &P::GetTls, pb::Empty{}, reply),
                reply);
  });
  struct tls_options {
    std::optional<std::string> min_version, offer_chain, auto_renew;
  };
  auto t = std::make_shared<tls_options>();
  auto* tls_set = tls->add_subcommand("set", "Change TLS settings");
  tls_set->add_option("--min-version", t->min_version, "1.2 | 1.3");
  tls_set->add_option("--offer-chain", t->offer_chain,
                      "on | off: send the CA chain with the identity certificate");
  tls_set->add_option("--auto-renew", t->auto_renew,
                      "on | off: renew the identity from the CA before it expires");
  table.add(tls_set, [&state, pki_stub, t] {
    std::optional<bool> offer_chain, auto_renew;
    if (t->offer_chain)
      offer_chain = parse_switch(*t->offer_chain, "--offer-chain");
    if (t->auto_renew)
      auto_renew = parse_switch(*t->auto_renew, "--auto-renew");
    auto stub = pki_stub();
    pb::TlsSettings current;
    int code = invoke(state, target_service::security, *stub, &P::GetTls, pb::Empty{}, current);
    if (code != exit_ok)
      return code;
    if (t->min_version)
      current.set_minimum_version(*t->min_version);
    if (offer_chain)
      current.set_offer_chain(*offer_chain);
    if (auto_renew)
      current.set_renew_identity_automatically(*auto_renew);
    pb::TlsSettings reply;
    return show(state, invoke(state, target_service::security, *stub, &P::SetTls, current, reply),
                reply);
  });
}

void add_pki_commands(CLI::App& app, cli_state& state, command_table& table) {
  auto* pki = app.add_subcommand(
      "pki", "Certificate authority, node identity, trusted certificates, checks and TLS");
  pki->require_subcommand(1);
  add_pki_ca_commands(*pki, state, table);
  add_pki_issue_commands(*pki, state, table);
  add_pki_identity_commands(*pki, state, table);
  add_pki_tcs_commands(*pki, state, table);
  add_pki_settings_commands(*pki, state, table);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"wardctl: administer a Ward PBX cluster"};
  app.require_subcommand(1);
  cli_state state;
  state.session_file = default_session_file();
  int timeout_seconds = 10;
  auto& o = state.options;
  app.add_option("--node", o.node, "System Status endpoint HOST:PORT")->capture_default_str();
  app.add_option("--security", o.security, "Security Administration endpoint (default HOST:7447)");
  app.add_option("--configuration", o.configuration, "Configuration endpoint (default HOST:7445)");
  app.add_option("--endpoints", o.endpoints_file,
                 "A node's <data_dir>/run/endpoints file: use the ports it lists");
  app.add_option("--ca-file", o.ca_file,
                 "PEM certificate(s) trusted to sign the node's certificate");
  app.add_flag("--insecure", o.insecure, "DANGEROUS: do not verify the node's certificate");
  app.add_flag("--plaintext", o.plaintext,
               "DANGEROUS: no TLS (only for a service at an Unsecure level)");
  app.add_option("--server-name", o.server_name,
                 "Name expected in the node's certificate (default: host of the endpoint)");
  app.add_option("--cert", o.cert_file, "Client certificate (PEM) for Secure High services");
  app.add_option("--key", o.key_file, "Client key (PEM) for Secure High services");
  app.add_option("--on", state.on_node,
                 std::string("Make a node-scoped call on this node through the primary, over "
                             "the node's line (") +
                     node_scoped_commands + ")");
  app.add_option("--session-file", state.session_file,
                 "Where the session token is kept (default $WARD_SESSION_FILE or "
                 "~/.config/ward/session)");
  app.add_option("--timeout", timeout_seconds, "Seconds to wait for an answer")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_flag("--json", state.json, "Print machine-readable JSON");

  command_table table;
  auto* status = app.add_subcommand("status", "Show a node's name, role, version and uptime");
  table.add(status, [&state] { return run_status(state); });
  auto health_service = std::make_shared<std::string>();
  auto* health = app.add_subcommand("health", "gRPC health check of a node");
  health->add_option("--service", *health_service, "Service name (empty: the whole node)");
  table.add(health, [&state, health_service] { return run_health(state, *health_service); });
  add_session_commands(app, state, table);
  add_service_user_commands(app, state, table);
  add_rights_commands(app, state, table);
  add_policy_commands(app, state, table);
  add_level_commands(app, state, table);
  add_configuration_commands(app, state, table);
  add_cluster_commands(app, state, table);
  add_telephony_commands(app, state, table);
  add_sip_commands(app, state, table);
  add_media_commands(app, state, table);
  add_pki_commands(app, state, table);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  state.options.timeout = std::chrono::seconds(timeout_seconds);
  try {
    for (const auto& [command, run] : table.entries)
      if (command->parsed())
        return run();
  } catch (const usage_error& e) {
    std::cerr << "wardctl: " << e.what() << "\n";
    return exit_usage;
  }
  std::cerr << "wardctl: choose a subcommand; see wardctl --help\n";
  return exit_usage;
}
