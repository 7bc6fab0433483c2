// SPEC TF-10: fraud threshold rules and their counters, with an injected clock.
#include "telephony/dial_plan_config.hpp"
#include "telephony/dial_plan_edit.hpp"
#include "telephony/fraud_meter.hpp"

#include <doctest/doctest.h>

using namespace ward::telephony;
using namespace std::chrono;

namespace {

/// 2026-12-07 was a Monday; `at(7, 9, 0)` is 09:00 that day, as UTC and as local time.
sys_seconds instant(int day_of_december, int hour, int minute, int second = 0) {
  return sys_days(
             year_month_day{year(2026), December, day(static_cast<unsigned>(day_of_december))}) +
         hours(hour) + minutes(minute) + seconds(second);
}

local_moment local_of(sys_seconds when) {
  const auto days = floor<std::chrono::days>(when);
  return {year_month_day{days}, weekday{days},
          static_cast<std::uint16_t>(duration_cast<minutes>(when - days).count())};
}

fraud_rule rule(std::string name, fraud_scope scope, std::string subject, std::string prefix,
                fraud_measure measure, std::uint32_t warning, std::uint32_t critical,
                fraud_action critical_action = fraud_action::bar_user) {
  fraud_rule made;
  made.name = std::move(name);
  made.scope = scope;
  made.subject = std::move(subject);
  made.prefix = std::move(prefix);
  made.measure = measure;
  made.warning = {warning, fraud_action::alarm};
  made.critical = {critical, critical_action};
  return made;
}

metered_call call(std::string id, std::string user, std::string number,
                  std::string trunk = "carrier", std::string rights = {}) {
  return {std::move(id), std::move(user), std::move(rights), std::move(trunk), std::move(number)};
}

/// Starts `call` at `when`, returning the trips.
std::vector<fraud_trip> start(fraud_meter& meter, const metered_call& placed, sys_seconds when) {
  return meter.call_started(placed, when, local_of(when));
}

} // namespace

TEST_CASE("TF-10 calls per minute: warning then critical, each once, for the user named") {
  fraud_meter meter;
  meter.configure(
      {rule("intl", fraud_scope::user, "alice", "011", fraud_measure::calls_per_minute, 3, 5)}, {});
  const auto t0 = instant(7, 9, 0);
  std::vector<fraud_trip> seen;
  for (int i = 0; i < 6; ++i) {
    auto trips = start(meter, call("n1/" + std::to_string(i), "alice", "0114420"), t0 + seconds(i));
    seen.insert(seen.end(), trips.begin(), trips.end());
  }
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].level == fraud_level::warning);
  CHECK(seen[0].value == 3);
  CHECK(seen[0].call == "n1/2");
  CHECK(seen[0].action == fraud_action::alarm);
  CHECK(seen[1].level == fraud_level::critical);
  CHECK(seen[1].value == 5);
  CHECK(seen[1].action == fraud_action::bar_user);
  CHECK(seen[1].user == "alice");
  CHECK(seen[1].trunk == "carrier");
  // Another user, another prefix: not counted.
  CHECK(start(meter, call("n1/x", "bob", "0114420"), t0 + seconds(7)).empty());
  CHECK(start(meter, call("n1/y", "alice", "2125550100"), t0 + seconds(8)).empty());
  // A minute later the rate fell; the next burst trips again.
  seen.clear();
  for (int i = 0; i < 3; ++i) {
    auto trips =
        start(meter, call("n1/late" + std::to_string(i), "alice", "0114420"), t0 + seconds(90 + i));
    seen.insert(seen.end(), trips.begin(), trips.end());
  }
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].level == fraud_level::warning);
}

TEST_CASE("TF-10 a call reported twice is counted once") {
  fraud_meter meter;
  meter.configure({rule("r", fraud_scope::every_user, "", "", fraud_measure::calls_per_hour, 0, 2)},
                  {});
  const auto t0 = instant(7, 9, 0);
  CHECK(start(meter, call("n1/a", "alice", "1"), t0).empty());
  CHECK(start(meter, call("n1/a", "alice", "1"), t0 + seconds(1)).empty());
  CHECK(start(meter, call("n1/b", "alice", "1"), t0 + seconds(2)).size() == 1);
}

TEST_CASE("TF-10 calls per hour count each user of a template separately") {
  fraud_meter meter;
  meter.configure({rule("sales", fraud_scope::rights_template, "sales", "",
                        fraud_measure::calls_per_hour, 0, 3)},
                  {});
  const auto t0 = instant(7, 9, 0);
  for (int i = 0; i < 2; ++i) {
    CHECK(start(meter, call("a" + std::to_string(i), "alice", "1", "c", "sales"), t0).empty());
    CHECK(start(meter, call("b" + std::to_string(i), "bob", "1", "c", "sales"), t0).empty());
  }
  // Not of the template: never counted.
  for (int i = 0; i < 4; ++i)
    CHECK(start(meter, call("c" + std::to_string(i), "carol", "1", "c"), t0).empty());
  auto trips = start(meter, call("b2", "bob", "1", "c", "sales"), t0 + minutes(59));
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].user == "bob");
  // Alice's first two calls are an hour old: her third is her first of this hour's.
  CHECK(start(meter, call("a2", "alice", "1", "c", "sales"), t0 + minutes(61)).empty());
  CHECK(meter.counters() == 2);
}

TEST_CASE("TF-10 concurrent calls through a trunk disable it; ended calls lower the count") {
  fraud_meter meter;
  meter.configure({rule("trunk-cap", fraud_scope::trunk, "carrier", "",
                        fraud_measure::concurrent_calls, 0, 3, fraud_action::disable_trunk)},
                  {});
  const auto t0 = instant(7, 9, 0);
  CHECK(start(meter, call("1", "alice", "1"), t0).empty());
  CHECK(start(meter, call("2", "bob", "1"), t0).empty());
  CHECK(start(meter, call("x", "bob", "1", "other"), t0).empty());
  CHECK(meter.call_ended("2", t0 + seconds(5), local_of(t0)).empty());
  CHECK(start(meter, call("3", "carol", "1"), t0 + seconds(6)).empty());
  auto trips = start(meter, call("4", "dave", "1"), t0 + seconds(7));
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].action == fraud_action::disable_trunk);
  CHECK(trips[0].trunk == "carrier");
  CHECK(trips[0].user == "dave");
  CHECK(meter.calls_up() == 4);
}

TEST_CASE("TF-10 a node whose line went down has its calls ended, not kept up for a day") {
  fraud_meter meter;
  meter.configure({rule("cap", fraud_scope::every_user, "", "", fraud_measure::concurrent_calls, 0,
                        4)},
                  {});
  const auto t0 = instant(7, 9, 0);
  CHECK(start(meter, call("exp1/a", "alice", "1"), t0).empty());
  CHECK(start(meter, call("exp1/b", "alice", "1"), t0).empty());
  CHECK(start(meter, call("exp10/c", "alice", "1"), t0).empty());
  CHECK(meter.end_calls_of("exp1", t0 + seconds(5), local_of(t0)).empty());
  CHECK(meter.calls_up() == 1);
  // exp1's two calls no longer count: the fourth call up is the one after next.
  CHECK(start(meter, call("exp2/d", "alice", "1"), t0 + seconds(6)).empty());
  CHECK(start(meter, call("exp2/e", "alice", "1"), t0 + seconds(7)).empty());
  CHECK(start(meter, call("exp2/f", "alice", "1"), t0 + seconds(8)).size() == 1);
}

TEST_CASE("TF-10 sequential calls to one prefix: a call elsewhere ends the run") {
  fraud_meter meter;
  meter.configure(
      {rule("seq", fraud_scope::every_user, "", "1900", fraud_measure::sequential_calls, 0, 3)},
      {});
  const auto t0 = instant(7, 9, 0);
  CHECK(start(meter, call("1", "alice", "19005550001"), t0).empty());
  CHECK(start(meter, call("2", "alice", "19005550002"), t0 + seconds(10)).empty());
  CHECK(start(meter, call("3", "alice", "2125550100"), t0 + seconds(20)).empty());
  CHECK(start(meter, call("4", "alice", "19005550003"), t0 + seconds(30)).empty());
  CHECK(start(meter, call("5", "alice", "19005550004"), t0 + seconds(40)).empty());
  auto trips = start(meter, call("6", "alice", "19005550005"), t0 + seconds(50));
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].value == 3);
  // An hour's pause ends a run too.
  CHECK(start(meter, call("7", "alice", "19005550006"), t0 + hours(2)).empty());
}

TEST_CASE("TF-10 call duration trips while the call is up, on the tick") {
  fraud_meter meter;
  meter.configure(
      {rule("long", fraud_scope::every_user, "", "", fraud_measure::call_seconds, 600, 3600)}, {});
  const auto t0 = instant(7, 9, 0);
  CHECK(start(meter, call("short", "alice", "1"), t0).empty());
  CHECK(start(meter, call("long", "bob", "1"), t0).empty());
  CHECK(meter.call_ended("short", t0 + seconds(30), local_of(t0)).empty());
  CHECK(meter.tick(t0 + seconds(599), local_of(t0)).empty());
  auto trips = meter.tick(t0 + seconds(600), local_of(t0));
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].user == "bob");
  CHECK(trips[0].level == fraud_level::warning);
  CHECK(meter.tick(t0 + seconds(700), local_of(t0)).empty());
  trips = meter.tick(t0 + seconds(3600), local_of(t0));
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].level == fraud_level::critical);
}

TEST_CASE("TF-10 daily minutes add ended and running calls, and start again at midnight") {
  fraud_meter meter;
  meter.configure(
      {rule("day", fraud_scope::user, "alice", "", fraud_measure::daily_minutes, 0, 60)}, {});
  const auto t0 = instant(7, 22, 0);
  CHECK(start(meter, call("1", "alice", "1"), t0).empty());
  CHECK(meter.call_ended("1", t0 + minutes(40), local_of(t0 + minutes(40))).empty());
  CHECK(start(meter, call("2", "alice", "1"), t0 + minutes(50)).empty());
  CHECK(meter.tick(t0 + minutes(69), local_of(t0 + minutes(69))).empty());
  auto trips = meter.tick(t0 + minutes(70), local_of(t0 + minutes(70)));
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].value == 60);
  CHECK(meter.call_ended("2", t0 + minutes(71), local_of(t0 + minutes(71))).empty());
  // The next day counts from zero: its own hour is needed to reach the level again.
  const auto next = instant(8, 9, 0);
  CHECK(start(meter, call("3", "alice", "1"), next).empty());
  CHECK(meter.tick(next + minutes(30), local_of(next + minutes(30))).empty());
  CHECK(meter.tick(next + minutes(59), local_of(next + minutes(59))).empty());
  trips = meter.tick(next + minutes(60), local_of(next + minutes(60)));
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].value == 60);
  CHECK(trips[0].user == "alice");
}

TEST_CASE("TF-10 a rule with a time profile counts only calls in its hours") {
  time_profile nights;
  nights.name = "nights";
  nights.weekly.push_back({*parse_days("weekdays"), *parse_day_span("18:00-08:00")});
  auto night_rule =
      rule("night", fraud_scope::every_user, "", "", fraud_measure::calls_per_hour, 0, 2);
  night_rule.time_profile = "nights";
  fraud_meter meter;
  meter.configure({night_rule}, {nights});
  const auto day = instant(7, 10, 0);
  for (int i = 0; i < 5; ++i)
    CHECK(start(meter, call("d" + std::to_string(i), "alice", "1"), day + seconds(i)).empty());
  const auto night = instant(7, 23, 0);
  CHECK(start(meter, call("n1", "alice", "1"), night).empty());
  CHECK(start(meter, call("n2", "alice", "1"), night + seconds(1)).size() == 1);
  // A profile that is gone counts nothing.
  auto orphan = night_rule;
  orphan.name = "orphan";
  orphan.time_profile = "gone";
  meter.configure({orphan}, {nights});
  for (int i = 0; i < 5; ++i)
    CHECK(start(meter, call("o" + std::to_string(i), "alice", "1"), night + seconds(i)).empty());
}

TEST_CASE("TF-10 reconfiguring keeps the counters of unchanged rules only") {
  auto kept = rule("kept", fraud_scope::every_user, "", "", fraud_measure::calls_per_hour, 0, 3);
  auto changed =
      rule("changed", fraud_scope::every_user, "", "", fraud_measure::calls_per_hour, 0, 3);
  fraud_meter meter;
  meter.configure({kept, changed}, {});
  const auto t0 = instant(7, 9, 0);
  CHECK(start(meter, call("1", "alice", "1"), t0).empty());
  CHECK(start(meter, call("2", "alice", "1"), t0).empty());
  changed.critical.limit = 4;
  meter.configure({kept, changed}, {});
  auto trips = start(meter, call("3", "alice", "1"), t0);
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].rule == "kept");
  CHECK(meter.rules() == 2);
}

TEST_CASE("TF-10 rules are checked: names, subjects, prefixes, levels") {
  auto good = rule("ok", fraud_scope::user, "alice", "011", fraud_measure::calls_per_minute, 2, 4);
  CHECK(check_fraud_rule(good));
  auto bad = good;
  bad.name = "Bad Name";
  CHECK(check_fraud_rule(bad).error().code == fraud_rule_errc::bad_name);
  bad = good;
  bad.subject.clear();
  CHECK(check_fraud_rule(bad).error().code == fraud_rule_errc::bad_subject);
  bad = good;
  bad.scope = fraud_scope::every_user;
  CHECK(check_fraud_rule(bad).error().code == fraud_rule_errc::bad_subject);
  bad = good;
  bad.prefix = "01a";
  CHECK(check_fraud_rule(bad).error().detail.starts_with("prefix:"));
  bad = good;
  bad.warning.limit = 4;
  CHECK(check_fraud_rule(bad).error().detail.starts_with("warning:"));
  bad = good;
  bad.warning.limit = bad.critical.limit = 0;
  CHECK(check_fraud_rule(bad).error().code == fraud_rule_errc::bad_levels);
  bad = good;
  bad.measure = fraud_measure::sequential_calls;
  bad.prefix.clear();
  CHECK(check_fraud_rule(bad).error().code == fraud_rule_errc::bad_prefix);
  bad = good;
  bad.measure = fraud_measure::call_seconds;
  bad.critical.limit = 100'000;
  CHECK(check_fraud_rule(bad).error().detail.starts_with("critical:"));
}

TEST_CASE("TF-10 the dial plan refuses rules whose subject or time profile does not exist") {
  dial_plan_config plan;
  const std::map<std::string, std::string> users{{"alice", "201"}};
  auto edit = set_fraud_rule(
      plan, rule("r1", fraud_scope::user, "alice", "011", fraud_measure::calls_per_minute, 0, 3));
  REQUIRE(edit);
  CHECK(edit->object == "dial_plan/fraud_rule/r1");
  CHECK(edit->after == "user alice prefix 011 calls_per_minute critical 3 bar_user");
  CHECK(compile_dial_plan(plan, {}, users, {}));
  auto orphan = plan;
  REQUIRE(set_fraud_rule(orphan, rule("r2", fraud_scope::trunk, "nowhere", "",
                                      fraud_measure::concurrent_calls, 0, 3)));
  auto refused = compile_dial_plan(orphan, {}, users, {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().detail == "fraud rule r2: subject: no trunk nowhere");
  orphan = plan;
  orphan.fraud_rules[0].time_profile = "nights";
  CHECK(compile_dial_plan(orphan, {}, users, {}).error().detail ==
        "fraud rule r1: time_profile: no time profile nights");
  // What is stored reads back the same.
  auto decoded = decode_dial_plan(encode_dial_plan(plan, true));
  REQUIRE(decoded);
  CHECK(*decoded == plan);
  CHECK(remove_fraud_rule(plan, "r1"));
  CHECK(plan.fraud_rules.empty());
  CHECK(remove_fraud_rule(plan, "r1").error().code == errc::not_found);
}
