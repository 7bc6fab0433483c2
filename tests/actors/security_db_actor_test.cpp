#include "actors/security_db_actor.hpp"
#include "pki/certificate_authority.hpp"
#include "pki/certificate_builder.hpp"

#include "security/settings_codec.hpp"
#include "tests/unit/test_support.hpp"
#include <fstream>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>

using namespace ward;
using namespace ward::actors;
using security::security_errc;

namespace {

/// A security actor over real stores in a temp dir; every exchange is request/reply.
struct security_world {
  test::temp_dir dir;
  manual_clock time{test::fixed_now()};
  caf::actor_system_config config;
  std::optional<caf::actor_system> system;
  caf::actor actor;
  std::shared_ptr<security::audit_log> audit;
  std::shared_ptr<security::sealed_store> security_store;
  std::shared_ptr<security::sealed_store> config_store;
  /// Every directory the actor published, in order; written on the actor's thread and read
  /// after a reply from it.
  std::shared_ptr<std::vector<telephony::telephony_directory_data>> published =
      std::make_shared<std::vector<telephony::telephony_directory_data>>();

  explicit security_world(bool settings_writer = true) {
    auto key = security::node_key::from_bytes({7});
    auto random = test::seeded_random(11);
    security_store = std::make_shared<security::sealed_store>(
        std::move(*storage::kv_store::open(dir.path() / "security")), key, random);
    config_store = std::make_shared<security::sealed_store>(
        std::move(*storage::kv_store::open(dir.path() / "config")), key, random);
    audit = std::shared_ptr<security::audit_log>(
        std::move(*security::audit_log::open(dir.path() / "audit.log", time)));
    auto defaults = *security::security_database::factory_defaults(security::test_argon2_cost,
                                                                   time.now(), random);
    security::security_database database(std::move(defaults), security::test_argon2_cost);
    telephony::telephony_directory directory({}, "ward.test", security::test_argon2_cost);
    auto identity_key = *pki::private_key::generate_rsa(2048);
    auto identity =
        *pki::make_self_signed_identity(identity_key, "node.ward.test", time.now(), random);
    pki_state pki{security::pki_record{}, identity_key, identity, dir.path() / "certificates",
                  "node.ward.test",       {},           {}};
    system.emplace(config);
    security_actor_deps deps{std::move(database),
                             std::move(directory),
                             std::move(pki),
                             security_store,
                             config_store,
                             audit,
                             &time,
                             random};
    deps.settings_writer = settings_writer;
    deps.publish_directory = [published = published](const auto& data) {
      published->push_back(data);
    };
    actor = spawn_security_db_actor(*system, std::move(deps));
  }

  ~security_world() {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    system.reset();
  }

  template <class Reply, class Request> Reply ask(Request request) {
    caf::scoped_actor self{*system};
    Reply reply;
    self->request(actor, std::chrono::seconds(30), std::move(request))
        .receive([&](Reply& answer) { reply = std::move(answer); },
                 [&](const caf::error& err) { FAIL("no answer: " << system->render(err)); });
    return reply;
  }

  login_reply login(const std::string& name, const std::string& password) {
    return ask<login_reply>(login_request{name, password, {"127.0.0.1:4000", {}}});
  }

  transaction_reply run(security_transaction transaction) {
    return ask<transaction_reply>(std::move(transaction));
  }

  security_transaction change_password(const std::string& token, std::string old_password,
                                       std::string new_password) {
    security_transaction t;
    t.token = token;
    t.action = "ChangePassword";
    t.allowed_before_ignition = true;
    t.writes = transaction_writes::security_settings;
    t.apply = [=](security_context& c) -> security::security_result<transaction_effect> {
      auto changed =
          c.security.change_own_password(c.principal->user, old_password, new_password, c.now);
      if (!changed)
        return std::unexpected(changed.error());
      return transaction_effect{};
    };
    return t;
  }

  /// Changes the three first-start passwords and returns an Administrator session.
  std::string ignite() {
    auto admin = login("Administrator", "Administrator").grant.token;
    REQUIRE_FALSE(run(change_password(admin, "Administrator", "Oak-Tree-Plan-47")).error);
    auto sec = login("security", "securitypwd").grant.token;
    REQUIRE_FALSE(run(change_password(sec, "securitypwd", "Harbor-Light-93")).error);
    sec = login("security", "Harbor-Light-93").grant.token;
    security_transaction system_password;
    system_password.token = sec;
    system_password.allowed_before_ignition = true;
    system_password.writes = transaction_writes::security_settings;
    system_password.apply =
        [](security_context& c) -> security::security_result<transaction_effect> {
      auto set = c.security.set_system_password("Sys-Gate-Key-58", c.now);
      if (!set)
        return std::unexpected(set.error());
      return transaction_effect{};
    };
    REQUIRE_FALSE(run(std::move(system_password)).error);
    return login("Administrator", "Oak-Tree-Plan-47").grant.token;
  }
};

security_transaction read_users(const std::string& token, security::right required) {
  security_transaction t;
  t.token = token;
  t.action = "ListServiceUsers";
  t.service = security::service_name::security_administration;
  t.origin = {"127.0.0.1:4001", security::service_name::security_administration, true, false};
  t.required = required;
  t.apply = [](security_context&) -> security::security_result<transaction_effect> {
    return transaction_effect{};
  };
  return t;
}

} // namespace

TEST_CASE("SEC-6 the actor grants a session at first start but gates other work") {
  security_world world;
  auto reply = world.login("Administrator", "Administrator");
  REQUIRE_FALSE(reply.error);
  CHECK(reply.grant.ignition_pending.size() == 3);
  CHECK(reply.grant.token.size() == 64);
  auto gated = world.run(read_users(reply.grant.token, security::right::security_read_all));
  REQUIRE(gated.error);
  CHECK(gated.error->code == security_errc::failed_precondition);
  CHECK(gated.error->message.find("first start") != std::string::npos);
}

TEST_CASE("MON-1 every login attempt is audited and a failure raises an alarm record") {
  security_world world;
  auto refused = world.login("Administrator", "wrong");
  REQUIRE(refused.error);
  CHECK(refused.error->code == security_errc::unauthenticated);
  CHECK(refused.error->message == "login failed");
  auto unknown = world.login("nobody-here", "x");
  CHECK(unknown.error->message == "login failed");
  auto logins = *world.audit->query({.kind = security::audit_kind::login});
  REQUIRE(logins.size() == 2);
  CHECK(logins[0].outcome == security::audit_outcome::failure);
  CHECK(logins[0].source == "127.0.0.1:4000");
  CHECK(logins[1].reason == "unknown service user");
  auto alarms = *world.audit->query({.kind = security::audit_kind::alarm});
  auto login_alarms = std::count_if(alarms.begin(), alarms.end(),
                                    [](const auto& r) { return r.action == "login_failure"; });
  CHECK(login_alarms == 2);
}

TEST_CASE("TLS-3 TLS failure alarms are capped per address, whatever the source port") {
  security_world world;
  for (int port = 40000; port < 40030; ++port)
    caf::anon_send(world.actor,
                   tls_failure_report{"security_administration",
                                      "192.0.2.7:" + std::to_string(port), "unsupported protocol"});
  caf::anon_send(world.actor,
                 tls_failure_report{"sip", "[2001:db8::9]:5061", "no client certificate"});
  // A request after the reports is answered after them: the mailbox keeps their order.
  (void)world.login("Administrator", "wrong");
  auto alarms = *world.audit->query({.kind = security::audit_kind::alarm, .limit = 1000});
  auto from = [&](std::string_view prefix) {
    return std::count_if(alarms.begin(), alarms.end(), [&](const auto& r) {
      return r.action == "tls_handshake_failed" && r.source.starts_with(prefix);
    });
  };
  CHECK(from("192.0.2.7:") == static_cast<long>(tls_alarms_per_address_per_minute));
  CHECK(from("[2001:db8::9]:") == 1);
}

TEST_CASE(
    "SEC-4 one authorize path refuses a missing session and a missing right and audits both") {
  security_world world;
  auto admin = world.ignite();
  auto no_session = world.run(read_users("not-a-token", security::right::security_read_all));
  REQUIRE(no_session.error);
  CHECK(no_session.error->code == security_errc::unauthenticated);
  auto lacking = world.run(read_users(admin, security::right::turn_server_connection));
  REQUIRE(lacking.error);
  CHECK(lacking.error->code == security_errc::permission_denied);
  CHECK(lacking.error->message.find("turn_server_connection") != std::string::npos);
  CHECK_FALSE(world.run(read_users(admin, security::right::security_read_all)).error);
  auto denied = *world.audit->query({.kind = security::audit_kind::access_denied});
  CHECK(denied.size() == 2);
}

TEST_CASE("SVC-1 a call on a connection the service's level no longer admits is refused") {
  security_world world;
  auto admin = world.ignite();
  auto plain = read_users(admin, security::right::security_read_all);
  plain.origin.tls = false;
  auto refused = world.run(std::move(plain));
  REQUIRE(refused.error);
  CHECK(refused.error->message.find("plaintext") != std::string::npos);
  auto unidentified = read_users(admin, security::right::security_read_all);
  unidentified.origin.service.reset();
  REQUIRE(world.run(std::move(unidentified)).error);
}

TEST_CASE("SVC-2 a call arriving on another service's listener is refused") {
  security_world world;
  auto admin = world.ignite();
  auto request = read_users(admin, security::right::security_read_all);
  request.origin.service = security::service_name::configuration;
  request.origin.tls = true;
  auto reply = world.run(std::move(request));
  REQUIRE(reply.error);
  CHECK(reply.error->code == security_errc::permission_denied);
}

TEST_CASE("SEC-4 a refused change leaves nothing half-written and a committed one is persisted and "
          "audited") {
  security_world world;
  auto admin = world.ignite();
  auto stored_before = *world.security_store->get(settings_record);

  security_transaction broken;
  broken.token = admin;
  broken.action = "CreateServiceUser";
  broken.required = security::right::security_write_all;
  broken.writes = transaction_writes::security_settings;
  broken.apply = [](security_context& c) -> security::security_result<transaction_effect> {
    // Changes one thing, then fails: the change must not survive.
    (void)c.security.create_user(
        {"halfway1", "Birch-Lake-Hill-62", {}, security::account_setting::enabled, {}}, c.now);
    return std::unexpected(
        security::security_error{security_errc::invalid_argument, "groups", "bad"});
  };
  auto refused = world.run(std::move(broken));
  REQUIRE(refused.error);
  CHECK(refused.error->field == "groups");
  CHECK(*world.security_store->get(settings_record) == stored_before);

  auto check = read_users(admin, security::right::security_read_all);
  bool halfway_seen = true;
  check.apply =
      [&halfway_seen](security_context& c) -> security::security_result<transaction_effect> {
    halfway_seen = c.security.settings().users.contains("halfway1");
    return transaction_effect{};
  };
  REQUIRE_FALSE(world.run(std::move(check)).error);
  CHECK_FALSE(halfway_seen);

  security_transaction good;
  good.token = admin;
  good.action = "CreateServiceUser";
  good.required = security::right::security_write_all;
  good.writes = transaction_writes::security_settings;
  good.apply = [](security_context& c) -> security::security_result<transaction_effect> {
    auto created = c.security.create_user(
        {"operator5", "Birch-Lake-Hill-62", {}, security::account_setting::enabled, {}}, c.now);
    if (!created)
      return std::unexpected(created.error());
    return transaction_effect{"service_user/operator5", "", "{}", ""};
  };
  REQUIRE_FALSE(world.run(std::move(good)).error);
  auto stored = security::decode_settings(**world.security_store->get(settings_record));
  REQUIRE(stored.has_value());
  CHECK(stored->users.contains("operator5"));
  auto changes = *world.audit->query({.kind = security::audit_kind::change});
  REQUIRE_FALSE(changes.empty());
  CHECK(changes.back().object == "service_user/operator5");
  CHECK(changes.back().actor == "Administrator");
}

TEST_CASE("POL-7 failures from one address across many accounts block the address") {
  security_world world;
  // Ten wrong passwords, spread so that no single account reaches its own limit of 3.
  for (int i = 0; i < 10; ++i)
    world.login(i % 2 ? "Administrator" : "nobody" + std::to_string(i), "wrong");
  auto blocked = world.login("security", "securitypwd");
  REQUIRE(blocked.error);
  CHECK(blocked.error->field == "source");
  auto alarms = *world.audit->query({.kind = security::audit_kind::alarm});
  bool raised = std::any_of(alarms.begin(), alarms.end(),
                            [](const auto& r) { return r.action == "source_blocked"; });
  CHECK(raised);
  world.time.advance(std::chrono::seconds(301));
  CHECK_FALSE(world.login("security", "securitypwd").error);
}

TEST_CASE("PKI-5 a node hosting the CA renews its own identity before it expires") {
  test::temp_dir dir;
  manual_clock time{test::fixed_now()};
  auto random = test::seeded_random(21);
  auto key = security::node_key::from_bytes({3});
  auto store = [&](const char* name) {
    return std::make_shared<security::sealed_store>(
        std::move(*storage::kv_store::open(dir.path() / name)), key, random);
  };
  auto security_store = store("security");
  auto audit = std::shared_ptr<security::audit_log>(
      std::move(*security::audit_log::open(dir.path() / "audit.log", time)));
  auto ca = *pki::certificate_authority::create_root("node.ward.test", {}, time.now(), random);
  auto identity_key = *pki::private_key::generate_rsa(2048);
  auto identity =
      *ca.issue_node_identity(identity_key, "node.ward.test", {"127.0.0.1"}, time.now());
  security::pki_record record;
  record.ca = ca;
  std::filesystem::create_directories(dir.path() / "certificates");
  pki_state pki{record,           identity_key,  identity, dir.path() / "certificates",
                "node.ward.test", {"127.0.0.1"}, {}};
  auto defaults = *security::security_database::factory_defaults(security::test_argon2_cost,
                                                                 time.now(), random);
  caf::actor_system_config config;
  caf::actor_system system{config};
  // 705 days on, 25 days are left: inside the 30-day renewal window.
  time.advance(std::chrono::days(705));
  auto actor = spawn_security_db_actor(
      system, security_actor_deps{
                  security::security_database(defaults, security::test_argon2_cost),
                  telephony::telephony_directory({}, "ward.test", security::test_argon2_cost), pki,
                  security_store, store("config"), audit, &time, random});
  std::optional<pki::certificate> renewed;
  for (int attempt = 0; attempt < 200 && !renewed; ++attempt) {
    caf::scoped_actor self{system};
    // A request/reply round trip orders this after the start-up sweep.
    self->request(actor, std::chrono::seconds(10), logout_request{"", {}})
        .receive([](transaction_reply&) {}, [](const caf::error&) {});
    std::ifstream in(dir.path() / "certificates" / "identity.pem");
    std::string pem((std::istreambuf_iterator<char>(in)), {});
    if (auto cert = pki::certificate::from_pem(pem);
        cert && cert->serial_hex() != identity.serial_hex())
      renewed = *cert;
  }
  REQUIRE(renewed.has_value());
  CHECK(renewed->days_until_expiry(time.now()) >= 700);
  CHECK(renewed->matches(identity_key));
  auto changes = *audit->query({.kind = security::audit_kind::change});
  REQUIRE_FALSE(changes.empty());
  CHECK(changes.back().action == "RenewIdentity");
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_CASE("POL-1 a stolen session cannot guess the current password without locking the account") {
  security_world world;
  auto admin = world.ignite();
  for (int i = 0; i < 3; ++i) {
    auto refused =
        world.run(world.change_password(admin, "guess-" + std::to_string(i), "Plum-Kite-58"));
    REQUIRE(refused.error);
    CHECK(refused.error->field == "old_password");
  }
  auto locked = world.login("Administrator", "Oak-Tree-Plan-47");
  REQUIRE(locked.error);
  CHECK(locked.error->message == "account locked");
}

TEST_CASE("LINE-3 a replica persists a newer replicated record and never applies an older one") {
  security_world replica(false);
  auto random = test::seeded_random(5);
  auto settings = *security::security_database::factory_defaults(security::test_argon2_cost,
                                                                 replica.time.now(), random);
  settings.service_policy.min_name_length = 9;
  CHECK(replica.ask<std::uint64_t>(apply_replicated{5, security::encode_settings(settings), {}}) ==
        5);
  auto stored = replica.security_store->get(settings_version_record);
  REQUIRE(stored.has_value());
  CHECK(stored->value_or("") == "5");
  auto held = security::decode_settings(replica.security_store->get(settings_record)->value());
  REQUIRE(held.has_value());
  CHECK(held->service_policy.min_name_length == 9);

  // Older and equal versions change nothing; unreadable records are refused and alarmed.
  settings.service_policy.min_name_length = 7;
  CHECK(replica.ask<std::uint64_t>(apply_replicated{3, security::encode_settings(settings), {}}) ==
        5);
  CHECK(replica.ask<std::uint64_t>(apply_replicated{5, security::encode_settings(settings), {}}) ==
        5);
  CHECK(replica.ask<std::uint64_t>(apply_replicated{6, "not json", {}}) == 5);
  held = security::decode_settings(replica.security_store->get(settings_record)->value());
  CHECK(held->service_policy.min_name_length == 9);
  security::audit_filter alarms;
  alarms.kind = security::audit_kind::alarm;
  auto records = *replica.audit->query(alarms);
  CHECK(std::any_of(records.begin(), records.end(),
                    [](const auto& r) { return r.action == "replication_refused"; }));

  // Revoked serials arrive with the record and are kept for the certificate checks.
  CHECK(replica.ask<std::uint64_t>(
            apply_replicated{7, security::encode_settings(settings), {"0A1B"}}) == 7);
}

TEST_CASE("LINE-3 a replica refuses changes to the replicated settings with unavailable") {
  security_world replica(false);
  auto granted = replica.login("Administrator", "Administrator");
  REQUIRE_FALSE(granted.error);
  auto reply = replica.run(
      replica.change_password(granted.grant.token, "Administrator", "Oak-Tree-Plan-47"));
  REQUIRE(reply.error);
  CHECK(reply.error->code == security_errc::unavailable);
  CHECK(reply.error->message.find("primary") != std::string::npos);
}

TEST_CASE("POL-7 a login reported from another node counts on the writer") {
  security_world writer;
  for (int i = 0; i < 3; ++i)
    caf::anon_send(writer.actor, login_report{"exp-1", "Administrator", false, "10.0.0.9:5000"});
  // A request after the reports is answered after them: the account is locked now.
  auto reply = writer.login("Administrator", "Administrator");
  REQUIRE(reply.error);
  CHECK(reply.error->message == "account locked");
}

TEST_CASE("SIP-3 a SIP policy change is stamped by the actor's clock and persisted published and "
          "audited") {
  security_world world;
  world.time.advance(std::chrono::milliseconds(5400250));
  auto switched_on_at = world.time.now();
  auto admin = world.ignite();
  security_transaction change;
  change.token = admin;
  change.action = "SetSipSettings";
  change.service = security::service_name::configuration;
  change.origin = {"127.0.0.1:4002", security::service_name::configuration, true, false};
  change.required = security::right::config_write_all;
  change.writes = transaction_writes::directory;
  change.apply = [](security_context& c) -> security::security_result<transaction_effect> {
    auto before = telephony::encode_sip_policy(c.directory.data().policy);
    auto policy = telephony::effective_sip_policy(c.directory.data().policy, c.now);
    policy.auto_create = true;
    policy.user_agent_block = {"friendly-scanner"};
    if (auto set = c.directory.set_sip_policy(policy, c.now); !set)
      return std::unexpected(set.error());
    return transaction_effect{"sip_policy", before,
                              telephony::encode_sip_policy(c.directory.data().policy), ""};
  };
  auto reply = world.run(std::move(change));
  REQUIRE_MESSAGE(!reply.error, (reply.error ? reply.error->message : std::string{}));

  auto stored = telephony::decode_directory(**world.config_store->get(directory_record));
  REQUIRE(stored.has_value());
  CHECK(stored->policy.auto_create);
  CHECK(stored->policy.auto_create_enabled_at == switched_on_at);
  CHECK(stored->policy.user_agent_block == std::vector<std::string>{"friendly-scanner"});
  REQUIRE_FALSE(world.published->empty());
  CHECK(world.published->back().policy == stored->policy);
  auto changes = *world.audit->query({.kind = security::audit_kind::change});
  REQUIRE_FALSE(changes.empty());
  CHECK(changes.back().action == "SetSipSettings");
  CHECK(changes.back().object == "sip_policy");
  CHECK(changes.back().before.find("\"auto_create\":false") != std::string::npos);
  CHECK(changes.back().after.find("\"auto_create\":true") != std::string::npos);
}

TEST_CASE("SEC-4 logging out ends the session; later calls with its token are refused") {
  security_world world;
  auto admin = world.ignite();
  REQUIRE_FALSE(world.run(read_users(admin, security::right::security_read_all)).error);
  CHECK_FALSE(world.ask<transaction_reply>(logout_request{admin, {"127.0.0.1:4000", {}}}).error);
  auto refused = world.run(read_users(admin, security::right::security_read_all));
  REQUIRE(refused.error);
  CHECK(refused.error->code == security_errc::unauthenticated);
  CHECK(refused.error->message == "no valid session: log in first");
  auto logouts = *world.audit->query({.kind = security::audit_kind::logout});
  REQUIRE(logouts.size() == 1);
  CHECK(logouts[0].actor == "Administrator");
  // A second logout with the same token ends nothing and is not audited again.
  CHECK_FALSE(world.ask<transaction_reply>(logout_request{admin, {"127.0.0.1:4000", {}}}).error);
  CHECK(world.audit->query({.kind = security::audit_kind::logout})->size() == 1);
}

TEST_CASE("SEC-4 a session expires after its lifetime on the actor's clock") {
  security_world world;
  auto admin = world.ignite();
  world.time.advance(session_lifetime - std::chrono::seconds(1));
  CHECK_FALSE(world.run(read_users(admin, security::right::security_read_all)).error);
  world.time.advance(std::chrono::seconds(1));
  auto expired = world.run(read_users(admin, security::right::security_read_all));
  REQUIRE(expired.error);
  CHECK(expired.error->code == security_errc::unauthenticated);
  CHECK(expired.error->message == "session expired: log in again");
}

TEST_CASE("PKI-5 an enrolment reply for another key is refused and the identity stays") {
  security_world replica(false);
  auto random = test::seeded_random(9);
  auto ca = *pki::certificate_authority::create_root("pbx1.ward.test", pki::organisation{},
                                                     replica.time.now(), random);
  auto stranger_key = *pki::private_key::generate_rsa(2048);
  auto issued = *ca.issue_node_identity(stranger_key, "node.ward.test", {}, replica.time.now());
  auto ca_pem = *ca.signing_certificate().to_pem();
  auto reply = replica.ask<transaction_reply>(install_enrolment{*issued.to_pem(), ca_pem, ca_pem});
  REQUIRE(reply.error);
  CHECK(reply.error->code == security_errc::invalid_argument);
  CHECK(reply.error->message == "the issued certificate is not for this node's key");
  auto unreadable = replica.ask<transaction_reply>(install_enrolment{"x", ca_pem, ca_pem});
  REQUIRE(unreadable.error);
  CHECK(unreadable.error->message == "the enrolment reply holds an unreadable certificate");
  auto changes = *replica.audit->query({.kind = security::audit_kind::change});
  CHECK(std::none_of(changes.begin(), changes.end(),
                     [](const auto& r) { return r.action == "Enrolled"; }));
  CHECK_FALSE(std::filesystem::exists(replica.dir.path() / "certificates" / "identity.pem"));
}
