#include "telephony/directory.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace ward::telephony;
using namespace std::chrono_literals;

namespace {

security::security_settings policy() {
  return *security::security_database::factory_defaults(security::test_argon2_cost,
                                                        test::fixed_now(), test::seeded_random(1));
}

telephony_directory empty_directory() {
  return telephony_directory({}, "ward.test", security::test_argon2_cost);
}

/// set_sip_policy refuses `policy` naming `field`, and the directory keeps its policy and
/// version.
void check_policy_refused(const sip_policy& policy, std::string_view field) {
  auto directory = empty_directory();
  auto version = directory.data().version;
  auto refused = directory.set_sip_policy(policy, test::fixed_now());
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == security::security_errc::invalid_argument);
  CHECK(refused.error().field == field);
  CHECK(directory.data().policy == sip_policy{});
  CHECK(directory.data().version == version);
}

} // namespace

TEST_CASE("SEC-9 digest secrets are the RFC 2617 and RFC 8760 HA1 values") {
  // HA1 = MD5("201:ward.test:4711") and SHA-256 of the same.
  auto secrets = make_digest_secrets("201", "ward.test", "4711");
  CHECK(secrets.ha1_md5.size() == 32);
  CHECK(secrets.ha1_sha256.size() == 64);
  CHECK(make_digest_secrets("Mufasa", "testrealm@host.com", "Circle Of Life").ha1_md5 ==
        "939e7578ed9e3c518a452acee763bce9");
}

TEST_CASE("POL-2 telephony user passwords follow the telephony policy") {
  auto directory = empty_directory();
  auto settings = policy();
  auto weak = directory.create_user("alice", {.extension = "201", .password = "alice"}, settings);
  REQUIRE_FALSE(weak.has_value());
  CHECK(weak.error().field == "password");
  REQUIRE(
      directory.create_user("alice", {.extension = "201", .password = "Garden-Path-8"}, settings));
  CHECK(directory.data().users.at("alice").password_hash.starts_with("$argon2id$"));
  settings.telephony_policy.enforce = false;
  REQUIRE(directory.update_user("alice", {.password = "alice"}, settings));
}

TEST_CASE("POL-5 login and voicemail codes refuse weak codes and the extension") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(directory.create_user("bob", {.extension = "2580"}, settings));
  for (auto code : {"1111", "1234", "9876", "2580", "0852", "121212"}) {
    CAPTURE(code);
    auto refused = directory.update_user("bob", {.login_code = code}, settings);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().field == "login_code");
  }
  CHECK(directory.update_user("bob", {.voicemail_code = "0852"}, settings).error().field ==
        "voicemail_code");
  CHECK(directory.update_user("bob", {.voicemail_code = "1234567890123456"}, settings)
            .error()
            .field == "voicemail_code");
  REQUIRE(
      directory.update_user("bob", {.login_code = "739164", .voicemail_code = "8031"}, settings));
  const auto& bob = directory.data().users.at("bob");
  CHECK(bob.login_code_digest == make_digest_secrets("2580", "ward.test", "739164"));
  CHECK(bob.voicemail_code_hash.starts_with("$argon2id$"));
}

TEST_CASE(
    "SIP-2 extensions keep their phone password only as HA1 and force authorization by default") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(directory.create_extension("301", {.phone_password = "82917364"}, settings));
  const auto& ext = directory.data().extensions.at("301");
  CHECK(ext.force_authorization);
  CHECK(ext.phone_password_digest == make_digest_secrets("301", "ward.test", "82917364"));
  CHECK(encode_directory(directory.data()).find("82917364") == std::string::npos);
  CHECK(directory.create_extension("301", {}, settings).error().code ==
        security::security_errc::already_exists);
  CHECK(directory.create_extension("3x", {}, settings).error().field == "extension");
  CHECK(directory.create_extension("302", {.phone_password = "1234"}, settings).error().field ==
        "phone_password");
  CHECK_FALSE(directory.data().extensions.contains("302"));
}

TEST_CASE("POL-4 telephony user locks permanently after 5 failures in 10 minutes") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(
      directory.create_user("carol", {.extension = "401", .password = "Garden-Path-8"}, settings));
  auto now = test::fixed_now();
  for (int i = 0; i < 4; ++i)
    CHECK(directory.complete_login("carol", false, settings, now + i * 1min).outcome ==
          user_login_outcome::bad_credentials);
  auto fifth = directory.complete_login("carol", false, settings, now + 5min);
  CHECK(fifth.outcome == user_login_outcome::locked);
  CHECK(fifth.lock_event == security::lockout_event::locked_permanently);
  CHECK(directory.is_locked("carol", now + std::chrono::days(365)));
  REQUIRE(directory.unlock_user("carol"));
  CHECK(directory.complete_login("carol", true, settings, now + 6min).outcome ==
        user_login_outcome::success);
}

TEST_CASE("SEC-1 the directory survives encode and decode") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(directory.create_user("dave",
                                {.full_name = "Dave D",
                                 .extension = "501",
                                 .password = "Garden-Path-8",
                                 .login_code = "739164"},
                                settings));
  REQUIRE(directory.create_extension("501", {.phone_password = "82917364"}, settings));
  auto text = encode_directory(directory.data());
  auto decoded = decode_directory(text);
  REQUIRE(decoded.has_value());
  CHECK(encode_directory(*decoded) == text);
  CHECK_FALSE(decode_directory("[1,2").has_value());
}

TEST_CASE("SIP-3 auto-create is off by default and the other SIP policy defaults are safe") {
  sip_policy defaults;
  CHECK_FALSE(defaults.auto_create);
  CHECK_FALSE(defaults.strict_sips);
  CHECK_FALSE(defaults.remote_workers);
  CHECK(defaults.rtp_port_min == 40000);
  CHECK(defaults.rtp_port_max == 50750);
  CHECK(validate_sip_policy(defaults).has_value());
  CHECK(empty_directory().data().policy == defaults);
  CHECK_FALSE(auto_create_active(defaults, test::fixed_now()));
}

TEST_CASE("SIP-3 auto-create stamps the time it was switched on") {
  auto directory = empty_directory();
  auto on_at = test::fixed_now() + 1500ms;
  sip_policy wanted;
  wanted.auto_create = true;
  // Whatever stamp the caller brings is ignored: the directory stamps it.
  wanted.auto_create_enabled_at = test::fixed_now() - std::chrono::days(30);
  auto version = directory.data().version;
  REQUIRE(directory.set_sip_policy(wanted, on_at));
  CHECK(directory.data().version == version + 1);
  CHECK(directory.data().policy.auto_create_enabled_at == on_at);
  CHECK(auto_create_expires_at(directory.data().policy) == on_at + 24h);
  CHECK(auto_create_active(directory.data().policy, on_at + 24h - 1ms));
  CHECK_FALSE(auto_create_active(directory.data().policy, on_at + 24h));

  // Left on: the stamp stays, so another change cannot extend the 24 hours.
  wanted.strict_sips = true;
  REQUIRE(directory.set_sip_policy(wanted, on_at + 5h));
  CHECK(directory.data().policy.auto_create_enabled_at == on_at);
  CHECK(directory.data().policy.strict_sips);

  // Switched off: the stamp is cleared.
  wanted.auto_create = false;
  REQUIRE(directory.set_sip_policy(wanted, on_at + 6h));
  CHECK(directory.data().policy.auto_create_enabled_at == time_point{});
  CHECK_FALSE(auto_create_expires_at(directory.data().policy).has_value());

  // On again: a new stamp.
  wanted.auto_create = true;
  REQUIRE(directory.set_sip_policy(wanted, on_at + 7h));
  CHECK(directory.data().policy.auto_create_enabled_at == on_at + 7h);
}

TEST_CASE("SIP-3 auto-create switches itself off 24 h on and stays off until asked for again") {
  auto directory = empty_directory();
  sip_policy wanted;
  wanted.auto_create = true;
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now()));
  auto lapsed = effective_sip_policy(directory.data().policy, test::fixed_now() + 24h);
  CHECK_FALSE(lapsed.auto_create);
  CHECK(lapsed.auto_create_enabled_at == time_point{});
  CHECK(effective_sip_policy(directory.data().policy, test::fixed_now() + 23h).auto_create);
  // Another change made from the effective policy leaves it off.
  lapsed.strict_sips = true;
  REQUIRE(directory.set_sip_policy(lapsed, test::fixed_now() + 25h));
  CHECK_FALSE(directory.data().policy.auto_create);
  // Asked for again: switched on anew, with a new stamp.
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now() + 26h));
  CHECK(directory.data().policy.auto_create_enabled_at == test::fixed_now() + 26h);
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now() + 51h));
  CHECK(directory.data().policy.auto_create_enabled_at == test::fixed_now() + 51h);
  // The stamp is kept to the millisecond, as the encoding keeps it.
  REQUIRE(directory.set_sip_policy({}, test::fixed_now()));
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now() + 1234567us));
  CHECK(directory.data().policy.auto_create_enabled_at == test::fixed_now() + 1234ms);
}

TEST_CASE("SIP-5 the RTP port range is checked and capped at 50750 with remote workers") {
  auto field_of = [](const sip_policy& policy) {
    auto checked = validate_sip_policy(policy);
    return checked ? std::string{}
                   : checked.error().detail.substr(0, checked.error().detail.find(':'));
  };
  sip_policy policy;
  policy.rtp_port_min = 40001;
  CHECK(field_of(policy) == "rtp_port_min");
  policy.rtp_port_min = 1022;
  CHECK(field_of(policy) == "rtp_port_min");
  policy.rtp_port_min = 1024;
  CHECK(field_of(policy).empty());
  policy.rtp_port_max = 1024;
  CHECK(field_of(policy) == "rtp_port_max");
  policy.rtp_port_max = 60000;
  CHECK(field_of(policy).empty());
  policy.remote_workers = true;
  CHECK(field_of(policy) == "rtp_port_max");
  CHECK(validate_sip_policy(policy).error().detail.find("50750") != std::string::npos);
  policy.rtp_port_max = 50750;
  CHECK(field_of(policy).empty());

  // A refused policy changes nothing in the directory.
  policy.rtp_port_max = 60000;
  check_policy_refused(policy, "rtp_port_max");
}

TEST_CASE("SIP-4 User-Agent rules match case-insensitive substrings and the block list wins") {
  sip_policy policy;
  CHECK(user_agent_permitted(policy, "anything"));
  CHECK(user_agent_permitted(policy, ""));
  policy.user_agent_block = {"friendly-scanner", "sipvicious"};
  CHECK_FALSE(user_agent_permitted(policy, "Friendly-Scanner"));
  CHECK_FALSE(user_agent_permitted(policy, "SIPVicious 0.3.4"));
  CHECK(user_agent_permitted(policy, "Yealink SIP-T46U"));
  policy.user_agent_allow = {"yealink", "snom"};
  CHECK(user_agent_permitted(policy, "Yealink SIP-T46U 108.86.0.20"));
  CHECK(user_agent_permitted(policy, "snom D785"));
  CHECK_FALSE(user_agent_permitted(policy, "Zoiper rv2.10"));
  CHECK_FALSE(user_agent_permitted(policy, ""));
  policy.user_agent_block.push_back("T46U");
  CHECK_FALSE(user_agent_permitted(policy, "Yealink SIP-T46U"));
}

TEST_CASE("SIP-4 User-Agent lists refuse empty long unprintable and too many entries") {
  auto refused = [](std::vector<std::string> allow) {
    sip_policy policy;
    policy.user_agent_allow = std::move(allow);
    return !validate_sip_policy(policy).has_value();
  };
  CHECK(refused({""}));
  CHECK(refused({std::string(129, 'a')}));
  CHECK_FALSE(refused({std::string(128, 'a')}));
  CHECK(refused({"bad\tagent"}));
  CHECK(refused({"caf\xc3\xa9"}));
  CHECK_FALSE(refused({"Zoiper rv2.10 (build 42)"}));
  CHECK(refused(std::vector<std::string>(65, "x")));
  CHECK_FALSE(refused(std::vector<std::string>(64, "x")));
  sip_policy policy;
  policy.user_agent_block = {""};
  CHECK(validate_sip_policy(policy).error().detail.starts_with("user_agent_block:"));
}

TEST_CASE("SIP-5 a remote worker's pinned address is a numeric IP kept in canonical form") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(directory.create_extension("601", {.remote_worker_address = "203.0.113.7"}, settings));
  CHECK(directory.data().extensions.at("601").remote_worker_address == "203.0.113.7");
  REQUIRE(
      directory.update_extension("601", {.remote_worker_address = "2001:DB8:0:0::1"}, settings));
  CHECK(directory.data().extensions.at("601").remote_worker_address == "2001:db8::1");
  REQUIRE(
      directory.update_extension("601", {.remote_worker_address = "::ffff:203.0.113.9"}, settings));
  CHECK(directory.data().extensions.at("601").remote_worker_address == "203.0.113.9");
  REQUIRE(directory.update_extension("601", {.remote_worker_address = "2001:db8::1"}, settings));
  for (auto bad : {"pbx.example.com", "203.0.113", "203.0.113.7:5060", "0.0.0.0",
                   "::", "::ffff:0.0.0.0", "fe80::1%eth0", " 203.0.113.7"}) {
    CAPTURE(bad);
    auto refused = directory.update_extension("601", {.remote_worker_address = bad}, settings);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().field == "remote_worker_address");
  }
  CHECK(directory.data().extensions.at("601").remote_worker_address == "2001:db8::1");
  // Other changes leave it; an empty address clears it.
  REQUIRE(directory.update_extension("601", {.force_authorization = false}, settings));
  CHECK(directory.data().extensions.at("601").remote_worker_address == "2001:db8::1");
  REQUIRE(directory.update_extension("601", {.remote_worker_address = ""}, settings));
  CHECK(directory.data().extensions.at("601").remote_worker_address.empty());
  CHECK_FALSE(directory.create_extension("602", {.remote_worker_address = "x"}, settings));
  CHECK_FALSE(directory.data().extensions.contains("602"));
}

TEST_CASE("SIP-5 the SIP policy and remote worker addresses survive encode and decode") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(directory.create_extension("701", {.remote_worker_address = "198.51.100.20"}, settings));
  sip_policy wanted;
  wanted.auto_create = true;
  wanted.strict_sips = true;
  wanted.user_agent_allow = {"Yealink", "snom"};
  wanted.user_agent_block = {"friendly-scanner"};
  wanted.remote_workers = true;
  wanted.rtp_port_min = 20000;
  wanted.rtp_port_max = 30000;
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now() + 250ms));
  auto text = encode_directory(directory.data());
  auto decoded = decode_directory(text);
  REQUIRE(decoded.has_value());
  CHECK(decoded->policy == directory.data().policy);
  CHECK(decoded->policy.auto_create_enabled_at == test::fixed_now() + 250ms);
  CHECK(decoded->extensions.at("701").remote_worker_address == "198.51.100.20");
  CHECK(encode_directory(*decoded) == text);
}

TEST_CASE("SIP-5 a directory encoded before the SIP policy decodes with the defaults") {
  // The encoding of a release without the SIP policy and remote worker addresses.
  auto old = R"({"format":1,"version":4,"users":[],"extensions":[{"number":"201",)"
             R"("ha1_md5":"","ha1_sha256":"","has_phone_password":false,)"
             R"("force_authorization":true}]})";
  auto decoded = decode_directory(old);
  REQUIRE(decoded.has_value());
  CHECK(decoded->version == 4);
  CHECK(decoded->policy == sip_policy{});
  CHECK(decoded->extensions.at("201").remote_worker_address.empty());
  CHECK(decoded->extensions.at("201").force_authorization);
}

TEST_CASE("SIP-5 a stored SIP policy that does not validate is refused as damaged") {
  auto directory = empty_directory();
  auto text = encode_directory(directory.data());
  auto with = [&](std::string_view from, std::string_view to) {
    auto changed = text;
    changed.replace(changed.find(from), from.size(), to);
    return decode_directory(changed);
  };
  auto odd = with("\"rtp_port_min\":40000", "\"rtp_port_min\":40001");
  REQUIRE_FALSE(odd.has_value());
  CHECK(odd.error().detail.find("rtp_port_min") != std::string::npos);
  CHECK_FALSE(with("\"rtp_port_max\":50750", "\"rtp_port_max\":70000").has_value());
  CHECK_FALSE(with("\"strict_sips\":false", "\"strict_sips\":7").has_value());
  CHECK(with("\"strict_sips\":false", "\"strict_sips\":true").has_value());
}

TEST_CASE("MED-2 media security is best effort by default with no overrides") {
  sip_policy defaults;
  CHECK(defaults.media_security == media::media_security::best_effort);
  CHECK(defaults.line_media_security.empty());
  CHECK_FALSE(extension_record{}.media_security.has_value());
  auto directory = empty_directory();
  REQUIRE(directory.create_extension("801", {}, policy()));
  CHECK_FALSE(directory.data().extensions.at("801").media_security.has_value());
  CHECK(media_security_for_extension(directory.data(), "801") ==
        media::media_security::best_effort);
  CHECK(media_security_for_line(directory.data(), "node-b") == media::media_security::best_effort);
}

TEST_CASE("MED-2 an extension override wins over the system setting until it is cleared") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(directory.create_extension("802", {.media_security = media::media_security::enforce},
                                     settings));
  REQUIRE(directory.create_extension("803", {}, settings));
  CHECK(directory.data().extensions.at("802").media_security == media::media_security::enforce);
  auto system_disabled = directory.data().policy;
  system_disabled.media_security = media::media_security::disabled;
  REQUIRE(directory.set_sip_policy(system_disabled, test::fixed_now()));
  CHECK(media_security_for_extension(directory.data(), "802") == media::media_security::enforce);
  CHECK(media_security_for_extension(directory.data(), "803") == media::media_security::disabled);
  // An unknown extension (a number on another system, say) gets the system setting.
  CHECK(media_security_for_extension(directory.data(), "999") == media::media_security::disabled);
  // Other changes leave the override; an outer nullopt is no change.
  REQUIRE(directory.update_extension("802", {.force_authorization = false}, settings));
  CHECK(directory.data().extensions.at("802").media_security == media::media_security::enforce);
  REQUIRE(directory.update_extension("802", {.media_security = std::nullopt}, settings));
  CHECK(directory.data().extensions.at("802").media_security == media::media_security::enforce);
  // An override may name the system's own level and still be an override.
  REQUIRE(directory.update_extension("803", {.media_security = media::media_security::disabled},
                                     settings));
  CHECK(directory.data().extensions.at("803").media_security == media::media_security::disabled);
  // An engaged empty inner value clears it.
  auto version = directory.data().version;
  REQUIRE(directory.update_extension(
      "802", {.media_security = std::optional<media::media_security>{}}, settings));
  CHECK(directory.data().version == version + 1);
  CHECK_FALSE(directory.data().extensions.at("802").media_security.has_value());
  CHECK(media_security_for_extension(directory.data(), "802") == media::media_security::disabled);
}

TEST_CASE("MED-2 a line override wins over the system setting for that line only") {
  auto directory = empty_directory();
  auto wanted = directory.data().policy;
  wanted.media_security = media::media_security::enforce;
  wanted.line_media_security = {{"node-b", media::media_security::disabled},
                                {"node-c-site-2", media::media_security::best_effort}};
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now()));
  const auto& data = directory.data();
  CHECK(media_security_for_line(data, "node-b") == media::media_security::disabled);
  CHECK(media_security_for_line(data, "node-c-site-2") == media::media_security::best_effort);
  CHECK(media_security_for_line(data, "node-d") == media::media_security::enforce);
  // Node names are matched exactly.
  CHECK(media_security_for_line(data, "NODE-B") == media::media_security::enforce);
  // Line overrides do not touch extensions.
  CHECK(media_security_for_extension(data, "node-b") == media::media_security::enforce);
}

TEST_CASE("MED-2 line overrides refuse bad node names and more than 64 lines") {
  auto refused = [](std::map<std::string, media::media_security> lines) {
    sip_policy policy;
    policy.line_media_security = std::move(lines);
    return !validate_sip_policy(policy).has_value();
  };
  auto level = media::media_security::enforce;
  CHECK_FALSE(refused({{"node-b", level}}));
  CHECK_FALSE(refused({{std::string(63, 'n'), level}}));
  CHECK(refused({{std::string(64, 'n'), level}}));
  // The cluster's node names: lowercase letters, digits and hyphens.
  for (auto bad :
       {"", "node b", "node/b", "nöde", "node:b", "node\tb", "Node-B", "node_b", "node.b"}) {
    CAPTURE(bad);
    CHECK(refused({{bad, level}}));
  }
  std::map<std::string, media::media_security> many;
  for (int i = 0; i < 64; ++i)
    many.emplace("node-" + std::to_string(i), level);
  CHECK_FALSE(refused(many));
  many.emplace("node-64", level);
  CHECK(refused(many));
  sip_policy policy;
  policy.line_media_security = many;
  CHECK(validate_sip_policy(policy).error().detail.starts_with("line_media_security:"));
  // set_sip_policy refuses it and keeps what it had.
  auto directory = empty_directory();
  auto version = directory.data().version;
  auto set = directory.set_sip_policy(policy, test::fixed_now());
  REQUIRE_FALSE(set.has_value());
  CHECK(set.error().field == "line_media_security");
  CHECK(directory.data().policy == sip_policy{});
  CHECK(directory.data().version == version);
}

TEST_CASE("MED-2 media security levels and overrides survive encode and decode") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(directory.create_extension("804", {.media_security = media::media_security::disabled},
                                     settings));
  REQUIRE(directory.create_extension("805", {}, settings));
  auto wanted = directory.data().policy;
  wanted.media_security = media::media_security::enforce;
  wanted.line_media_security = {{"node-b", media::media_security::best_effort},
                                {"node-c", media::media_security::disabled}};
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now()));
  auto text = encode_directory(directory.data());
  CHECK(text.find(R"("media_security":"enforce")") != std::string::npos);
  CHECK(text.find(R"("line_media_security":{"node-b":"best_effort","node-c":"disabled"})") !=
        std::string::npos);
  auto decoded = decode_directory(text);
  REQUIRE(decoded.has_value());
  CHECK(decoded->policy == directory.data().policy);
  CHECK(decoded->extensions.at("804").media_security == media::media_security::disabled);
  CHECK_FALSE(decoded->extensions.at("805").media_security.has_value());
  CHECK(encode_directory(*decoded) == text);
  // The audit trail's before/after of a policy change names them too.
  CHECK(encode_sip_policy(decoded->policy).find(R"("media_security":"enforce")") !=
        std::string::npos);
}

TEST_CASE("MED-2 a directory encoded before media security decodes with the defaults") {
  // The encoding of a release with the SIP policy but without media security.
  auto old = R"({"format":1,"version":9,"users":[],"extensions":[{"number":"201",)"
             R"("ha1_md5":"","ha1_sha256":"","has_phone_password":false,)"
             R"("force_authorization":true,"remote_worker_address":""}],)"
             R"("sip_policy":{"auto_create":false,"auto_create_enabled_at_unix_ms":0,)"
             R"("strict_sips":true,"user_agent_allow":[],"user_agent_block":[],)"
             R"("remote_workers":false,"rtp_port_min":40000,"rtp_port_max":50750}})";
  auto decoded = decode_directory(old);
  REQUIRE(decoded.has_value());
  CHECK(decoded->policy.strict_sips);
  CHECK(decoded->policy.media_security == media::media_security::best_effort);
  CHECK(decoded->policy.line_media_security.empty());
  CHECK_FALSE(decoded->extensions.at("201").media_security.has_value());
  CHECK(media_security_for_extension(*decoded, "201") == media::media_security::best_effort);
}

TEST_CASE("MED-2 an unknown stored media security level or line name is refused as damaged") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(directory.create_extension("806", {.media_security = media::media_security::enforce},
                                     settings));
  auto wanted = directory.data().policy;
  wanted.line_media_security = {{"node-b", media::media_security::disabled}};
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now()));
  auto text = encode_directory(directory.data());
  auto with = [&](std::string_view from, std::string_view to) {
    auto changed = text;
    auto at = changed.find(from);
    REQUIRE(at != std::string::npos);
    changed.replace(at, from.size(), to);
    return decode_directory(changed);
  };
  auto system = with(R"("media_security":"best_effort")", R"("media_security":"sometimes")");
  REQUIRE_FALSE(system.has_value());
  CHECK(system.error().detail.starts_with("damaged telephony directory:"));
  CHECK(system.error().detail.find("sometimes") != std::string::npos);
  CHECK_FALSE(with(R"("node-b":"disabled")", R"("node-b":"Disabled")").has_value());
  CHECK_FALSE(with(R"("node-b":"disabled")", R"("node-b":2)").has_value());
  CHECK_FALSE(with(R"("node-b":"disabled")", R"("node b":"disabled")").has_value());
  CHECK_FALSE(with(R"({"node-b":"disabled"})", R"(["node-b"])").has_value());
  auto extension = with(R"("media_security":"enforce")", R"("media_security":"system")");
  REQUIRE_FALSE(extension.has_value());
  CHECK(extension.error().detail.find("806") != std::string::npos);
  CHECK(with(R"("node-b":"disabled")", R"("node-b":"enforce")").has_value());
}

TEST_CASE("MED-3 direct media is off by default and TF-2 the emergency route defaults") {
  sip_policy defaults;
  CHECK_FALSE(defaults.direct_media);
  CHECK(defaults.emergency_numbers == std::vector<std::string>{"112", "911"});
  CHECK(defaults.emergency_extension.empty());
  CHECK(validate_sip_policy(defaults).has_value());
}

TEST_CASE("MED-3 TF-2 direct media and the emergency route survive encode and decode") {
  auto directory = empty_directory();
  auto wanted = directory.data().policy;
  wanted.direct_media = true;
  wanted.emergency_numbers = {"112", "999", "*911#"};
  wanted.emergency_extension = "800";
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now()));
  auto text = encode_directory(directory.data());
  CHECK(text.find(R"("direct_media":true)") != std::string::npos);
  CHECK(text.find(R"("emergency_numbers":["112","999","*911#"])") != std::string::npos);
  CHECK(text.find(R"("emergency_extension":"800")") != std::string::npos);
  auto decoded = decode_directory(text);
  REQUIRE(decoded.has_value());
  CHECK(decoded->policy == directory.data().policy);
  CHECK(decoded->policy.direct_media);
  CHECK(decoded->policy.emergency_numbers == std::vector<std::string>{"112", "999", "*911#"});
  CHECK(decoded->policy.emergency_extension == "800");
  CHECK(encode_directory(*decoded) == text);
  // The audit trail's before/after of a policy change names them too.
  auto audited = encode_sip_policy(decoded->policy);
  CHECK(audited.find(R"("direct_media":true)") != std::string::npos);
  CHECK(audited.find(R"("emergency_extension":"800")") != std::string::npos);
  // An empty list is kept as empty, not read back as the defaults.
  wanted.emergency_numbers.clear();
  REQUIRE(directory.set_sip_policy(wanted, test::fixed_now()));
  auto cleared = decode_directory(encode_directory(directory.data()));
  REQUIRE(cleared.has_value());
  CHECK(cleared->policy.emergency_numbers.empty());
}

TEST_CASE("MED-3 TF-2 a directory encoded before direct media decodes with the defaults") {
  // The encoding of a release with media security but without direct media and the
  // emergency route.
  auto old = R"({"format":1,"version":9,"users":[],"extensions":[],)"
             R"("sip_policy":{"auto_create":false,"auto_create_enabled_at_unix_ms":0,)"
             R"("strict_sips":true,"user_agent_allow":[],"user_agent_block":[],)"
             R"("remote_workers":false,"rtp_port_min":40000,"rtp_port_max":50750,)"
             R"("media_security":"enforce","line_media_security":{}}})";
  auto decoded = decode_directory(old);
  REQUIRE(decoded.has_value());
  CHECK(decoded->policy.strict_sips);
  CHECK(decoded->policy.media_security == media::media_security::enforce);
  CHECK_FALSE(decoded->policy.direct_media);
  CHECK(decoded->policy.emergency_numbers == std::vector<std::string>{"112", "911"});
  CHECK(decoded->policy.emergency_extension.empty());
}

TEST_CASE("TF-1 emergency numbers refuse bad characters lengths duplicates and more than 16") {
  auto field_of = [](std::vector<std::string> numbers) {
    sip_policy policy;
    policy.emergency_numbers = std::move(numbers);
    auto checked = validate_sip_policy(policy);
    return checked ? std::string{}
                   : checked.error().detail.substr(0, checked.error().detail.find(':'));
  };
  CHECK(field_of({}).empty());
  CHECK(field_of({"1"}).empty());
  CHECK(field_of({"*#06#", "0118", std::string(15, '9')}).empty());
  for (auto bad : {"", "12a", "1 12", "+112", "11-2", "X", "\xd9\xa1"}) {
    CAPTURE(bad);
    CHECK(field_of({"911", bad}) == "emergency_numbers");
  }
  CHECK(field_of({std::string(16, '9')}) == "emergency_numbers");
  CHECK(field_of({"112", "911", "112"}) == "emergency_numbers");
  std::vector<std::string> many;
  for (int i = 0; i < 16; ++i)
    many.push_back(std::to_string(100 + i));
  CHECK(field_of(many).empty());
  many.push_back("999");
  CHECK(field_of(many) == "emergency_numbers");
}

TEST_CASE("TF-2 the emergency extension is an extension number other than an emergency number") {
  auto refused = [](std::string extension) {
    sip_policy policy;
    policy.emergency_extension = std::move(extension);
    auto checked = validate_sip_policy(policy);
    return checked ? std::string{} : checked.error().detail;
  };
  CHECK(refused("").empty());
  CHECK(refused("800").empty());
  CHECK(refused(std::string(15, '8')).empty());
  // The rule for every extension number: 2 to 15 digits.
  for (auto bad : {"8", "80a", "*800", "8 00", "gateway"}) {
    CAPTURE(bad);
    CHECK(refused(bad).starts_with("emergency_extension:"));
  }
  CHECK(refused(std::string(16, '8')).starts_with("emergency_extension:"));
  CHECK(refused("911").starts_with("emergency_extension:"));
  sip_policy policy;
  policy.emergency_numbers = {"999"};
  policy.emergency_extension = "911";
  CHECK(validate_sip_policy(policy).has_value());

  // set_sip_policy refuses it and keeps what it had.
  policy.emergency_extension = "999";
  check_policy_refused(policy, "emergency_extension");
}

TEST_CASE("TF-1 TF-2 a stored emergency route that does not validate is refused as damaged") {
  auto text = encode_directory(empty_directory().data());
  auto with = [&](std::string_view from, std::string_view to) {
    auto changed = text;
    auto at = changed.find(from);
    REQUIRE(at != std::string::npos);
    changed.replace(at, from.size(), to);
    return decode_directory(changed);
  };
  auto letters = with(R"("emergency_numbers":["112","911"])", R"("emergency_numbers":["11a"])");
  REQUIRE_FALSE(letters.has_value());
  CHECK(letters.error().detail.find("sip_policy.emergency_numbers") != std::string::npos);
  CHECK_FALSE(
      with(R"("emergency_numbers":["112","911"])", R"("emergency_numbers":"112")").has_value());
  CHECK_FALSE(with(R"("emergency_extension":"")", R"("emergency_extension":"112")").has_value());
  CHECK_FALSE(with(R"("direct_media":false)", R"("direct_media":"on")").has_value());
  CHECK(with(R"("emergency_extension":"")", R"("emergency_extension":"800")").has_value());
}

TEST_CASE("POL-3 a telephony password equal to the extension or its reverse is refused") {
  auto directory = empty_directory();
  auto settings = policy();
  settings.telephony_policy.password.level = security::complexity::low;
  settings.telephony_policy.password.min_length = 4;
  for (const char* password : {"2468", "8642"}) {
    CAPTURE(password);
    auto refused =
        directory.create_user("bob", {.extension = "2468", .password = password}, settings);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().field == "password");
  }
  CHECK(directory.data().users.empty());
  REQUIRE(directory.create_user("bob", {.extension = "2468", .password = "8624"}, settings));
}

TEST_CASE("POL-5 a remote worker's phone password has at least 9 digits") {
  auto directory = empty_directory();
  auto settings = policy();
  auto short_one = directory.create_extension(
      "701", {.phone_password = "82917364", .remote_worker_address = "203.0.113.7"}, settings);
  REQUIRE_FALSE(short_one.has_value());
  CHECK(short_one.error().field == "phone_password");
  CHECK(short_one.error().message.find("at least 9") != std::string::npos);
  CHECK_FALSE(directory.data().extensions.contains("701"));
  auto sequence = directory.create_extension(
      "701", {.phone_password = "123456789", .remote_worker_address = "203.0.113.7"}, settings);
  REQUIRE_FALSE(sequence.has_value());
  REQUIRE(directory.create_extension(
      "701", {.phone_password = "8291736450174", .remote_worker_address = "203.0.113.7"},
      settings));
  // Unpinning the remote worker leaves an ordinary extension: 8 digits are enough again.
  REQUIRE(directory.update_extension("701", {.remote_worker_address = ""}, settings));
  REQUIRE(directory.update_extension("701", {.phone_password = "82917364"}, settings));
}

TEST_CASE("POL-5 an extension becomes a remote worker only with a password fit for one") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(directory.create_extension("702", {.phone_password = "82917364"}, settings));
  auto version = directory.data().version;
  auto refused =
      directory.update_extension("702", {.remote_worker_address = "203.0.113.8"}, settings);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().field == "phone_password");
  CHECK(directory.data().extensions.at("702").remote_worker_address.empty());
  CHECK(directory.data().version == version);
  REQUIRE(directory.update_extension(
      "702", {.phone_password = "829173645", .remote_worker_address = "203.0.113.8"}, settings));
  // A 9-digit password set while ordinary qualifies later, and survives encode and decode.
  REQUIRE(directory.create_extension("703", {.phone_password = "829173645"}, settings));
  auto decoded = decode_directory(encode_directory(directory.data()));
  REQUIRE(decoded.has_value());
  telephony_directory reloaded(*decoded, "ward.test", security::test_argon2_cost);
  REQUIRE(reloaded.update_extension("703", {.remote_worker_address = "203.0.113.9"}, settings));
}

TEST_CASE("MED-1 SRTP options per system, line and extension are stored, chosen and checked") {
  telephony::telephony_directory_data data;
  data.policy.srtp = {.authentication = media::rtp_authentication::hmac_sha1_32};
  data.policy.line_srtp["exp1"] = {.rtcp_encryption = true};
  telephony::extension_record strict;
  strict.number = "2101";
  strict.srtp = media::srtp_profile{.rtp_encryption = false};
  data.extensions.emplace(strict.number, strict);
  CHECK(telephony::srtp_profile_for_extension(data, "2101") ==
        media::srtp_profile{.rtp_encryption = false});
  CHECK(telephony::srtp_profile_for_extension(data, "2102") == data.policy.srtp);
  CHECK(telephony::srtp_profile_for_line(data, "exp1").rtcp_encryption);
  CHECK(telephony::srtp_profile_for_line(data, "exp2") == data.policy.srtp);

  auto decoded = telephony::decode_directory(telephony::encode_directory(data));
  REQUIRE(decoded.has_value());
  CHECK(decoded->policy.srtp == data.policy.srtp);
  CHECK(decoded->policy.line_srtp == data.policy.line_srtp);
  CHECK(decoded->extensions.at("2101").srtp == strict.srtp);

  auto policy = data.policy;
  policy.line_srtp["Not A Node"] = {};
  auto refused = telephony::validate_sip_policy(policy);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().detail.find("line_srtp") != std::string::npos);
}
