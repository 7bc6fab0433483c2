#include "node/config.hpp"
#include "node/config_settings.hpp"

#include "core/enum_names.hpp"
#include "core/net_address.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

extern char** environ;

namespace ward::node {
namespace {

using namespace config_detail;

const std::string lines_key = "lines";
const std::string syslog_receivers_key = "syslog_receivers";

/// Flattens the YAML mapping into dotted scalar keys, refusing anything the settings
/// table does not know.
std::expected<std::map<std::string, std::string>, config_error> flatten(const YAML::Node& root) {
  std::map<std::string, std::string> values;
  if (!root.IsDefined() || root.IsNull())
    return values;
  if (!root.IsMap())
    return std::unexpected(config_error{"<root>", "must be a mapping of sections"});
  std::set<std::string> sections;
  for (const auto& entry : settings())
    sections.insert(std::string(entry.doc.key.substr(0, entry.doc.key.find('.'))));
  for (const auto& section : root) {
    auto section_name = section.first.as<std::string>();
    if (section_name == lines_key || section_name == syslog_receivers_key)
      continue;
    if (!sections.contains(section_name))
      return std::unexpected(config_error{section_name, "unknown section"});
    if (section.second.IsNull())
      continue;
    if (!section.second.IsMap())
      return std::unexpected(config_error{section_name, "must be a mapping"});
    for (const auto& item : section.second) {
      auto key = section_name + "." + item.first.as<std::string>();
      bool known = std::any_of(settings().begin(), settings().end(),
                               [&](const setting& s) { return s.doc.key == key; });
      if (!known)
        return std::unexpected(config_error{key, "unknown key"});
      if (!item.second.IsScalar())
        return std::unexpected(config_error{key, "must be a single value"});
      values[key] = item.second.Scalar();
    }
  }
  return values;
}

std::expected<std::vector<line_peer>, config_error> parse_lines(const YAML::Node& root) {
  std::vector<line_peer> peers;
  if (!root.IsMap() || !root[lines_key])
    return peers;
  const auto& list = root[lines_key];
  if (list.IsNull())
    return peers;
  if (!list.IsSequence())
    return std::unexpected(config_error{"lines", "must be a list of {name, address, port}"});
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto prefix = "lines[" + std::to_string(i) + "]";
    const auto& item = list[i];
    if (!item.IsMap())
      return std::unexpected(config_error{prefix, "must be a mapping with name, address, port"});
    for (const auto& field : item) {
      auto field_name = field.first.as<std::string>();
      if (field_name != "name" && field_name != "address" && field_name != "port")
        return std::unexpected(config_error{prefix + "." + field_name, "unknown key"});
      if (!field.second.IsScalar())
        return std::unexpected(config_error{prefix + "." + field_name, "must be a single value"});
    }
    line_peer peer;
    if (!item["name"])
      return std::unexpected(config_error{prefix + ".name", "is required"});
    peer.name = item["name"].Scalar();
    if (auto bad = check_node_name(peer.name))
      return std::unexpected(config_error{prefix + ".name", *bad});
    if (!names.insert(peer.name).second)
      return std::unexpected(config_error{prefix + ".name", "duplicates line '" + peer.name + "'"});
    if (!item["address"])
      return std::unexpected(config_error{prefix + ".address", "is required"});
    peer.address = item["address"].Scalar();
    if (!is_ip_literal(peer.address) && check_hostname(peer.address))
      return std::unexpected(
          config_error{prefix + ".address", "must be an IP address or a hostname"});
    if (!item["port"])
      return std::unexpected(config_error{prefix + ".port", "is required"});
    auto port = parse_port(item["port"].Scalar(), false);
    if (!port)
      return std::unexpected(config_error{prefix + ".port", port.error()});
    peer.port = *port;
    peers.push_back(std::move(peer));
  }
  return peers;
}

std::expected<std::vector<syslog_receiver>, config_error>
parse_syslog_receivers(const YAML::Node& root) {
  std::vector<syslog_receiver> receivers;
  if (!root.IsMap() || !root[syslog_receivers_key] || root[syslog_receivers_key].IsNull())
    return receivers;
  const auto& list = root[syslog_receivers_key];
  if (!list.IsSequence())
    return std::unexpected(
        config_error{syslog_receivers_key,
                     "must be a list of {address, port, transport, ca_file, server_name}"});
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto prefix = syslog_receivers_key + "[" + std::to_string(i) + "]";
    const auto& item = list[i];
    if (!item.IsMap())
      return std::unexpected(config_error{prefix, "must be a mapping with address and port"});
    syslog_receiver receiver;
    for (const auto& field : item) {
      auto name = field.first.as<std::string>();
      auto key = prefix + "." + name;
      if (!field.second.IsScalar())
        return std::unexpected(config_error{key, "must be a single value"});
      const auto& value = field.second.Scalar();
      if (name == "address") {
        if (!is_ip_literal(value))
          return std::unexpected(config_error{key, "must be a numeric IP address"});
        receiver.address = value;
      } else if (name == "port") {
        auto port = parse_port(value, false);
        if (!port)
          return std::unexpected(config_error{key, port.error()});
        receiver.port = *port;
      } else if (name == "transport") {
        if (auto bad = check_syslog_transport(value))
          return std::unexpected(config_error{key, *bad});
        receiver.transport = value;
      } else if (name == "ca_file") {
        receiver.ca_file = value;
      } else if (name == "server_name") {
        receiver.server_name = value;
      } else {
        return std::unexpected(config_error{key, "unknown key"});
      }
    }
    if (receiver.address.empty())
      return std::unexpected(config_error{prefix + ".address", "is required"});
    if (receiver.transport == "tls" && receiver.ca_file.empty())
      return std::unexpected(config_error{
          prefix + ".ca_file", "is required for a TLS receiver: the receiver must be verified"});
    receivers.push_back(std::move(receiver));
  }
  return receivers;
}

std::optional<config_error> check_ports_distinct(const node_config& config) {
  std::map<std::uint16_t, std::string> used;
  std::vector<std::pair<std::uint16_t, std::string>> ports = {
      {config.status_port, "listen.status_port"},
      {config.status_plain_port, "listen.status_plain_port"},
      {config.configuration_port, "listen.configuration_port"},
      {config.configuration_plain_port, "listen.configuration_plain_port"},
      {config.security_port, "listen.security_port"},
      {config.security_plain_port, "listen.security_plain_port"},
      {config.metrics_port, "listen.metrics_port"}};
  if (is_line_server(config.role))
    ports.emplace_back(config.line_port, "listen.line_port");
  if (config.syslog_intake.tls)
    ports.emplace_back(config.syslog_intake_tls_port, "syslog_intake.tls_port");
  if (config.syslog_intake.tcp)
    ports.emplace_back(config.syslog_intake_tcp_port, "syslog_intake.tcp_port");
  for (const auto& [port, key] : ports) {
    if (port == 0)
      continue;
    auto [it, inserted] = used.emplace(port, key);
    if (!inserted)
      return config_error{key, "is the same port as " + it->second};
  }
  return std::nullopt;
}

} // namespace

environment process_environment() {
  environment env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    auto eq = text.find('=');
    if (eq != std::string_view::npos && text.starts_with("WARD_"))
      env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

std::vector<syslog_receiver> syslog_receivers_of(const node_config& config) {
  std::vector<syslog_receiver> all;
  if (!config.syslog_address.empty())
    all.push_back({config.syslog_address, config.syslog_port, config.syslog_transport,
                   config.syslog_ca_file, config.syslog_server_name});
  all.insert(all.end(), config.syslog_receivers.begin(), config.syslog_receivers.end());
  return all;
}

const std::vector<setting_doc>& documented_settings() {
  static const std::vector<setting_doc> docs = [] {
    std::vector<setting_doc> out;
    for (const auto& entry : settings())
      out.push_back(entry.doc);
    out.push_back({"lines", "", "[]",
                   "Lines to line servers: list of {name, address, port}. Required for "
                   "expansion and appserver roles.",
                   false});
    out.push_back({"syslog_receivers", "", "[]",
                   "Further syslog receivers: list of {address, port, transport (tls | tcp | "
                   "udp), ca_file (required for tls), server_name}; each gets every event.",
                   false});
    return out;
  }();
  return docs;
}

std::expected<node_config, config_error> parse_config(std::string_view yaml_text,
                                                      const environment& env,
                                                      const std::filesystem::path& base_dir,
                                                      const std::string& default_hostname) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return std::unexpected(config_error{"<file>", "is not valid YAML: " + e.msg + " at line " +
                                                      std::to_string(e.mark.line + 1)});
  }

  std::map<std::string, std::string> values;
  std::vector<line_peer> lines;
  std::vector<syslog_receiver> receivers;
  try {
    auto flat = flatten(root);
    if (!flat)
      return std::unexpected(flat.error());
    values = std::move(*flat);
    auto parsed_lines = parse_lines(root);
    if (!parsed_lines)
      return std::unexpected(parsed_lines.error());
    lines = std::move(*parsed_lines);
    auto parsed_receivers = parse_syslog_receivers(root);
    if (!parsed_receivers)
      return std::unexpected(parsed_receivers.error());
    receivers = std::move(*parsed_receivers);
  } catch (const YAML::Exception& e) {
    return std::unexpected(config_error{"<file>", "has an unexpected structure: " + e.msg});
  }

  node_config config;
  for (const auto& entry : settings()) {
    std::string key(entry.doc.key);
    std::optional<std::string> value;
    if (auto it = values.find(key); it != values.end())
      value = it->second;
    if (auto it = env.find(std::string(entry.doc.environment_variable)); it != env.end())
      value = it->second;
    if (!value && key == "node.hostname")
      value = default_hostname;
    if (!value && !entry.doc.required)
      value = std::string(entry.doc.default_value);
    if (!value)
      return std::unexpected(config_error{key, "is required"});
    if (auto bad = entry.apply(*value, config)) {
      // A value from the environment is named as such, so the operator looks there.
      if (env.contains(std::string(entry.doc.environment_variable)))
        *bad += " (from environment variable " + std::string(entry.doc.environment_variable) + ")";
      return std::unexpected(config_error{key, *bad});
    }
  }
  config.lines = std::move(lines);

  if (config.data_dir.is_relative())
    config.data_dir = (base_dir / config.data_dir).lexically_normal();
  if (!config.line_password_file.empty() && config.line_password_file.is_relative())
    config.line_password_file = (base_dir / config.line_password_file).lexically_normal();
  if (!config.syslog_ca_file.empty() && config.syslog_ca_file.is_relative())
    config.syslog_ca_file = (base_dir / config.syslog_ca_file).lexically_normal();
  if (!config.syslog_address.empty() && config.syslog_transport == "tls" &&
      config.syslog_ca_file.empty())
    return std::unexpected(config_error{
        "syslog.ca_file", "is required with syslog.address: the receiver must be verified"});
  for (auto& receiver : receivers)
    if (!receiver.ca_file.empty() && receiver.ca_file.is_relative())
      receiver.ca_file = (base_dir / receiver.ca_file).lexically_normal();
  config.syslog_receivers = std::move(receivers);
  if (auto clash = check_ports_distinct(config))
    return std::unexpected(*clash);
  if (config.syslog_intake.any() && config.role != node_role::primary)
    return std::unexpected(config_error{
        "syslog_intake.transports",
        "only the primary receives syslog from devices (it keeps the cluster's events); "
        "other nodes forward theirs over their lines"});
  if (!is_line_server(config.role) && config.lines.empty())
    return std::unexpected(
        config_error{"lines", "a " + std::string(to_string(config.role)) +
                                  " node needs at least one line to a primary or secondary"});
  if (!config.lines.empty() && config.line_password_file.empty())
    return std::unexpected(
        config_error{"cluster.line_password_file", "is required for a node that dials lines"});
  return config;
}

std::expected<node_config, config_error> load_config_file(const std::filesystem::path& path,
                                                          const environment& env,
                                                          const std::string& default_hostname) {
  std::ifstream in(path);
  if (!in)
    return std::unexpected(config_error{"<file>", "cannot read " + path.string()});
  std::ostringstream text;
  text << in.rdbuf();
  auto base = std::filesystem::absolute(path).parent_path();
  return parse_config(text.str(), env, base, default_hostname);
}

} // namespace ward::node
