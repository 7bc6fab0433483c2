// SPEC TF-6: forwarding is checked with the forwarding user's rights, and the off-switch and
// trunk-to-trunk rules.
#include "telephony/dial_plan.hpp"

#include "tests/unit/telephony/dial_plan_fixture.hpp"

#include <doctest/doctest.h>

using namespace ward::telephony;
using namespace std::chrono;

namespace {

telephony_directory_data forwarding_directory() {
  auto plan = ward::test::carrier_plan();
  rights_template careful;
  careful.name = "careful";
  careful.inhibit_off_switch = true;
  plan.templates.emplace("careful", careful);
  plan.users["alice"];
  plan.users["carol"].rights_template = "careful";
  return ward::test::directory_of(plan, {"201", "202", "203"},
                                  {{"alice", "201"}, {"carol", "203"}});
}

} // namespace

TEST_CASE("TF-6 a forward resolves with the user's rights and the off-switch rules") {
  auto data = forwarding_directory();
  auto plan = compile_dial_plan(data);
  REQUIRE(plan);
  auto forward = [&](std::string_view user, std::string_view target, bool from_trunk = false) {
    return resolve_forward(data, *plan, user, target, ward::test::monday_morning(), from_trunk);
  };
  CHECK(forward("alice", "202").outcome == dial_outcome::extension);
  CHECK(forward("alice", "912125551234").outcome == dial_outcome::outside);
  // International is barred for alice by the system's default.
  auto abroad = forward("alice", "9011442079460000");
  CHECK(abroad.outcome == dial_outcome::barred);
  CHECK(abroad.barred_by == bar_reason::calling_class);
  CHECK(abroad.detail.starts_with("forward to 9011442079460000: "));
  CHECK(forward("alice", "911").barred_by == bar_reason::forwarding);
  CHECK(forward("alice", "77").barred_by == bar_reason::forwarding);
  CHECK(forward("alice", "201").barred_by == bar_reason::own_extension);
  // carol's template inhibits off-switch forwarding; internal forwards stay.
  CHECK(forward("carol", "912125551234").barred_by == bar_reason::forwarding);
  CHECK(forward("carol", "202").outcome == dial_outcome::extension);
  // A call from a trunk is not sent back out unless trunk-to-trunk transfer is on.
  auto looped = forward("alice", "912125551234", true);
  CHECK(looped.barred_by == bar_reason::forwarding);
  CHECK(looped.detail.find("trunk-to-trunk transfer is off") != std::string::npos);
  // The system's inhibit wins over a user who has none.
  data.dial_plan.inhibit_off_switch = true;
  data.dial_plan.trunk_to_trunk_transfer = true;
  plan = compile_dial_plan(data);
  REQUIRE(plan);
  CHECK(forward("alice", "912125551234").detail.find("inhibited for alice") != std::string::npos);
  data.dial_plan.inhibit_off_switch = false;
  plan = compile_dial_plan(data);
  REQUIRE(plan);
  CHECK(forward("alice", "912125551234", true).outcome == dial_outcome::outside);
}
