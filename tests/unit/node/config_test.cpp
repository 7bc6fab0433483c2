#include "node/config.hpp"

#include <doctest/doctest.h>

using ward::node::config_error;
using ward::node::environment;
using ward::node::parse_config;

namespace {

constexpr std::string_view primary_yaml = R"(
node:
  name: hq-primary
  role: primary
  data_dir: data/primary
listen:
  address: 127.0.0.1
  status_port: 7443
  metrics_port: 9464
  line_port: 7444
log:
  level: debug
)";

auto parse(std::string_view text, const environment& env = {}) {
  return parse_config(text, env, "/etc/ward", "pbx.example.test");
}

/// The key a refused configuration names.
std::string refused_key(std::string_view text, const environment& env = {}) {
  auto result = parse(text, env);
  REQUIRE_FALSE(result.has_value());
  return result.error().key;
}

} // namespace

TEST_CASE("DEP-3 a complete primary configuration is accepted with every value applied") {
  auto config = parse(primary_yaml);
  REQUIRE(config.has_value());
  CHECK(config->name == "hq-primary");
  CHECK(config->role == ward::node_role::primary);
  CHECK(config->hostname == "pbx.example.test");
  CHECK(config->data_dir == std::filesystem::path("/etc/ward/data/primary"));
  CHECK(config->listen_address == "127.0.0.1");
  CHECK(config->status_port == 7443);
  CHECK(config->metrics_port == 9464);
  CHECK(config->line_port == 7444);
  CHECK(config->log == ward::node::log_level::debug);
  CHECK(config->lines.empty());
}

TEST_CASE("DEP-3 every optional setting has a documented default") {
  auto config = parse("node: {name: a, role: primary, data_dir: /var/lib/ward}");
  REQUIRE(config.has_value());
  CHECK(config->listen_address == "127.0.0.1");
  CHECK(config->status_port == 7443);
  CHECK(config->metrics_port == 9464);
  CHECK(config->line_port == 7444);
  CHECK(config->log == ward::node::log_level::info);
  CHECK(config->data_dir == std::filesystem::path("/var/lib/ward"));
  for (const auto& doc : ward::node::documented_settings()) {
    CHECK_FALSE(doc.meaning.empty());
    bool required = doc.key == "node.name" || doc.key == "node.role" || doc.key == "node.data_dir";
    CHECK(doc.required == required);
  }
}

TEST_CASE("DEP-3 the refusal names the bad key and says why") {
  SUBCASE("missing required keys") {
    CHECK(refused_key("node: {role: primary, data_dir: d}") == "node.name");
    CHECK(refused_key("node: {name: a, data_dir: d}") == "node.role");
    CHECK(refused_key("node: {name: a, role: primary}") == "node.data_dir");
  }
  SUBCASE("bad values") {
    auto result = parse("node: {name: a, role: king, data_dir: d}");
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().key == "node.role");
    CHECK(result.error().message().find("king") != std::string::npos);
    CHECK(refused_key("node: {name: Bad_Name, role: primary, data_dir: d}") == "node.name");
    CHECK(refused_key("node: {name: a, role: primary, data_dir: d, hostname: 'a b'}") ==
          "node.hostname");
    CHECK(
        refused_key("node: {name: a, role: primary, data_dir: d}\nlisten: {status_port: 70000}") ==
        "listen.status_port");
    CHECK(refused_key("node: {name: a, role: primary, data_dir: d}\nlisten: {status_port: x1}") ==
          "listen.status_port");
    CHECK(refused_key("node: {name: a, role: primary, data_dir: d}\nlisten: {address: 1.2.3}") ==
          "listen.address");
    CHECK(refused_key("node: {name: a, role: primary, data_dir: d}\nlog: {level: loud}") ==
          "log.level");
  }
  SUBCASE("unknown keys and sections catch typos") {
    CHECK(refused_key("node: {name: a, role: primary, data_dir: d, rol: x}") == "node.rol");
    CHECK(refused_key("node: {name: a, role: primary, data_dir: d}\nlistn: {}") == "listn");
    CHECK(refused_key("node: {name: a, role: primary, data_dir: d}\nlisten: {status_port: [1]}") ==
          "listen.status_port");
  }
  SUBCASE("two listeners on one port") {
    auto result = parse("node: {name: a, role: primary, data_dir: d}\n"
                        "listen: {status_port: 9000, metrics_port: 9000}");
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().key == "listen.metrics_port");
    CHECK(result.error().reason.find("listen.status_port") != std::string::npos);
  }
  SUBCASE("not YAML at all") {
    CHECK(refused_key("node: {name: a, role: [") == "<file>");
    CHECK(refused_key("- just\n- a list") == "<root>");
  }
}

TEST_CASE("TOP-5 expansion and appserver nodes need a line to a line server") {
  CHECK(refused_key("node: {name: e1, role: expansion, data_dir: d}") == "lines");
  CHECK(refused_key("node: {name: a1, role: appserver, data_dir: d}") == "lines");
  auto config = parse("node: {name: e1, role: expansion, data_dir: d}\n"
                      "cluster: {line_password_file: line.pw, line_security: medium}\n"
                      "lines:\n  - {name: hq-primary, address: 127.0.0.1, port: 7444}\n"
                      "  - {name: hq-secondary, address: secondary.example.test, port: 7444}\n");
  REQUIRE(config.has_value());
  CHECK(config->line_security == "medium");
  CHECK(config->line_password_file.filename() == "line.pw");
  CHECK(config->line_password_file.is_absolute());
  CHECK(refused_key("node: {name: e1, role: expansion, data_dir: d}\n"
                    "lines: [{name: p, address: 127.0.0.1, port: 1}]") ==
        "cluster.line_password_file");
  CHECK(refused_key("node: {name: p1, role: primary, data_dir: d}\n"
                    "cluster: {line_security: none}") == "cluster.line_security");
  CHECK(refused_key("node: {name: p1, role: primary, data_dir: d}\n"
                    "syslog: {address: 127.0.0.1}") == "syslog.ca_file");
  CHECK(refused_key("node: {name: p1, role: primary, data_dir: d}\n"
                    "sip: {allow: '10.0.0.0/8, not-an-address'}") == "sip.allow");
  CHECK(refused_key("node: {name: p1, role: primary, data_dir: d}\n"
                    "sip: {address_blacklisting: maybe}") == "sip.address_blacklisting");
  CHECK(refused_key("node: {name: p1, role: primary, data_dir: d}\n"
                    "sip: {failure_threshold: 0}") == "sip.failure_threshold");
  REQUIRE(config->lines.size() == 2);
  CHECK(config->lines[1].address == "secondary.example.test");
  CHECK(config->lines[1].port == 7444);
  CHECK(refused_key("node: {name: e1, role: expansion, data_dir: d}\n"
                    "lines: [{name: p, address: 127.0.0.1, port: 0}]") == "lines[0].port");
  CHECK(refused_key("node: {name: e1, role: expansion, data_dir: d}\n"
                    "lines: [{name: p, address: 127.0.0.1}]") == "lines[0].port");
  CHECK(refused_key("node: {name: e1, role: expansion, data_dir: d}\n"
                    "lines: [{name: p, address: 127.0.0.1, port: 1}, "
                    "{name: p, address: 127.0.0.2, port: 1}]") == "lines[1].name");
  CHECK(refused_key("node: {name: e1, role: expansion, data_dir: d}\n"
                    "lines: [{name: p, address: 127.0.0.1, port: 1, tls: off}]") == "lines[0].tls");
}

TEST_CASE("DEP-3 environment variables override the file and are named when wrong") {
  environment env{{"WARD_LISTEN_STATUS_PORT", "8443"}, {"WARD_NODE_ROLE", "secondary"}};
  auto config = parse(primary_yaml, env);
  REQUIRE(config.has_value());
  CHECK(config->status_port == 8443);
  CHECK(config->role == ward::node_role::secondary);

  auto refused = parse(primary_yaml, {{"WARD_LISTEN_METRICS_PORT", "-1"}});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().key == "listen.metrics_port");
  CHECK(refused.error().reason.find("WARD_LISTEN_METRICS_PORT") != std::string::npos);
}

TEST_CASE("SIP-1 TOP-4 sip.transports opens each transport by setting, none on an appserver") {
  auto transports = [](std::string_view role, std::string_view value) {
    std::string text = "node: {name: a, role: " + std::string(role) + ", data_dir: d}\n" +
                       "lines: [{name: primary, address: 127.0.0.1, port: 7444}]\n" +
                       "cluster: {line_password_file: pw}\n";
    if (!value.empty())
      text += "sip: {transports: \"" + std::string(value) + "\"}\n";
    auto config = parse(text);
    REQUIRE(config.has_value());
    return std::tuple{config->sip.udp, config->sip.tcp, config->sip.tls};
  };
  CHECK(transports("expansion", "") == std::tuple{true, true, true});
  CHECK(transports("secondary", "auto") == std::tuple{true, true, true});
  CHECK(transports("appserver", "") == std::tuple{false, false, false});
  CHECK(transports("appserver", "tls") == std::tuple{false, false, true});
  CHECK(transports("expansion", "udp,tls") == std::tuple{true, false, true});
  CHECK(transports("expansion", "none") == std::tuple{false, false, false});
  CHECK(
      refused_key("node: {name: a, role: primary, data_dir: d}\nsip: {transports: \"udp,sctp\"}") ==
      "sip.transports");
  CHECK(
      refused_key("node: {name: a, role: primary, data_dir: d}\nsip: {transports: \"tls,tls\"}") ==
      "sip.transports");
  CHECK(refused_key("node: {name: a, role: primary, data_dir: d}", {{"WARD_SIP_TRANSPORTS", ""}}) ==
        "sip.transports");
}

TEST_CASE("MON-2 syslog receivers: the syslog keys' one, then the list, each with its transport") {
  auto config = parse(R"(
node: {name: a, role: primary, data_dir: d}
syslog: {address: 192.0.2.1, ca_file: ca.pem, server_name: log.example.test}
syslog_receivers:
  - {address: 192.0.2.2, port: 514, transport: udp}
  - {address: "2001:db8::3", port: 6514, transport: tls, ca_file: /etc/ward/other-ca.pem}
)");
  REQUIRE(config.has_value());
  auto receivers = ward::node::syslog_receivers_of(*config);
  REQUIRE(receivers.size() == 3);
  CHECK(receivers[0].transport == "tls");
  CHECK(receivers[0].ca_file == std::filesystem::path("/etc/ward/ca.pem"));
  CHECK(receivers[1].address == "192.0.2.2");
  CHECK(receivers[1].transport == "udp");
  CHECK(receivers[2].ca_file == std::filesystem::path("/etc/ward/other-ca.pem"));
  CHECK(refused_key("node: {name: a, role: primary, data_dir: d}\n"
                    "syslog_receivers: [{address: 192.0.2.2, transport: sctp}]") ==
        "syslog_receivers[0].transport");
  CHECK(refused_key("node: {name: a, role: primary, data_dir: d}\n"
                    "syslog_receivers: [{address: 192.0.2.2}]") == "syslog_receivers[0].ca_file");
  CHECK(refused_key("node: {name: a, role: primary, data_dir: d}\n"
                    "syslog_receivers: [{address: log.example.test, transport: udp}]") ==
        "syslog_receivers[0].address");
  CHECK(parse("node: {name: a, role: primary, data_dir: d}\n"
              "syslog: {address: 192.0.2.1, transport: udp}")
            .has_value());
}
