#include "node/config_settings.hpp"

#include "core/enum_names.hpp"
#include "core/net_address.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <optional>

// The table of every configuration key: its documentation, default and environment
// variable, and how a value is checked and applied (SPEC DEP-3).
namespace ward::node::config_detail {

constexpr auto log_level_names =
    name_table(enum_name{log_level::trace, "trace"}, enum_name{log_level::debug, "debug"},
               enum_name{log_level::info, "info"}, enum_name{log_level::warn, "warn"},
               enum_name{log_level::error, "error"});

bool is_dns_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

reason check_node_name(std::string_view value) {
  if (value.empty() || value.size() > 63)
    return "must be 1 to 63 characters";
  if (!std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      }))
    return "may contain only lower-case letters, digits and '-'";
  if (value.front() == '-' || value.back() == '-')
    return "must not start or end with '-'";
  return std::nullopt;
}

reason check_hostname(std::string_view value) {
  if (value.empty() || value.size() > 64)
    return "must be 1 to 64 characters";
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || value[i] == '.') {
      auto label = value.substr(label_start, i - label_start);
      if (label.empty() || label.size() > 63)
        return "each dot-separated label must be 1 to 63 characters";
      if (label.front() == '-' || label.back() == '-')
        return "labels must not start or end with '-'";
      label_start = i + 1;
    } else if (!is_dns_label_char(value[i])) {
      return "may contain only letters, digits, '-' and '.'";
    }
  }
  return std::nullopt;
}

std::expected<std::uint16_t, std::string> parse_port(std::string_view value, bool allow_zero) {
  unsigned number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc{} || end != value.data() + value.size())
    return std::unexpected("must be an integer, got '" + std::string(value) + "'");
  if (number > 65535 || (!allow_zero && number == 0))
    return std::unexpected(std::string(allow_zero ? "must be 0 to 65535" : "must be 1 to 65535") +
                           ", got " + std::string(value));
  return static_cast<std::uint16_t>(number);
}

reason check_ip_address(std::string_view value) {
  if (!is_ip_literal(value))
    return "must be an IPv4 or IPv6 address, got '" + std::string(value) + "'";
  return std::nullopt;
}

reason check_optional_ip_address(std::string_view value) {
  return value.empty() ? std::nullopt : check_ip_address(value);
}

/// Only the address before any '/' is checked here.
bool is_cidr_block(std::string_view item) {
  return is_ip_literal(item.substr(0, item.find('/')));
}

reason check_sip_realm(std::string_view value) {
  if (value.empty() || value.size() > 63 || value.find_first_of("\":\\ ") != std::string_view::npos)
    return "must be 1 to 63 characters without quotes, colons, backslashes or spaces";
  return std::nullopt;
}

reason check_line_security(std::string_view value) {
  if (value != "low" && value != "medium" && value != "high")
    return "must be one of low, medium, high, got '" + std::string(value) + "'";
  return std::nullopt;
}

// The setters below cover the kinds of value several keys share; a key whose value is its
// own kind keeps a lambda in its group's table.

apply_fn port_setter(std::uint16_t node_config::*field, bool allow_zero = true) {
  return [field, allow_zero](std::string_view value, node_config& config) -> reason {
    auto port = parse_port(value, allow_zero);
    if (!port)
      return port.error();
    config.*field = *port;
    return std::nullopt;
  };
}

apply_fn text_setter(std::string node_config::*field, std::size_t max_length) {
  return [field, max_length](std::string_view value, node_config& config) -> reason {
    if (value.size() > max_length)
      return "must be at most " + std::to_string(max_length) + " characters";
    if (std::any_of(value.begin(), value.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
      return "must not contain control characters";
    config.*field = value;
    return std::nullopt;
  };
}

/// Stores the value once `check` finds nothing wrong with it.
apply_fn checked_setter(std::string node_config::*field, reason (*check)(std::string_view)) {
  return [field, check](std::string_view value, node_config& config) -> reason {
    if (auto bad = check(value))
      return bad;
    config.*field = value;
    return std::nullopt;
  };
}

/// Stores the path as given: parse_config resolves a relative one against the config file.
apply_fn path_setter(std::filesystem::path node_config::*field, bool required) {
  return [field, required](std::string_view value, node_config& config) -> reason {
    if (required && value.empty())
      return "must not be empty";
    config.*field = std::filesystem::path(value);
    return std::nullopt;
  };
}

apply_fn number_setter(std::uint32_t node_config::*field, unsigned min, unsigned max) {
  return [field, min, max](std::string_view value, node_config& config) -> reason {
    unsigned number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc{} || end != value.data() + value.size() || number < min || number > max)
      return "must be " + std::to_string(min) + " to " + std::to_string(max) + ", got '" +
             std::string(value) + "'";
    config.*field = number;
    return std::nullopt;
  };
}

/// A comma-separated list, every item passing `valid`; `items` names what they must be.
apply_fn list_setter(std::vector<std::string> node_config::*field, bool (*valid)(std::string_view),
                     std::string_view items) {
  return [field, valid, items](std::string_view value, node_config& config) -> reason {
    auto& list = config.*field;
    list.clear();
    std::size_t start = 0;
    while (!value.empty() && start <= value.size()) {
      auto comma = value.find(',', start);
      auto item = value.substr(start, comma == std::string_view::npos ? value.npos : comma - start);
      if (!valid(item))
        return "must be " + std::string(items) + " separated by commas, got '" + std::string(item) +
               "'";
      list.emplace_back(item);
      if (comma == std::string_view::npos)
        break;
      start = comma + 1;
    }
    return std::nullopt;
  };
}

// The settings table, in groups. settings() joins them in this order, which is the order
// keys are documented in and applied in (so the first of several bad values is reported).

/// Who the node is and where it keeps its state.
std::vector<setting> node_settings() {
  return {
      {{"node.name", "WARD_NODE_NAME", "", "Name of the node in the cluster (a-z, 0-9, '-').",
        true},
       checked_setter(&node_config::name, check_node_name)},
      {{"node.role", "WARD_NODE_ROLE", "",
        "primary | secondary | expansion | appserver: decides which actors run.", true},
       [](std::string_view value, node_config& config) -> reason {
         auto role = parse_node_role(value);
         if (!role)
           return "must be one of primary, secondary, expansion, appserver, got '" +
                  std::string(value) + "'";
         config.role = *role;
         return std::nullopt;
       }},
      {{"node.hostname", "WARD_NODE_HOSTNAME", "(the machine's hostname)",
        "Name in the node's identity certificate."},
       checked_setter(&node_config::hostname, check_hostname)},
      {{"node.data_dir", "WARD_NODE_DATA_DIR", "",
        "Directory for the node's stores and certificates; relative to the config file.", true},
       path_setter(&node_config::data_dir, true)},
  };
}

/// The address and ports of the administrative services (SPEC SVC-2), metrics and lines.
std::vector<setting> listen_settings() {
  return {
      {{"listen.address", "WARD_LISTEN_ADDRESS", "127.0.0.1",
        "IP address every listener of the node binds."},
       checked_setter(&node_config::listen_address, check_ip_address)},
      {{"listen.status_port", "WARD_LISTEN_STATUS_PORT", "7443",
        "TLS port of the System Status service (status, health); 0 = any free port."},
       port_setter(&node_config::status_port)},
      {{"listen.status_plain_port", "WARD_LISTEN_STATUS_PLAIN_PORT", "7442",
        "Plaintext port of the System Status service, open only at an Unsecure level."},
       port_setter(&node_config::status_plain_port)},
      {{"listen.configuration_port", "WARD_LISTEN_CONFIGURATION_PORT", "7445",
        "TLS port of the Configuration service (telephony users, extensions)."},
       port_setter(&node_config::configuration_port)},
      {{"listen.configuration_plain_port", "WARD_LISTEN_CONFIGURATION_PLAIN_PORT", "7446",
        "Plaintext port of the Configuration service, open only at an Unsecure level."},
       port_setter(&node_config::configuration_plain_port)},
      {{"listen.security_port", "WARD_LISTEN_SECURITY_PORT", "7447",
        "TLS port of the Security Administration service (service users, policies, audit)."},
       port_setter(&node_config::security_port)},
      {{"listen.security_plain_port", "WARD_LISTEN_SECURITY_PLAIN_PORT", "7448",
        "Plaintext port of the Security Administration service, open only at an Unsecure "
        "level."},
       port_setter(&node_config::security_plain_port)},
      {{"listen.metrics_port", "WARD_LISTEN_METRICS_PORT", "9464",
        "TCP port of the Prometheus /metrics endpoint; 0 = any free port."},
       port_setter(&node_config::metrics_port)},
      {{"listen.line_port", "WARD_LISTEN_LINE_PORT", "7444",
        "TCP port on which primary and secondary accept lines; 0 = any free port."},
       port_setter(&node_config::line_port)},
  };
}

/// What the node's identity certificate names and the CA a primary creates (SPEC PKI-1, PKI-2).
std::vector<setting> identity_settings() {
  return {
      {{"node.addresses", "WARD_NODE_ADDRESSES", "",
        "Comma-separated IP addresses the identity certificate names besides listen.address."},
       list_setter(&node_config::identity_addresses, is_ip_literal, "IP addresses")},
      {{"pki.organization", "WARD_PKI_ORGANIZATION", "Ward",
        "O of the certificate authority a primary creates at first start."},
       text_setter(&node_config::ca_organization, 64)},
      {{"pki.organizational_unit", "WARD_PKI_ORGANIZATIONAL_UNIT", "", "OU of the CA."},
       text_setter(&node_config::ca_organizational_unit, 64)},
      {{"pki.locality", "WARD_PKI_LOCALITY", "", "L of the CA."},
       text_setter(&node_config::ca_locality, 64)},
      {{"pki.state", "WARD_PKI_STATE", "", "ST of the CA."},
       text_setter(&node_config::ca_state, 64)},
      {{"pki.country", "WARD_PKI_COUNTRY", "", "C of the CA: two letters, or empty."},
       [](std::string_view value, node_config& config) -> reason {
         if (!value.empty() &&
             (value.size() != 2 || !std::isalpha(static_cast<unsigned char>(value[0])) ||
              !std::isalpha(static_cast<unsigned char>(value[1]))))
           return "must be a two-letter country code";
         config.ca_country = value;
         return std::nullopt;
       }},
      {{"pki.email", "WARD_PKI_EMAIL", "", "E of the CA."},
       text_setter(&node_config::ca_email, 64)},
  };
}

/// What every node of a cluster must agree on, and how lines and fallback logins work.
std::vector<setting> cluster_settings() {
  return {
      {{"sip.realm", "WARD_SIP_REALM", "ward",
        "SIP digest realm of the cluster; phone passwords and login codes are stored as "
        "HA1 under it, so changing it requires setting them again."},
       checked_setter(&node_config::sip_realm, check_sip_realm)},
      {{"cluster.line_password_file", "WARD_CLUSTER_LINE_PASSWORD_FILE", "",
        "File (mode 0600) holding the line password every node of the cluster shares; lines "
        "prove it bound to their TLS session. Relative to the config file."},
       path_setter(&node_config::line_password_file, false)},
      {{"cluster.line_security", "WARD_CLUSTER_LINE_SECURITY", "high",
        "low | medium | high: what the ends of a line check of each other's certificate."},
       checked_setter(&node_config::line_security, check_line_security)},
      {{"cluster.fallback_account", "WARD_CLUSTER_FALLBACK_ACCOUNT", "",
        "Appserver: the service user that may log in locally while the primary is "
        "unreachable; empty = none."},
       text_setter(&node_config::fallback_account, 31)},
  };
}

/// The external syslog receiver (SPEC MON-2).
reason check_syslog_transport(std::string_view value) {
  if (value != "tls" && value != "tcp" && value != "udp")
    return "must be tls, tcp or udp, got '" + std::string(value) + "'";
  return std::nullopt;
}

std::vector<setting> syslog_settings() {
  return {
      {{"syslog.address", "WARD_SYSLOG_ADDRESS", "",
        "IP address of an external syslog receiver (RFC 5425, TLS); empty = none."},
       checked_setter(&node_config::syslog_address, check_optional_ip_address)},
      {{"syslog.port", "WARD_SYSLOG_PORT", "6514", "TCP port of the syslog receiver."},
       port_setter(&node_config::syslog_port, false)},
      {{"syslog.ca_file", "WARD_SYSLOG_CA_FILE", "",
        "PEM file of the CA that issued the syslog receiver's certificate."},
       path_setter(&node_config::syslog_ca_file, false)},
      {{"syslog.server_name", "WARD_SYSLOG_SERVER_NAME", "",
        "Name the receiver's certificate must carry; empty = its address."},
       text_setter(&node_config::syslog_server_name, 255)},
      {{"syslog.transport", "WARD_SYSLOG_TRANSPORT", "tls",
        "tls (RFC 5425) | tcp (RFC 6587) | udp (RFC 5426): tcp and udp send in clear, for "
        "receivers on a trusted network that speak nothing else."},
       [](std::string_view value, node_config& config) -> reason {
         if (auto bad = check_syslog_transport(value))
           return bad;
         config.syslog_transport = value;
         return std::nullopt;
       }},
  };
}

/// A comma-separated list of transport names, each naming one of `flags` at most once;
/// "none" clears them all. The flags are cleared first.
reason apply_transport_list(std::string_view value,
                            std::initializer_list<std::pair<std::string_view, bool*>> flags) {
  std::string names;
  for (const auto& [name, flag] : flags) {
    *flag = false;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  if (value == "none")
    return std::nullopt;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    auto item = value.substr(start, comma == std::string_view::npos ? value.npos : comma - start);
    auto named = std::ranges::find(flags, item, &std::pair<std::string_view, bool*>::first);
    if (named == flags.end())
      return "must be auto, none, or " + names + " separated by commas, got '" + std::string(item) +
             "'";
    if (*named->second)
      return "names " + std::string(item) + " twice";
    *named->second = true;
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return std::nullopt;
}

/// "auto" (by role: all on a telephony node, none on an application server, SPEC TOP-4),
/// "none", or a comma-separated list of udp, tcp and tls (SPEC SIP-1). Applied after
/// node.role, so "auto" can follow it.
reason apply_sip_transports(std::string_view value, node_config& config) {
  if (value == "auto") {
    bool telephony = config.role != node_role::appserver;
    config.sip = {telephony, telephony, telephony};
    return std::nullopt;
  }
  return apply_transport_list(
      value, {{"udp", &config.sip.udp}, {"tcp", &config.sip.tcp}, {"tls", &config.sip.tls}});
}

/// "auto" (TLS on the primary, which hosts the cluster's syslog receiver, SPEC TOP-2;
/// nothing elsewhere), "none", or a comma-separated list of tls, tcp and udp (SPEC MON-2).
/// Applied after node.role.
reason apply_syslog_intake_transports(std::string_view value, node_config& config) {
  auto& intake = config.syslog_intake;
  if (value == "auto") {
    intake = {config.role == node_role::primary, false, false};
    return std::nullopt;
  }
  return apply_transport_list(value,
                              {{"tls", &intake.tls}, {"tcp", &intake.tcp}, {"udp", &intake.udp}});
}

/// The primary's receiver of syslog from devices that are not Ward nodes (SPEC TOP-2, MON-2).
std::vector<setting> syslog_intake_settings() {
  return {
      {{"syslog_intake.transports", "WARD_SYSLOG_INTAKE_TRANSPORTS", "auto",
        "Syslog the node receives from other devices: tls (RFC 5425), tcp (RFC 6587), udp "
        "(RFC 5426) separated by commas, none, or auto (tls on the primary, none elsewhere). "
        "tcp and udp arrive in clear: list them only for devices that speak nothing else."},
       apply_syslog_intake_transports},
      {{"syslog_intake.tls_port", "WARD_SYSLOG_INTAKE_TLS_PORT", "6514",
        "TLS port of the syslog receiver; 0 = any free port."},
       port_setter(&node_config::syslog_intake_tls_port)},
      {{"syslog_intake.tcp_port", "WARD_SYSLOG_INTAKE_TCP_PORT", "601",
        "TCP port of the syslog receiver; 0 = any free port."},
       port_setter(&node_config::syslog_intake_tcp_port)},
      {{"syslog_intake.udp_port", "WARD_SYSLOG_INTAKE_UDP_PORT", "514",
        "UDP port of the syslog receiver; 0 = any free port."},
       port_setter(&node_config::syslog_intake_udp_port)},
      {{"syslog_intake.messages_per_second", "WARD_SYSLOG_INTAKE_MESSAGES_PER_SECOND", "200",
        "Messages one sending address may deliver per second (twice that in a burst); more "
        "are dropped and counted."},
       number_setter(&node_config::syslog_intake_messages_per_second, 1, 100'000)},
  };
}

/// The registrar's transports and ports (SPEC SIP-1), its guard (SIP-4) and digest (SIP-2).
std::vector<setting> sip_settings() {
  return {
      {{"sip.transports", "WARD_SIP_TRANSPORTS", "auto",
        "SIP transports to open: udp, tcp, tls separated by commas, none, or auto (all three, "
        "none on an appserver). Without any the node runs no registrar and no media relay."},
       apply_sip_transports},
      {{"sip.udp_port", "WARD_SIP_UDP_PORT", "5060",
        "UDP port of the SIP registrar; 0 = any free port."},
       port_setter(&node_config::sip_udp_port)},
      {{"sip.tcp_port", "WARD_SIP_TCP_PORT", "5060",
        "TCP port of the SIP registrar; 0 = any free port."},
       port_setter(&node_config::sip_tcp_port)},
      {{"sip.tls_port", "WARD_SIP_TLS_PORT", "5061",
        "TLS port of the SIP registrar (SIPS); 0 = any free port."},
       port_setter(&node_config::sip_tls_port)},
      {{"sip.failure_threshold", "WARD_SIP_FAILURE_THRESHOLD", "10",
        "Failed registrations from one address within 60 s that blacklist it (1 to 1000)."},
       number_setter(&node_config::sip_failure_threshold, 1, 1000)},
      {{"sip.address_blacklisting", "WARD_SIP_ADDRESS_BLACKLISTING", "on",
        "on | off: off when an SBC fronts the node and every message comes from its address."},
       [](std::string_view value, node_config& config) -> reason {
         if (value != "on" && value != "off")
           return "must be on or off, got '" + std::string(value) + "'";
         config.sip_address_blacklisting = value == "on";
         return std::nullopt;
       }},
      {{"sip.allow", "WARD_SIP_ALLOW", "",
        "Comma-separated CIDR blocks allowed to send SIP to the node; empty = all."},
       list_setter(&node_config::sip_allow, is_cidr_block, "CIDR blocks")},
      {{"sip.messages_per_second", "WARD_SIP_MESSAGES_PER_SECOND", "50",
        "SIP messages one address may send per second (0 = no limit)."},
       number_setter(&node_config::sip_messages_per_second, 0, 1'000'000)},
      {{"sip.digest_preferred", "WARD_SIP_DIGEST_PREFERRED", "sha256",
        "The digest algorithm challenged first: sha256 (RFC 8760), md5, or md5-only (SHA-256 "
        "not offered: for phones that fail on any other algorithm)."},
       [](std::string_view value, node_config& config) -> reason {
         if (value != "sha256" && value != "md5" && value != "md5-only")
           return "must be sha256, md5 or md5-only, got '" + std::string(value) + "'";
         config.sip_prefer_md5 = value != "sha256";
         config.sip_md5_only = value == "md5-only";
         return std::nullopt;
       }},
  };
}

/// The media relay (SPEC MED-3).
std::vector<setting> media_settings() {
  return {
      {{"media.rtp_ports", "WARD_MEDIA_RTP_PORTS", "40000-49999",
        "UDP port range the media relay anchors calls on: first-last, first even, >= 1024."},
       [](std::string_view value, node_config& config) -> reason {
         auto dash = value.find('-');
         unsigned first = 0, last = 0;
         auto bad = "must be first-last with an even first >= 1024 below last <= 65535, got '" +
                    std::string(value) + "'";
         if (dash == std::string_view::npos)
           return bad;
         auto [a, ea] = std::from_chars(value.data(), value.data() + dash, first);
         auto [b, eb] = std::from_chars(value.data() + dash + 1, value.data() + value.size(), last);
         if (ea != std::errc{} || eb != std::errc{} || a != value.data() + dash ||
             b != value.data() + value.size() || first < 1024 || first % 2 != 0 || last <= first ||
             last > 65535)
           return bad;
         config.rtp_port_first = static_cast<std::uint16_t>(first);
         config.rtp_port_last = static_cast<std::uint16_t>(last);
         return std::nullopt;
       }},
      {{"media.workers", "WARD_MEDIA_WORKERS", "0",
        "Media relay workers, each a thread with its slice of media.rtp_ports; 0 = one per core."},
       number_setter(&node_config::media_workers, 0, 64)},
  };
}

std::vector<setting> log_settings() {
  return {
      {{"log.level", "WARD_LOG_LEVEL", "info", "trace | debug | info | warn | error"},
       [](std::string_view value, node_config& config) -> reason {
         if (auto level = parse_name(log_level_names, value)) {
           config.log = *level;
           return std::nullopt;
         }
         return "must be one of trace, debug, info, warn, error, got '" + std::string(value) + "'";
       }},
  };
}

const std::vector<setting>& settings() {
  static const std::vector<setting> table = [] {
    std::vector<setting> all;
    for (auto group :
         {node_settings, listen_settings, identity_settings, cluster_settings, syslog_settings,
          syslog_intake_settings, sip_settings, media_settings, log_settings}) {
      auto part = group();
      all.insert(all.end(), std::make_move_iterator(part.begin()),
                 std::make_move_iterator(part.end()));
    }
    return all;
  }();
  return table;
}

} // namespace ward::node::config_detail

namespace ward::node {

std::string_view to_string(log_level level) {
  return name_of(config_detail::log_level_names, level, "info");
}

} // namespace ward::node
