#include "actors/status_actor.hpp"
#include "pki/certificate_builder.hpp"
#include "tests/unit/test_support.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>

using namespace ward;
using namespace std::chrono_literals;

namespace {

/// An actor system whose scheduler runs only when told to, so replies are deterministic.
struct deterministic_system {
  caf::actor_system_config config;
  std::optional<caf::actor_system> system;
  caf::scheduler::test_coordinator* scheduler = nullptr;

  deterministic_system() {
    config.set("scheduler.policy", caf::atom("testing"));
    config.set("logger.inline-output", true);
    system.emplace(config);
    scheduler = &dynamic_cast<caf::scheduler::test_coordinator&>(system->scheduler());
  }
};

} // namespace

TEST_CASE("MON-5 the status actor reports name and role and version and uptime and identity") {
  deterministic_system world;
  manual_clock time(test::fixed_now());
  auto key = *pki::private_key::generate_rsa(2048);
  auto cert =
      *pki::make_self_signed_identity(key, "exp1.test", test::fixed_now(), test::seeded_random(4));
  auto status = actors::spawn_status_actor(
      *world.system,
      actors::node_facts{"site-a", node_role::expansion, "9.9.9", "exp1.test", 3,
                         std::make_shared<pki::current_certificate>(cert)},
      time);
  world.scheduler->run();
  time.advance(90s + std::chrono::days(10));

  caf::scoped_actor self{*world.system};
  auto pending = self->request(status, caf::infinite, actors::status_atom::value);
  world.scheduler->run();
  bool answered = false;
  pending.receive(
      [&](const actors::node_status& reply) {
        answered = true;
        CHECK(reply.node_name == "site-a");
        CHECK(reply.role == node_role::expansion);
        CHECK(reply.version == "9.9.9");
        CHECK(reply.hostname == "exp1.test");
        CHECK(reply.start_count == 3);
        CHECK(reply.uptime_seconds == 90 + 10 * 86400);
        CHECK(reply.running_actors >= 1);
        CHECK(reply.identity.subject == "CN=exp1.test");
        CHECK(reply.identity.self_signed);
        CHECK(reply.identity.days_until_expiry == 719); // 730 days less 10 days and 90 s, floored
        CHECK(reply.identity.serial_hex == cert.serial_hex());
      },
      [&](const caf::error& err) { FAIL("status actor failed: " << world.system->render(err)); });
  CHECK(answered);
  caf::anon_send_exit(status, caf::exit_reason::user_shutdown);
  world.scheduler->run();
}
