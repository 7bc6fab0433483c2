#pragma once

#include "core/node_role.hpp"

#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ward::node {

enum class log_level { trace, debug, info, warn, error };

std::string_view to_string(log_level level);

/// Which SIP transports a node serves (SPEC SIP-1). All three on telephony nodes by default;
/// none on an application server unless its configuration asks (SPEC TOP-4).
struct sip_transports {
  bool udp = true;
  bool tcp = true;
  bool tls = true;
  bool any() const { return udp || tcp || tls; }
};

/// Which syslog transports the node receives on from devices that are not Ward nodes
/// (SPEC TOP-2, MON-2): TLS on the primary by default, nothing elsewhere.
struct syslog_intake_transports {
  bool tls = false;
  bool tcp = false;
  bool udp = false;
  bool any() const { return tls || tcp || udp; }
};

/// A line this node opens to a line server (primary or secondary).
struct line_peer {
  std::string name;
  std::string address;
  std::uint16_t port = 0;
};

/// An external syslog receiver (SPEC MON-2).
struct syslog_receiver {
  /// Numeric IPv4 or IPv6 address.
  std::string address;
  std::uint16_t port = 6514;
  /// "tls" (RFC 5425), "tcp" (RFC 6587 octet counting) or "udp" (RFC 5426).
  std::string transport = "tls";
  /// TLS only: the CA that issued the receiver's certificate, and the name it must carry
  /// (empty = the address).
  std::filesystem::path ca_file;
  std::string server_name;
};

/// A validated node configuration. Every field has passed its key's checks.
struct node_config {
  std::string name;
  node_role role = node_role::primary;
  /// The name in the node's identity certificate.
  std::string hostname;
  std::filesystem::path data_dir;
  std::string listen_address;
  /// 0 means "any free port"; the node reports what it bound in <data_dir>/run/endpoints.
  /// TLS and plaintext ports of the three administrative services (SPEC SVC-2); which of
  /// them are open is decided by each service's security level, not by this file.
  std::uint16_t status_port = 0;
  std::uint16_t status_plain_port = 0;
  std::uint16_t configuration_port = 0;
  std::uint16_t configuration_plain_port = 0;
  std::uint16_t security_port = 0;
  std::uint16_t security_plain_port = 0;
  std::uint16_t metrics_port = 0;
  std::uint16_t line_port = 0;
  /// SIP digest realm shared by the cluster's extensions.
  std::string sip_realm;
  /// The SIP transports this node opens (SPEC SIP-1, TOP-4); with none, the node runs no
  /// registrar and no media relay and opens no SIP or RTP port.
  sip_transports sip = {};
  /// UDP port of the registrar (SPEC SIP-1); 0 = any free port.
  std::uint16_t sip_udp_port = 5060;
  /// TCP port of the registrar (SPEC SIP-1); 0 = any free port.
  std::uint16_t sip_tcp_port = 5060;
  /// TLS port of the registrar (SPEC SIP-1); 0 = any free port.
  std::uint16_t sip_tls_port = 5061;
  /// SIP guard (SPEC SIP-4): failures from one address in 60 s that blacklist it; the SBC
  /// switch (address blacklisting off); the allow list (CIDR, empty = all); messages per
  /// second one address may send.
  std::uint32_t sip_failure_threshold = 10;
  bool sip_address_blacklisting = true;
  std::vector<std::string> sip_allow;
  std::uint32_t sip_messages_per_second = 50;
  /// The digest algorithm offered first (SPEC SIP-2): sha256, or md5 for sites whose phones
  /// take the first challenge whatever it is.
  bool sip_prefer_md5 = false;
  /// md5-only: SHA-256 is not offered at all (phones that fail on any other algorithm).
  bool sip_md5_only = false;
  /// The UDP ports the media relay anchors calls on (SPEC MED-3): even RTP ports, RTCP above.
  std::uint16_t rtp_port_first = 40000;
  std::uint16_t rtp_port_last = 49999;
  /// Media workers (SPEC MED-3): relay threads, each with its slice of the port range;
  /// 0 = one per core.
  std::uint32_t media_workers = 0;
  /// Addresses the identity certificate names besides listen.address (SPEC PKI-2).
  std::vector<std::string> identity_addresses;
  /// Subject fields of the CA a primary creates at first start (SPEC PKI-1).
  std::string ca_organization;
  std::string ca_organizational_unit;
  std::string ca_locality;
  std::string ca_state;
  std::string ca_country;
  std::string ca_email;
  std::vector<line_peer> lines;
  /// File holding the line password (SPEC LINE-1, PKI-5); empty = lines disabled on a
  /// line server. Relative paths are resolved against the config file.
  std::filesystem::path line_password_file;
  /// "low", "medium" or "high" (SPEC LINE-1).
  std::string line_security = "high";
  /// Appserver: the account that may log in locally while no line reaches the primary
  /// (SPEC SEC-10); empty = none.
  std::string fallback_account;
  /// External syslog receiver over TLS (SPEC MON-2); empty address = none.
  std::string syslog_address;
  std::uint16_t syslog_port = 6514;
  std::filesystem::path syslog_ca_file;
  std::string syslog_server_name;
  std::string syslog_transport = "tls";
  /// Further receivers (the `syslog_receivers` list); every receiver gets every event.
  std::vector<syslog_receiver> syslog_receivers;
  log_level log = log_level::info;
  /// The syslog receiver (SPEC TOP-2, MON-2); ports 0 = any free port.
  syslog_intake_transports syslog_intake = {};
  std::uint16_t syslog_intake_tls_port = 6514;
  std::uint16_t syslog_intake_tcp_port = 601;
  std::uint16_t syslog_intake_udp_port = 514;
  std::uint32_t syslog_intake_messages_per_second = 200;
};

/// Why a configuration was refused: the key at fault and what is wrong with it.
struct config_error {
  std::string key;
  std::string reason;
  std::string message() const { return "config key '" + key + "': " + reason; }
};

/// Environment variables that override configuration file values, by name.
using environment = std::map<std::string, std::string>;

/// The process environment as an `environment`.
environment process_environment();

/// One documented setting.
struct setting_doc {
  std::string_view key;
  std::string_view environment_variable;
  std::string_view default_value;
  std::string_view meaning;
  bool required = false;
};

/// Every receiver: the one of the syslog.* keys (when syslog.address is set) and then the
/// syslog_receivers list.
std::vector<syslog_receiver> syslog_receivers_of(const node_config& config);

/// Every scalar setting with its environment variable, default and meaning (SPEC DEP-3).
const std::vector<setting_doc>& documented_settings();

/// Parses and validates YAML configuration text. Values from `env` (WARD_<SECTION>_<KEY>)
/// replace values from the text. Relative `node.data_dir` is resolved against `base_dir`.
/// `default_hostname` fills `node.hostname` when neither text nor environment set it.
std::expected<node_config, config_error> parse_config(std::string_view yaml_text,
                                                      const environment& env,
                                                      const std::filesystem::path& base_dir,
                                                      const std::string& default_hostname);

/// Reads and parses the file at `path`; errors reading it are reported against key "<file>".
std::expected<node_config, config_error> load_config_file(const std::filesystem::path& path,
                                                          const environment& env,
                                                          const std::string& default_hostname);

} // namespace ward::node
