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
  REQUIRE(directory.create_user("alice", {.extension = "201", .password = "Garden-Path-8"}, settings));
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
  REQUIRE(directory.update_user("bob", {.login_code = "739164", .voicemail_code = "8031"}, settings));
  const auto& bob = directory.data().users.at("bob");
  CHECK(bob.login_code_digest == make_digest_secrets("2580", "ward.test", "739164"));
  CHECK(bob.voicemail_code_hash.starts_with("$argon2id$"));
}

TEST_CASE("SIP-2 extensions keep their phone password only as HA1 and force authorization by default") {
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
  REQUIRE(directory.create_user("carol", {.extension = "401", .password = "Garden-Path-8"}, settings));
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
  REQUIRE(directory.create_user("dave", {.full_name = "Dave D", .extension = "501",
                                         .password = "Garden-Path-8", .login_code = "739164"},
                                settings));
  REQUIRE(directory.create_extension("501", {.phone_password = "82917364"}, settings));
  auto text = encode_directory(directory.data());
  auto decoded = decode_directory(text);
  REQUIRE(decoded.has_value());
  CHECK(encode_directory(*decoded) == text);
  CHECK_FALSE(decode_directory("[1,2").has_value());
}
