#include "telephony/sip_guard.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace ward;
using namespace ward::telephony;
using namespace std::chrono_literals;

namespace {

guard_policy quiet_policy() {
  guard_policy policy;
  policy.failure_threshold = 3;
  policy.extension_failure_threshold = 5;
  policy.failure_window = 60s;
  policy.first_block = 300s;
  policy.blocks_before_permanent = 3;
  policy.messages_per_second = 0;
  return policy;
}

sip_guard make(guard_policy policy) {
  auto guard = sip_guard::create(std::move(policy));
  REQUIRE(guard.has_value());
  return std::move(*guard);
}

std::vector<guard_event_kind> kinds(const std::vector<guard_event>& events) {
  std::vector<guard_event_kind> out;
  for (const auto& e : events)
    out.push_back(e.kind);
  return out;
}

bool has(const std::vector<guard_event>& events, guard_event_kind kind) {
  return std::any_of(events.begin(), events.end(),
                     [&](const guard_event& e) { return e.kind == kind; });
}

} // namespace

TEST_CASE("SIP-4 failures below the threshold pass and the window forgets them") {
  auto guard = make(quiet_policy());
  auto now = test::fixed_now();
  CHECK(guard.admit("192.0.2.1", now) == guard_verdict::pass);
  guard.record_auth_failure("192.0.2.1", "", now);
  guard.record_auth_failure("192.0.2.1", "", now + 10s);
  CHECK(guard.admit("192.0.2.1", now + 10s) == guard_verdict::pass);
  // The window started at the first failure; 60 s later counting restarts.
  guard.record_auth_failure("192.0.2.1", "", now + 61s);
  guard.record_auth_failure("192.0.2.1", "", now + 62s);
  CHECK(guard.admit("192.0.2.1", now + 62s) == guard_verdict::pass);
  auto events = guard.drain_events();
  CHECK(kinds(events) == std::vector<guard_event_kind>(4, guard_event_kind::auth_failure_counted));
  CHECK(events[0].address == "192.0.2.1");
  CHECK(events[0].detail == "address 1/3");
  CHECK(guard.drain_events().empty());
}

TEST_CASE("SIP-4 an address is blacklisted temporarily then longer then permanently") {
  auto guard = make(quiet_policy());
  auto now = test::fixed_now();
  auto fail3 = [&](sip_guard::time_point at) {
    for (int i = 0; i < 3; ++i)
      guard.record_auth_failure("198.51.100.7", "", at);
  };
  fail3(now);
  auto events = guard.drain_events();
  REQUIRE(has(events, guard_event_kind::address_blacklisted_temporary));
  auto block = events.back();
  CHECK(block.kind == guard_event_kind::address_blacklisted_temporary);
  CHECK(block.until == now + 300s);
  CHECK(block.blocks == 1);
  CHECK(guard.admit("198.51.100.7", now + 1s) == guard_verdict::blacklisted);
  CHECK(guard.is_address_blacklisted("198.51.100.7", now + 299s));
  CHECK(guard.admit("198.51.100.8", now + 1s) == guard_verdict::pass);
  // Knocking while blocked neither counts nor escalates.
  fail3(now + 10s);
  CHECK_FALSE(has(guard.drain_events(), guard_event_kind::address_blacklisted_temporary));
  CHECK(guard.admit("198.51.100.7", now + 300s) == guard_verdict::pass);

  auto listed = guard.blacklisted_addresses(now + 1s);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0] == sip_guard::blacklist_entry{"198.51.100.7", false, now + 300s, 1});
  CHECK(guard.blacklisted_addresses(now + 300s).empty());

  // Second block doubles.
  fail3(now + 400s);
  events = guard.drain_events();
  CHECK(events.back().until == now + 400s + 600s);
  CHECK(events.back().blocks == 2);
  CHECK(guard.admit("198.51.100.7", now + 999s) == guard_verdict::blacklisted);
  CHECK(guard.admit("198.51.100.7", now + 1000s) == guard_verdict::pass);

  // Third block is permanent.
  fail3(now + 2000s);
  events = guard.drain_events();
  CHECK(events.back().kind == guard_event_kind::address_blacklisted_permanent);
  CHECK(events.back().blocks == 3);
  CHECK(guard.admit("198.51.100.7", now + 3650 * 24h) == guard_verdict::blacklisted);
  listed = guard.blacklisted_addresses(now + 3650 * 24h);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].permanent);

  // Reset clears it and is an event; resetting again finds nothing.
  CHECK(guard.reset_address("198.51.100.7"));
  CHECK(guard.drain_events().back().kind == guard_event_kind::blacklist_reset);
  CHECK(guard.admit("198.51.100.7", now + 3650 * 24h) == guard_verdict::pass);
  CHECK_FALSE(guard.reset_address("198.51.100.7"));
  CHECK_FALSE(guard.reset_address("not an address"));
}

TEST_CASE("SIP-4 blocks_before_permanent zero keeps every block temporary") {
  auto policy = quiet_policy();
  policy.blocks_before_permanent = 0;
  auto guard = make(policy);
  auto now = test::fixed_now();
  for (int round = 0; round < 6; ++round) {
    auto at = now + std::chrono::hours(round * 24 * 30);
    for (int i = 0; i < 3; ++i)
      guard.record_auth_failure("192.0.2.9", "", at);
  }
  auto events = guard.drain_events();
  CHECK_FALSE(has(events, guard_event_kind::address_blacklisted_permanent));
  CHECK(events.back().until == now + std::chrono::hours(5 * 24 * 30) + 300s * 32);
}

TEST_CASE("SIP-4 an extension is blacklisted across addresses and reset") {
  auto guard = make(quiet_policy());
  auto now = test::fixed_now();
  // Five failures from five addresses: no address reaches 3, the extension reaches 5.
  for (int i = 0; i < 5; ++i)
    guard.record_auth_failure("203.0.113." + std::to_string(i + 1), "201", now);
  auto events = guard.drain_events();
  CHECK(events.back().kind == guard_event_kind::extension_blacklisted_temporary);
  CHECK(events.back().extension == "201");
  CHECK(events.back().address.empty());
  CHECK(guard.is_extension_blacklisted("201", now + 1s));
  CHECK_FALSE(guard.is_extension_blacklisted("202", now + 1s));
  CHECK_FALSE(guard.is_extension_blacklisted("201", now + 300s));
  CHECK(guard.blacklisted_addresses(now).empty());
  auto listed = guard.blacklisted_extensions(now);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].key == "201");

  // Escalation to permanent for the extension too.
  for (int round = 1; round < 3; ++round)
    for (int i = 0; i < 5; ++i)
      guard.record_auth_failure("", "201", now + std::chrono::hours(round));
  events = guard.drain_events();
  CHECK(events.back().kind == guard_event_kind::extension_blacklisted_permanent);
  CHECK(guard.is_extension_blacklisted("201", now + 1000h));
  CHECK(guard.reset_extension("201"));
  CHECK_FALSE(guard.is_extension_blacklisted("201", now + 1000h));
  CHECK_FALSE(guard.reset_extension("201"));
  auto reset = guard.drain_events();
  REQUIRE(reset.size() == 1);
  CHECK(reset[0].kind == guard_event_kind::blacklist_reset);
  CHECK(reset[0].extension == "201");
}

TEST_CASE("SIP-4 a success clears the extension count but not the address count") {
  auto guard = make(quiet_policy());
  auto now = test::fixed_now();
  for (int i = 0; i < 4; ++i)
    guard.record_auth_failure("192.0.2.50", std::to_string(300 + i), now);
  for (int i = 0; i < 2; ++i)
    guard.record_auth_failure("192.0.2.51", "201", now);
  for (int i = 0; i < 2; ++i)
    guard.record_auth_failure("192.0.2.52", "201", now);
  // Four of five: the success resets the extension, so one more failure does not block it.
  guard.record_auth_success("192.0.2.52", "201");
  guard.record_auth_failure("192.0.2.53", "201", now);
  CHECK_FALSE(guard.is_extension_blacklisted("201", now));
  // 192.0.2.50 reached 3 failures with its 4 guesses.
  CHECK(guard.is_address_blacklisted("192.0.2.50", now));
  // The success from 192.0.2.52 did not clear its own count: its third failure blocks it.
  CHECK_FALSE(guard.is_address_blacklisted("192.0.2.52", now));
  guard.record_auth_failure("192.0.2.52", "201", now);
  CHECK(guard.is_address_blacklisted("192.0.2.52", now));
}

TEST_CASE("SIP-4 the SBC switch disables address blacklisting only") {
  auto policy = quiet_policy();
  policy.address_blacklisting = false;
  auto guard = make(policy);
  auto now = test::fixed_now();
  for (int i = 0; i < 10; ++i)
    guard.record_auth_failure("10.0.0.1", "", now);
  for (int i = 0; i < 5; ++i)
    guard.record_auth_failure("10.0.0.1", "201", now);
  CHECK(guard.admit("10.0.0.1", now) == guard_verdict::pass);
  CHECK_FALSE(guard.is_address_blacklisted("10.0.0.1", now));
  CHECK(guard.blacklisted_addresses(now).empty());
  CHECK(guard.is_extension_blacklisted("201", now));
  auto events = guard.drain_events();
  CHECK_FALSE(has(events, guard_event_kind::address_blacklisted_temporary));
  CHECK(has(events, guard_event_kind::extension_blacklisted_temporary));
  // Replicated address blocks are ignored behind an SBC as well.
  guard.apply_remote({guard_event_kind::address_blacklisted_permanent, "10.0.0.1", {}, {}, {}, 3},
                     now);
  CHECK(guard.admit("10.0.0.1", now) == guard_verdict::pass);
}

TEST_CASE("SIP-4 per source rate limiting is a token bucket") {
  auto policy = quiet_policy();
  policy.messages_per_second = 10;
  policy.burst = 20;
  auto guard = make(policy);
  auto now = test::fixed_now();
  for (int i = 0; i < 20; ++i)
    CHECK(guard.admit("192.0.2.1", now) == guard_verdict::pass);
  CHECK(guard.admit("192.0.2.1", now) == guard_verdict::reject_503_rate);
  CHECK(guard.admit("192.0.2.1", now) == guard_verdict::reject_503_rate);
  // Other sources are unaffected.
  CHECK(guard.admit("192.0.2.2", now) == guard_verdict::pass);
  // One event per limiting episode.
  auto events = guard.drain_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == guard_event_kind::rate_limited);
  CHECK(events[0].address == "192.0.2.1");
  // 100 ms refills one token.
  CHECK(guard.admit("192.0.2.1", now + 100ms) == guard_verdict::pass);
  CHECK(guard.admit("192.0.2.1", now + 100ms) == guard_verdict::reject_503_rate);
  CHECK(guard.drain_events().size() == 1);
  // After 10 s the bucket is full again but capped at the burst.
  int passed = 0;
  for (int i = 0; i < 40; ++i)
    passed += guard.admit("192.0.2.1", now + 10s) == guard_verdict::pass;
  CHECK(passed == 20);
}

TEST_CASE("SIP-4 the allow list admits only its CIDR blocks") {
  auto policy = quiet_policy();
  policy.allow_list = {"10.0.0.0/8", "192.0.2.128/25", "2001:db8::/32", "198.51.100.7"};
  auto guard = make(policy);
  auto now = test::fixed_now();
  CHECK(guard.admit("10.1.2.3", now) == guard_verdict::pass);
  CHECK(guard.admit("11.0.0.1", now) == guard_verdict::drop_silently);
  CHECK(guard.admit("192.0.2.200", now) == guard_verdict::pass);
  CHECK(guard.admit("192.0.2.127", now) == guard_verdict::drop_silently);
  CHECK(guard.admit("2001:db8:ffff::1", now) == guard_verdict::pass);
  CHECK(guard.admit("2001:db9::1", now) == guard_verdict::drop_silently);
  CHECK(guard.admit("198.51.100.7", now) == guard_verdict::pass);
  CHECK(guard.admit("198.51.100.8", now) == guard_verdict::drop_silently);
  // IPv4-mapped IPv6 is the same address as the dotted quad.
  CHECK(guard.admit("::ffff:10.9.9.9", now) == guard_verdict::pass);
  CHECK(guard.admit("garbage", now) == guard_verdict::drop_silently);
  CHECK(guard.admit("", now) == guard_verdict::drop_silently);
  auto events = guard.drain_events();
  CHECK(events.size() == 4);
  CHECK(std::all_of(events.begin(), events.end(), [](const guard_event& e) {
    return e.kind == guard_event_kind::allow_list_refused;
  }));
  CHECK(events[0].address == "11.0.0.1");
}

TEST_CASE("SIP-4 bad allow list entries are refused at construction") {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/x", "2001:db8::/129",
                          "2001:db8::1/32", "host.example", "10.0.0.0/8/8", "", "fe80::1%eth0"}) {
    CAPTURE(bad);
    auto policy = quiet_policy();
    policy.allow_list = {bad};
    CHECK_FALSE(sip_guard::create(policy).has_value());
  }
  CHECK(parse_cidr("0.0.0.0/0").has_value());
  CHECK(parse_cidr("::/0").has_value());
  auto all4 = *parse_cidr("0.0.0.0/0");
  CHECK(cidr_contains(all4, *parse_ip("255.255.255.255")));
  CHECK_FALSE(cidr_contains(all4, *parse_ip("2001:db8::1")));
  CHECK(format_ip(*parse_ip("2001:0db8:0000::0001")) == "2001:db8::1");
  CHECK(format_ip(*parse_ip("::ffff:192.0.2.1")) == "192.0.2.1");

  auto policy = quiet_policy();
  policy.user_agent_block = {""};
  CHECK_FALSE(sip_guard::create(policy).has_value());
  policy = quiet_policy();
  policy.messages_per_second = 5;
  policy.burst = 0;
  CHECK_FALSE(sip_guard::create(policy).has_value());
}

TEST_CASE("SIP-4 user agent block and allow lists are case insensitive substrings") {
  auto policy = quiet_policy();
  policy.user_agent_block = {"friendly-scanner", "SIPVicious"};
  auto guard = make(policy);
  CHECK(guard.check_user_agent("friendly-scanner") == guard_verdict::reject_403);
  CHECK(guard.check_user_agent("sipvicious 0.3") == guard_verdict::reject_403);
  CHECK(guard.check_user_agent("Yealink SIP-T46S") == guard_verdict::pass);
  CHECK(guard.check_user_agent("") == guard_verdict::pass);
  CHECK(guard.drain_events().empty());

  policy.user_agent_allow = {"yealink", "Snom"};
  auto strict = make(policy);
  CHECK(strict.check_user_agent("Yealink SIP-T46S") == guard_verdict::pass);
  CHECK(strict.check_user_agent("snom D785") == guard_verdict::pass);
  CHECK(strict.check_user_agent("Grandstream") == guard_verdict::reject_403);
  CHECK(strict.check_user_agent("") == guard_verdict::reject_403);
  // Block wins over allow.
  CHECK(strict.check_user_agent("snom via sipvicious") == guard_verdict::reject_403);
  CHECK(strict.check_user_agent("192.0.2.1", "Grandstream") == guard_verdict::reject_403);
  auto events = strict.drain_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == guard_event_kind::user_agent_refused);
  CHECK(events[0].address == "192.0.2.1");
  CHECK(events[0].detail == "user agent: Grandstream");
}

TEST_CASE("SIP-4 malformed messages are counted and count toward blacklisting") {
  auto guard = make(quiet_policy());
  auto now = test::fixed_now();
  guard.record_malformed("192.0.2.77", now);
  guard.record_malformed("192.0.2.77", now);
  CHECK(guard.admit("192.0.2.77", now) == guard_verdict::pass);
  guard.record_malformed("192.0.2.77", now);
  CHECK(guard.admit("192.0.2.77", now) == guard_verdict::blacklisted);
  auto events = guard.drain_events();
  CHECK(std::count_if(events.begin(), events.end(), [](const guard_event& e) {
          return e.kind == guard_event_kind::malformed_counted;
        }) == 3);
  CHECK(has(events, guard_event_kind::address_blacklisted_temporary));

  auto policy = quiet_policy();
  policy.malformed_counts_as_failure = false;
  auto lenient = make(policy);
  for (int i = 0; i < 10; ++i)
    lenient.record_malformed("192.0.2.77", now);
  CHECK(lenient.admit("192.0.2.77", now) == guard_verdict::pass);
  CHECK(lenient.drain_events().size() == 10);
}

TEST_CASE("SIP-4 blacklists replicate between nodes without echo") {
  auto node_a = make(quiet_policy());
  auto node_b = make(quiet_policy());
  auto now = test::fixed_now();
  for (int i = 0; i < 3; ++i)
    node_a.record_auth_failure("2001:db8::66", "", now);
  for (int i = 0; i < 5; ++i)
    node_a.record_auth_failure("", "205", now);
  for (const auto& event : node_a.drain_events())
    node_b.apply_remote(event, now);
  CHECK(node_b.drain_events().empty());
  CHECK(node_b.admit("2001:0db8::0066", now + 1s) == guard_verdict::blacklisted);
  CHECK(node_b.is_extension_blacklisted("205", now + 1s));
  CHECK(node_b.blacklisted_addresses(now) == node_a.blacklisted_addresses(now));
  CHECK(node_b.blacklisted_extensions(now) == node_a.blacklisted_extensions(now));

  CHECK(node_a.reset_address("2001:db8::66"));
  CHECK(node_a.reset_extension("205"));
  for (const auto& event : node_a.drain_events())
    node_b.apply_remote(event, now);
  CHECK(node_b.admit("2001:db8::66", now + 1s) == guard_verdict::pass);
  CHECK_FALSE(node_b.is_extension_blacklisted("205", now + 1s));

  // A replicated permanent block keeps the escalation count.
  node_b.apply_remote({guard_event_kind::address_blacklisted_permanent, "192.0.2.5", {}, {}, {}, 3},
                      now);
  auto listed = node_b.blacklisted_addresses(now + 10000h);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].permanent);
  CHECK(listed[0].blocks == 3);
  // Counting events from elsewhere change nothing.
  node_b.apply_remote({guard_event_kind::auth_failure_counted, "192.0.2.6", "201", {}, {}, 0}, now);
  CHECK(node_b.tracked_extensions() == 0);
}

TEST_CASE("SIP-4 memory stays bounded and blacklisted entries survive eviction") {
  auto policy = quiet_policy();
  policy.max_tracked_addresses = 100;
  policy.max_tracked_extensions = 50;
  policy.messages_per_second = 10;
  auto guard = make(policy);
  auto now = test::fixed_now();
  for (int i = 0; i < 3; ++i)
    guard.record_auth_failure("192.0.2.1", "", now);
  REQUIRE(guard.is_address_blacklisted("192.0.2.1", now));
  for (int i = 0; i < 10000; ++i) {
    auto address = "10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
                   std::to_string(i % 256);
    guard.admit(address, now + std::chrono::milliseconds(i));
    CHECK(guard.tracked_addresses() <= 100);
  }
  CHECK(guard.is_address_blacklisted("192.0.2.1", now + 10s));
  for (int i = 0; i < 1000; ++i)
    guard.record_auth_failure("", "9" + std::to_string(i), now);
  CHECK(guard.tracked_extensions() <= 50);

  // When every entry is blacklisted a newcomer goes untracked but is not refused.
  policy.max_tracked_addresses = 2;
  policy.messages_per_second = 1;
  policy.burst = 1;
  auto full = make(policy);
  for (const char* a : {"192.0.2.1", "192.0.2.2"})
    for (int i = 0; i < 3; ++i)
      full.record_auth_failure(a, "", now);
  CHECK(full.tracked_addresses() == 2);
  CHECK(full.admit("192.0.2.3", now) == guard_verdict::pass);
  CHECK(full.admit("192.0.2.3", now) == guard_verdict::pass);
  CHECK(full.tracked_addresses() == 2);
  CHECK(full.admit("192.0.2.1", now) == guard_verdict::blacklisted);
}

TEST_CASE("SIP-5 remote workers register only from their pinned address") {
  auto guard = make(quiet_policy());
  remote_worker_rule rule{"203.0.113.10"};
  CHECK(validate_remote_worker_rule(rule).has_value());
  CHECK_FALSE(validate_remote_worker_rule({"home.example"}).has_value());
  CHECK(validate_remote_worker_rule({""}).has_value());
  CHECK(remote_worker_source_allowed(rule, "203.0.113.10"));
  CHECK(remote_worker_source_allowed(rule, "::ffff:203.0.113.10"));
  CHECK_FALSE(remote_worker_source_allowed(rule, "203.0.113.11"));
  CHECK(remote_worker_source_allowed({}, "203.0.113.11"));
  CHECK(guard.check_remote_worker(rule, "203.0.113.10", "201") == guard_verdict::pass);
  CHECK(guard.check_remote_worker(rule, "203.0.113.11", "201") == guard_verdict::reject_403);
  auto events = guard.drain_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == guard_event_kind::remote_worker_refused);
  CHECK(events[0].extension == "201");
}

TEST_CASE("SIP-5 the RTP port range rule") {
  CHECK(check_rtp_range(10000, 20000, false).has_value());
  CHECK(check_rtp_range(40000, 60000, false).has_value());
  CHECK_FALSE(check_rtp_range(40000, 60000, true).has_value());
  CHECK(check_rtp_range(40000, 50750, true).has_value());
  CHECK_FALSE(check_rtp_range(40000, 50751, true).has_value());
  CHECK_FALSE(check_rtp_range(10001, 20000, false).has_value());
  CHECK_FALSE(check_rtp_range(20000, 20000, false).has_value());
  CHECK_FALSE(check_rtp_range(20000, 10000, false).has_value());
  CHECK_FALSE(check_rtp_range(500, 2000, false).has_value());
}

TEST_CASE("SIP-4 the pending event queue is bounded") {
  auto policy = quiet_policy();
  policy.max_pending_events = 5;
  policy.allow_list = {"10.0.0.0/8"};
  auto guard = make(policy);
  for (int i = 0; i < 20; ++i)
    guard.admit("192.0.2.1", test::fixed_now());
  CHECK(guard.drain_events().size() == 5);
  CHECK(guard.dropped_events() == 15);
  CHECK(to_string(guard_verdict::reject_503_rate) == "reject_503_rate");
  CHECK(to_string(guard_event_kind::blacklist_reset) == "blacklist_reset");
}
