#include "security/sealed_store.hpp"
#include "security/security_database.hpp"
#include "security/settings_codec.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace ward::security;
using namespace std::chrono_literals;

namespace {

security_database fresh_database() {
  auto defaults = security_database::factory_defaults(test_argon2_cost, test::fixed_now(),
                                                      test::seeded_random(1));
  REQUIRE(defaults.has_value());
  return security_database(*defaults, test_argon2_cost);
}

login_result attempt(security_database& db, std::string_view name, std::string_view password,
                     time_point now) {
  auto material = db.login_material_for(name, now);
  bool matched = verify_secret(material.password_hash, password);
  return db.complete_login(name, matched, material.credential_version, now);
}

const service_user& user(const security_database& db, const std::string& name) {
  return db.settings().users.at(name);
}

} // namespace

TEST_CASE("SEC-3 default service users and their status match the guide's table") {
  auto db = fresh_database();
  struct expectation {
    std::string name;
    account_setting setting;
    std::set<std::string> groups;
  };
  std::vector<expectation> expected = {
      {"Administrator",
       account_setting::enabled,
       {"Administrator Group", "System Status Group", "Business Partner"}},
      {"AdjunctServer", account_setting::disabled, {"Adjunct Server"}},
      {"BranchAdmin", account_setting::disabled, {"Central Manager Admin"}},
      {"BusinessPartner", account_setting::disabled, {"Business Partner"}},
      {"CloudOpsAdmin", account_setting::enabled, {"Cloud Operations Admin"}},
      {"DirectoryService", account_setting::enabled, {"Directory Group"}},
      {"CtiService", account_setting::enabled, {"CTI Group"}},
      {"DectService", account_setting::disabled, {"DECT Group"}},
      {"Maintainer", account_setting::disabled, {"Maintainer"}},
      {"OpsManagerAdmin", account_setting::disabled, {"Operations Manager Admin"}},
      {"TURNServer", account_setting::disabled, {"TURN Server"}},
      {"security", account_setting::enabled, {"Security Admin"}},
  };
  CHECK(db.settings().users.size() == expected.size());
  for (const auto& row : expected) {
    CAPTURE(row.name);
    REQUIRE(db.settings().users.contains(row.name));
    CHECK(user(db, row.name).setting == row.setting);
    CHECK(user(db, row.name).groups == row.groups);
    CHECK(user(db, row.name).at_default);
  }
  CHECK(user(db, "security").protected_account);
  // Machine accounts get passwords nobody knows.
  CHECK_FALSE(verify_secret(user(db, "DirectoryService").password_hash, "DirectoryService"));
  CHECK(verify_secret(user(db, "Administrator").password_hash, default_administrator_password));
}

TEST_CASE("SEC-4 default rights groups follow the guide's tables") {
  auto db = fresh_database();
  const auto& groups = db.settings().groups;
  CHECK(groups.size() == 21); // the guide lists TURN Server twice
  for (auto name :
       {"Manager Group", "Operator Group", "Security Admin", "Backup Admin", "Upgrade Admin",
        "System Admin", "Maint Admin", "Customer Admin", "Management API Group", "TURN Server"})
    CHECK(groups.contains(name));
  CHECK(groups.at("System Status Group").rights == all_service_rights(rights_set::system_status));
  CHECK(groups.at("Directory Group").rights ==
        std::set{right::directory_read, right::directory_write});
  auto smgr = groups.at("Central Manager Admin").rights;
  CHECK_FALSE(smgr.contains(right::web_service_monitor_read));
  CHECK(smgr.contains(right::web_backup));
  CHECK_FALSE(smgr.contains(right::web_manager_service_change));
  CHECK(smgr.contains(right::web_manager_access));
  auto admin = groups.at("Administrator Group").rights;
  CHECK(admin.contains(right::config_write_all));
  CHECK(admin.contains(right::operator_administrator));
  CHECK_FALSE(admin.contains(right::operator_manager));
  CHECK_FALSE(admin.contains(right::security_write_all));
  CHECK(groups.at("Maintainer").rights.contains(right::config_read_all));
  CHECK_FALSE(groups.at("Maintainer").rights.contains(right::config_write_all));
  CHECK(groups.at("Security Admin").rights ==
        all_service_rights(rights_set::security_administrator));
  CHECK(groups.at("Business Partner").rights.contains(right::security_write_all));
}

TEST_CASE(
    "SEC-4 rights come from groups and the Security Administrator always has security rights") {
  auto db = fresh_database();
  auto admin_rights = rights_of(user(db, "Administrator"), db.settings());
  CHECK(admin_rights.contains(right::config_write_all));
  CHECK(admin_rights.contains(right::status_access));
  // Through Business Partner.
  CHECK(admin_rights.contains(right::security_write_all));
  auto directory_rights = rights_of(user(db, "DirectoryService"), db.settings());
  CHECK(directory_rights == std::set{right::directory_read, right::directory_write});
  REQUIRE(db.update_user("security", {.groups = std::set<std::string>{}}, test::fixed_now()));
  CHECK(rights_of(user(db, "security"), db.settings()).contains(right::security_reset_all));
}

TEST_CASE("SEC-2 the Security Administrator can be neither deleted nor disabled") {
  auto db = fresh_database();
  CHECK(db.delete_user("security").error().code == security_errc::failed_precondition);
  CHECK(db.update_user("security", {.setting = account_setting::disabled}, test::fixed_now())
            .error()
            .code == security_errc::failed_precondition);
  CHECK(db.settings().users.contains("security"));
}

TEST_CASE("SEC-6 ignition is pending until three passwords change") {
  auto db = fresh_database();
  CHECK(db.ignition_pending().size() == 3);
  REQUIRE(
      db.change_own_password("Administrator", "Administrator", "Tr4ffic-Light", test::fixed_now()));
  REQUIRE(db.change_own_password("security", "securitypwd", "Gu4rd-Dog-Blue", test::fixed_now()));
  CHECK(db.ignition_pending() == std::vector<std::string>{"the system password"});
  REQUIRE(db.set_system_password("Sys-Pass-77", test::fixed_now()));
  CHECK(db.ignition_pending().empty());
  CHECK(db.settings().ignition.complete());
}

TEST_CASE("POL-4 service user lockout after 3 failures in 10 minutes for 60 s") {
  auto db = fresh_database();
  auto now = test::fixed_now();
  CHECK(attempt(db, "Administrator", "wrong1", now).outcome == login_outcome::bad_credentials);
  CHECK(attempt(db, "Administrator", "wrong2", now + 1min).outcome ==
        login_outcome::bad_credentials);
  auto third = attempt(db, "Administrator", "wrong3", now + 2min);
  CHECK(third.outcome == login_outcome::locked);
  CHECK(third.lock_event == lockout_event::locked_temporarily);
  CHECK(status_of(user(db, "Administrator"), db.settings().service_policy, now + 2min) ==
        account_status::locked_temporary);
  // The right password does not open a locked account.
  CHECK(attempt(db, "Administrator", "Administrator", now + 2min + 59s).outcome ==
        login_outcome::locked);
  CHECK(attempt(db, "Administrator", "Administrator", now + 3min + 1s).outcome ==
        login_outcome::success);
}

TEST_CASE("POL-1 failures outside the window do not count") {
  auto db = fresh_database();
  auto now = test::fixed_now();
  attempt(db, "Administrator", "x", now);
  attempt(db, "Administrator", "x", now + 5min);
  CHECK(attempt(db, "Administrator", "x", now + 10min + 1s).outcome ==
        login_outcome::bad_credentials);
  CHECK(attempt(db, "Administrator", "x", now + 11min).outcome == login_outcome::locked);
}

TEST_CASE("POL-1 reject action log only never locks and disable account locks until unlock") {
  auto db = fresh_database();
  auto policy = db.settings().service_policy;
  policy.lockout.action = reject_action::log_only;
  REQUIRE(db.set_service_user_policy(policy));
  auto now = test::fixed_now();
  for (int i = 0; i < 10; ++i)
    CHECK(attempt(db, "Administrator", "x", now).outcome == login_outcome::bad_credentials);

  policy.lockout.action = reject_action::log_and_disable_account;
  REQUIRE(db.set_service_user_policy(policy));
  for (int i = 0; i < 3; ++i)
    attempt(db, "Administrator", "x", now + 1h);
  CHECK(status_of(user(db, "Administrator"), db.settings().service_policy, now + 1h) ==
        account_status::locked_password_error);
  CHECK(attempt(db, "Administrator", "Administrator", now + std::chrono::days(30)).outcome ==
        login_outcome::locked);
  REQUIRE(db.unlock_user("Administrator"));
  CHECK(attempt(db, "Administrator", "Administrator", now + std::chrono::days(30)).outcome ==
        login_outcome::success);
}

TEST_CASE("SEC-5 account states: disabled and expired and force new password and idle") {
  auto db = fresh_database();
  auto now = test::fixed_now();
  CHECK(attempt(db, "Maintainer", "anything", now).outcome == login_outcome::disabled);
  REQUIRE(db.create_user({"auditor1",
                          "Quiet-River-42",
                          {"System Status Group"},
                          account_setting::force_new_password,
                          now + std::chrono::days(1)},
                         now));
  CHECK(attempt(db, "auditor1", "Quiet-River-42", now).outcome ==
        login_outcome::must_change_password);
  CHECK(attempt(db, "auditor1", "Quiet-River-42", now + std::chrono::days(2)).outcome ==
        login_outcome::expired);
  REQUIRE(db.update_user("auditor1", {.expires_at = std::optional<time_point>{}}, now));
  REQUIRE(db.change_own_password("auditor1", "Quiet-River-42", "Loud-Ocean-77", now));
  CHECK(attempt(db, "auditor1", "Loud-Ocean-77", now).outcome == login_outcome::success);

  auto policy = db.settings().service_policy;
  policy.account_idle_days = 30;
  policy.password_change_period_days = 90;
  REQUIRE(db.set_service_user_policy(policy));
  CHECK(status_of(user(db, "auditor1"), db.settings().service_policy,
                  now + std::chrono::days(31)) == account_status::disabled);
  policy.account_idle_days = 0;
  REQUIRE(db.set_service_user_policy(policy));
  CHECK(attempt(db, "auditor1", "Loud-Ocean-77", now + std::chrono::days(91)).outcome ==
        login_outcome::must_change_password);
  CHECK(attempt(db, "auditor1", "Loud-Ocean-77", now + std::chrono::days(10))
            .password_expires_in_days == 80);
}

TEST_CASE("POL-1 previous passwords may not be reused") {
  auto db = fresh_database();
  auto now = test::fixed_now();
  REQUIRE(db.change_own_password("Administrator", "Administrator", "Plum-Kite-58", now));
  REQUIRE(db.change_own_password("Administrator", "Plum-Kite-58", "Wolf-Mint-94", now));
  auto reused = db.change_own_password("Administrator", "Wolf-Mint-94", "Plum-Kite-58", now);
  REQUIRE_FALSE(reused.has_value());
  CHECK(reused.error().field == "new_password");
  CHECK(db.change_own_password("Administrator", "wrong", "Jade-Lamp-26", now).error().code ==
        security_errc::unauthenticated);
  auto weak = db.change_own_password("Administrator", "Wolf-Mint-94", "aaaaaaaa", now);
  REQUIRE_FALSE(weak.has_value());
  CHECK(weak.error().code == security_errc::invalid_argument);
}

TEST_CASE("SEC-4 a session ends when the account changes") {
  auto db = fresh_database();
  auto now = test::fixed_now();
  auto version = user(db, "Administrator").credential_version;
  REQUIRE(db.principal("Administrator", version, now).has_value());
  REQUIRE(db.update_user("Administrator", {.groups = std::set<std::string>{"System Status Group"}},
                         now));
  CHECK(db.principal("Administrator", version, now).error().code == security_errc::unauthenticated);
}

TEST_CASE("SEC-7 security reset restores every default") {
  auto db = fresh_database();
  auto now = test::fixed_now();
  REQUIRE(db.create_user({"operator9", "Blue-Sky-Walk-5", {}, account_setting::enabled, {}}, now));
  REQUIRE(db.delete_group("Upgrade Admin"));
  REQUIRE(db.set_service_level(service_name::configuration, pki::service_security_level::disabled));
  auto version = db.settings().version;
  REQUIRE(db.reset(now, test::seeded_random(3)));
  CHECK_FALSE(db.settings().users.contains("operator9"));
  CHECK(db.settings().groups.contains("Upgrade Admin"));
  CHECK(db.settings().service_levels.at(service_name::configuration) ==
        pki::service_security_level::secure_medium);
  CHECK(db.settings().version > version);
  CHECK(db.ignition_pending().size() == 3);
}

TEST_CASE("SEC-8 a release adds rights only to what is still at default") {
  auto defaults = *security_database::factory_defaults(test_argon2_cost, test::fixed_now(),
                                                       test::seeded_random(1));
  // Simulate an older release: one group lacked a right, one account lacked a group.
  defaults.groups.at("Maint Admin").rights.erase(right::web_upgrade);
  defaults.groups.at("Backup Admin").rights.erase(right::web_backup);
  defaults.groups.at("Backup Admin").at_default = false;
  defaults.users.at("Maintainer").groups.clear();
  defaults.users.erase("TURNServer");
  security_database db(defaults, test_argon2_cost);
  CHECK(db.apply_release_defaults(test::fixed_now(), test::seeded_random(2)));
  CHECK(db.settings().groups.at("Maint Admin").rights.contains(right::web_upgrade));
  CHECK_FALSE(db.settings().groups.at("Backup Admin").rights.contains(right::web_backup));
  CHECK(db.settings().users.at("Maintainer").groups == std::set<std::string>{"Maintainer"});
  CHECK(db.settings().users.contains("TURNServer"));
  CHECK_FALSE(db.apply_release_defaults(test::fixed_now(), test::seeded_random(2)));
}

TEST_CASE("SEC-4 invalid input names the field and changes nothing") {
  auto db = fresh_database();
  auto now = test::fixed_now();
  auto before = encode_settings(db.settings());
  CHECK(db.create_user({"abc", "Good-Pass-99", {}, account_setting::enabled, {}}, now)
            .error()
            .field == "name");
  CHECK(db.create_user({"valid_name", "short", {}, account_setting::enabled, {}}, now)
            .error()
            .field == "password");
  CHECK(db.create_user(
              {"valid_name", "Good-Pass-99", {"No Such Group"}, account_setting::enabled, {}}, now)
            .error()
            .field == "groups");
  CHECK(db.create_user({"Administrator", "Good-Pass-99", {}, account_setting::enabled, {}}, now)
            .error()
            .code == security_errc::already_exists);
  auto policy = db.settings().service_policy;
  policy.history_entries = 50;
  CHECK(db.set_service_user_policy(policy).error().field == "service_user.history_entries");
  CHECK(db.delete_group("Directory Group").error().code == security_errc::failed_precondition);
  CHECK(db.set_unsecured_interfaces({.file_writer_address = "not-an-ip"}).error().field ==
        "file_writer_address");
  CHECK(encode_settings(db.settings()) == before);
}

TEST_CASE("SVC-3 an unsecured interface Ward does not serve cannot be switched on") {
  auto db = fresh_database();
  auto before = encode_settings(db.settings());
  using security::unsecured_interfaces;
  for (auto [interfaces, field] :
       {std::pair{unsecured_interfaces{.legacy_monitor = true}, "legacy_monitor"},
        std::pair{unsecured_interfaces{.cti = true}, "cti"},
        std::pair{unsecured_interfaces{.directory_read = true}, "directory_read"},
        std::pair{unsecured_interfaces{.directory_write = true}, "directory_write"},
        std::pair{unsecured_interfaces{.file_writer_address = "10.1.2.3"},
                  "file_writer_address"}}) {
    auto refused = db.set_unsecured_interfaces(interfaces);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == security_errc::failed_precondition);
    CHECK(refused.error().field == field);
  }
  CHECK(encode_settings(db.settings()) == before);
  CHECK(db.set_unsecured_interfaces({}).has_value());
}

TEST_CASE("SEC-1 settings survive encode and decode and damage is refused") {
  auto db = fresh_database();
  REQUIRE(db.create_user({"operator9",
                          "Blue-Sky-Walk-5",
                          {"Maintainer"},
                          account_setting::enabled,
                          test::fixed_now() + 24h},
                         test::fixed_now()));
  attempt(db, "operator9", "x", test::fixed_now());
  auto text = encode_settings(db.settings());
  auto decoded = decode_settings(text);
  REQUIRE(decoded.has_value());
  CHECK(encode_settings(*decoded) == text);
  CHECK_FALSE(decode_settings(text.substr(0, text.size() / 2)).has_value());
  CHECK_FALSE(decode_settings("{}").has_value());
}

TEST_CASE("SEC-1 sealed records are encrypted and bound to their name and key") {
  auto key = node_key::from_bytes({1, 2, 3});
  auto other = node_key::from_bytes({9});
  auto random = test::seeded_random(4);
  auto sealed = key.seal("security/settings", "secret-text-Administrator", random);
  CHECK(sealed.find("secret-text") == std::string::npos);
  CHECK(key.open("security/settings", sealed).value() == "secret-text-Administrator");
  CHECK_FALSE(key.open("config/directory", sealed).has_value());
  CHECK_FALSE(other.open("security/settings", sealed).has_value());
  auto flipped = sealed;
  flipped[flipped.size() / 2] ^= 0x01;
  CHECK_FALSE(key.open("security/settings", flipped).has_value());
  CHECK_FALSE(key.open("security/settings", "W1short").has_value());
}

TEST_CASE("POL-1 wrong current passwords in a password change count towards lockout") {
  auto db = fresh_database();
  auto now = test::fixed_now();
  for (int i = 0; i < 3; ++i) {
    auto refused = db.change_own_password("Administrator", "guess", "Plum-Kite-58", now);
    REQUIRE_FALSE(refused.has_value());
    CHECK(failure_counted(refused.error()));
  }
  CHECK(status_of(user(db, "Administrator"), db.settings().service_policy, now) ==
        account_status::locked_temporary);
}
