#include "cluster/event_forwarding.hpp"

#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace ward::cluster;
using namespace std::chrono_literals;

namespace {

security::audit_record login(std::string actor, std::chrono::system_clock::time_point time) {
  security::audit_record record;
  record.sequence = 7;
  record.time = time;
  record.kind = security::audit_kind::login;
  record.outcome = security::audit_outcome::failure;
  record.actor = std::move(actor);
  record.source = "ipv4:10.0.0.9:4000";
  record.service = "security";
  record.action = "Login";
  record.object = "service_user/alice";
  record.reason = "wrong password";
  record.before = "{}";
  record.after = "{\"x\":1}";
  record.hash = std::string(64, 'a');
  return record;
}

} // namespace

TEST_CASE("MON-2 the next batch pages forward from the cursor, oldest first") {
  auto filter = next_batch(41);
  CHECK(filter.after_sequence == 41);
  CHECK(filter.limit == forward_batch);
  CHECK(filter.oldest_first);
}

TEST_CASE("MON-2 records travel on a line unchanged") {
  auto sent = login("alice", test::fixed_now());
  auto received = records_of(events_message({sent, sent}));
  REQUIRE(received.size() == 2);
  const auto& r = received.front();
  CHECK(r.sequence == sent.sequence);
  CHECK(r.time == sent.time);
  CHECK(r.kind == sent.kind);
  CHECK(r.outcome == sent.outcome);
  CHECK(r.actor == sent.actor);
  CHECK(r.source == sent.source);
  CHECK(r.service == sent.service);
  CHECK(r.action == sent.action);
  CHECK(r.object == sent.object);
  CHECK(r.reason == sent.reason);
  CHECK(r.before == sent.before);
  CHECK(r.after == sent.after);
  CHECK(r.hash == sent.hash);
}

TEST_CASE("MON-2 an unknown kind or outcome reads as a change that failed") {
  line::AuditEvents events;
  auto* event = events.add_events();
  event->set_kind("from-the-future");
  event->set_outcome("maybe");
  auto records = records_of(events);
  REQUIRE(records.size() == 1);
  CHECK(records.front().kind == security::audit_kind::change);
  CHECK(records.front().outcome == security::audit_outcome::failure);
}

TEST_CASE("POL-7 only a recent named Login forwarded from a node counts for lockout") {
  auto now = test::fixed_now();
  CHECK(counts_for_lockout(login("alice", now - 5min), now));
  CHECK_FALSE(counts_for_lockout(login("alice", now - 10min), now));
  CHECK_FALSE(counts_for_lockout(login("", now), now));
  auto logout = login("alice", now);
  logout.action = "Logout";
  CHECK_FALSE(counts_for_lockout(logout, now));
  auto change = login("alice", now);
  change.kind = security::audit_kind::change;
  CHECK_FALSE(counts_for_lockout(change, now));
}

TEST_CASE("MON-2 a persisted cursor reads as its number, absent as 0") {
  CHECK(parse_cursor(std::nullopt) == 0);
  CHECK(parse_cursor(std::string("12345")) == 12345);
  CHECK(parse_cursor(std::string("")) == 0);
}
