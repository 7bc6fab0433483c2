#include "core/clock.hpp"
#include "telephony/b2bua.hpp"
#include "telephony/registrar.hpp"
#include "telephony/sip_guard.hpp"
#include "telephony/sip_pipeline.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ward;
using namespace ward::telephony;
using namespace std::chrono_literals;

namespace {

/// A media anchor with ports for every call; the pipeline tests do not look at media.
class idle_anchor final : public media_anchor {
public:
  std::string address() const override { return "198.51.100.1"; }
  std::expected<ports, error> allocate() override {
    ++next_;
    return ports{next_, static_cast<std::uint16_t>(30000 + 4 * next_),
                 static_cast<std::uint16_t>(30002 + 4 * next_)};
  }
  void set_peer(std::uint64_t, bool, const std::string&, std::uint16_t) override {}
  void release(std::uint64_t) override {}
  void set_crypto(std::uint64_t, bool, const std::optional<leg_keys>&) override {}

private:
  std::uint64_t next_ = 0;
};

const sip_endpoint phone{transport::udp, "192.0.2.10", 5062, {}};
const sip_endpoint line_b{transport::line, {}, 0, "node-b"};

std::string request(std::string_view method, std::string_view to_user,
                    std::string_view extra_headers = {}, std::string_view branch = "z9hG4bK-p1") {
  return std::string(method) + " sip:" + std::string(to_user) + "@ward.test SIP/2.0\r\n" +
         "Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=" + std::string(branch) + "\r\n" +
         "From: <sip:201@ward.test>;tag=p1\r\nTo: <sip:" + std::string(to_user) +
         "@ward.test>\r\nCall-ID: p1@192.0.2.10\r\nCSeq: 7 " + std::string(method) +
         "\r\nContact: <sip:201@192.0.2.10:5062>\r\nMax-Forwards: 70\r\n" +
         std::string(extra_headers) + "Content-Length: 0\r\n\r\n";
}

guard_policy strict_guard() {
  guard_policy policy;
  policy.failure_threshold = 1;
  policy.extension_failure_threshold = 1;
  policy.messages_per_second = 0;
  return policy;
}

sip_guard make_guard(guard_policy policy = strict_guard()) {
  auto guard = sip_guard::create(std::move(policy));
  REQUIRE(guard.has_value());
  return std::move(*guard);
}

registrar make_registrar() {
  auto made = registrar::create(nonce_authority(std::array<std::byte, 32>{}, "ward.test", 300s));
  REQUIRE(made.has_value());
  return std::move(*made);
}

/// 201 and 202 exist; nothing is registered.
telephony_directory_data two_extensions() {
  telephony_directory_data data;
  for (auto number : {"201", "202"}) {
    extension_record extension;
    extension.number = number;
    data.extensions.emplace(number, extension);
  }
  return data;
}

struct fixture {
  manual_clock clock{test::fixed_now()};
  random_source random = test::seeded_random(5);
  idle_anchor media;
  registrar phones = make_registrar();
  sip_guard guard = make_guard();
  b2bua calls{b2bua_settings{.node = "node-a", .address = "198.51.100.1"}, media};
  location_table locations;
  sip_pipeline pipeline{"node-a", phones, guard, calls, locations, random};
  telephony_directory_data directory = two_extensions();
  std::vector<sip_send> sends;

  sip_outcome process(std::string_view data, const sip_endpoint& from = phone) {
    sends.clear();
    return pipeline.process(data, from, clock.now(), directory, sends);
  }
  int status_sent() {
    REQUIRE(sends.size() == 1);
    auto parsed = parse_sip_message(sends[0].text);
    REQUIRE(parsed.has_value());
    return parsed->status_code;
  }
};

} // namespace

TEST_CASE("pipeline refusals: silent ones have no status, answered ones the status they send") {
  CHECK(answer_of(sip_refusal::guarded).status == 0);
  CHECK(answer_of(sip_refusal::keep_alive).status == 0);
  CHECK(answer_of(sip_refusal::stun).status == 0);
  CHECK(answer_of(sip_refusal::not_sip).status == 0);
  CHECK(answer_of(sip_refusal::malformed).status == 0);
  CHECK(answer_of(sip_refusal::user_agent).status == 0);
  CHECK(answer_of(sip_refusal::extension_blacklisted).status == 403);
  CHECK(answer_of(sip_refusal::no_dialog).status == 481);
  CHECK(answer_of(sip_refusal::unknown_number).status == 404);
  CHECK(answer_of(sip_refusal::barred).status == 403);
  CHECK(answer_of(sip_refusal::no_emergency_route).status == 503);
  CHECK_FALSE(answer_of(sip_refusal::no_emergency_route).warning.empty());
  CHECK(answer_of(sip_refusal::unavailable).status == 480);
  CHECK(answer_of(sip_refusal::remote_worker_rules).status == 403);
  CHECK(to_string(sip_refusal::user_agent) == "user_agent");
}

TEST_CASE("SIP-4 pipeline guard stage: a source outside the allow list is refused, lines pass") {
  auto policy = strict_guard();
  policy.allow_list = {"10.0.0.0/8"};
  auto guard = make_guard(policy);
  auto now = test::fixed_now();
  CHECK(admit_source(guard, phone, now).error() == sip_refusal::guarded);
  CHECK(admit_source(guard, {transport::udp, "10.1.2.3", 5060, {}}, now).has_value());
  CHECK(admit_source(guard, line_b, now).has_value());
}

TEST_CASE("pipeline keep-alive stage: CRLF and STUN keep-alives stop, SIP goes on") {
  CHECK(skip_keep_alive("\r\n\r\n").error() == sip_refusal::keep_alive);
  CHECK(skip_keep_alive("").error() == sip_refusal::keep_alive);
  std::string stun(20, '\0');
  stun[1] = 0x01;
  stun.replace(4, 4, "\x21\x12\xa4\x42");
  CHECK(skip_keep_alive(stun).error() == sip_refusal::stun);
  stun[0] = 0x02; // not a STUN message type
  CHECK(skip_keep_alive(stun).has_value());
  CHECK(skip_keep_alive(request("OPTIONS", "ward")).has_value());
}

TEST_CASE("SIP-4 pipeline parse stage: what is not SIP counts toward the source's blacklisting") {
  auto now = test::fixed_now();
  SUBCASE("not a start line") {
    auto guard = make_guard();
    CHECK(parse_stage("GARBAGE GARBAGE", phone, guard, now).error() == sip_refusal::not_sip);
    CHECK(guard.is_address_blacklisted(phone.address, now));
  }
  SUBCASE("a start line without the mandatory headers") {
    auto guard = make_guard();
    CHECK(parse_stage("OPTIONS sip:ward.test SIP/2.0\r\n\r\n", phone, guard, now).error() ==
          sip_refusal::malformed);
    CHECK(guard.is_address_blacklisted(phone.address, now));
  }
  SUBCASE("from a line it is refused but counts against no address") {
    auto guard = make_guard();
    CHECK(parse_stage("GARBAGE GARBAGE", line_b, guard, now).error() == sip_refusal::not_sip);
    CHECK(guard.blacklisted_addresses(now).empty());
  }
  SUBCASE("a request parses") {
    auto guard = make_guard();
    auto parsed = parse_stage(request("OPTIONS", "ward"), phone, guard, now);
    REQUIRE(parsed.has_value());
    CHECK(parsed->method == "OPTIONS");
  }
}

TEST_CASE("SIP-4 pipeline User-Agent stage: a blocked agent is refused from phones, not lines") {
  auto now = test::fixed_now();
  auto guard = make_guard();
  sip_policy policy;
  policy.user_agent_block = {"friendly-scanner"};
  auto scanner = parse_sip_message(request("OPTIONS", "ward", "User-Agent: friendly-scanner\r\n"));
  REQUIRE(scanner.has_value());
  CHECK(screen_user_agent(policy, *scanner, line_b, guard, now).has_value());
  CHECK(screen_user_agent(policy, *scanner, phone, guard, now).error() == sip_refusal::user_agent);
  CHECK(guard.is_address_blacklisted(phone.address, now));
  auto phone_agent = parse_sip_message(request("OPTIONS", "ward", "User-Agent: Yealink\r\n"));
  REQUIRE(phone_agent.has_value());
  CHECK(screen_user_agent(policy, *phone_agent, phone, guard, now).has_value());
}

TEST_CASE("pipeline dialog stage: a BYE outside any call is not matched") {
  fixture f;
  auto bye = parse_sip_message(request("BYE", "202"));
  REQUIRE(bye.has_value());
  CHECK_FALSE(match_dialog(f.calls, *bye, phone, f.clock.now(), f.random, f.sends));
  CHECK(f.sends.empty());
}

TEST_CASE("SIP-4 pipeline extension stage: a blacklisted extension neither registers nor calls") {
  auto now = test::fixed_now();
  auto guard = make_guard();
  guard.record_auth_failure("192.0.2.99", "201", now);
  REQUIRE(guard.is_extension_blacklisted("201", now));
  auto invite = parse_sip_message(request("INVITE", "202"));
  auto register_201 = parse_sip_message(request("REGISTER", "201"));
  auto register_202 = parse_sip_message(request("REGISTER", "202"));
  auto options = parse_sip_message(request("OPTIONS", "201"));
  REQUIRE((invite && register_201 && register_202 && options));
  CHECK(screen_extension(*invite, phone, guard, now).error() == sip_refusal::extension_blacklisted);
  CHECK(screen_extension(*register_201, phone, guard, now).error() ==
        sip_refusal::extension_blacklisted);
  CHECK(screen_extension(*register_202, phone, guard, now).has_value());
  CHECK(screen_extension(*options, phone, guard, now).has_value());
  CHECK(screen_extension(*invite, line_b, guard, now).has_value());
}

TEST_CASE("SIP-6 location table: fresh announcements of other nodes locate an extension") {
  auto now = test::fixed_now();
  location_table table;
  table.replace("node-c", {"203", "204"}, now - 2min);
  table.replace("node-b", {"202", "203"}, now - 30s);
  table.replace("node-a", {"205"}, now);
  CHECK(table.find("202", "node-a", now) == "node-b");
  CHECK(table.find("203", "node-a", now) == "node-b");
  CHECK(table.find("204", "node-a", now).empty()); // lapsed
  CHECK(table.find("205", "node-a", now).empty()); // this node's own announcement
  auto phones = make_registrar();
  auto remote = locate(phones, table, "node-a", "202", false, now);
  CHECK(remote.extension == "202");
  CHECK_FALSE(remote.binding.has_value());
  CHECK(remote.node == "node-b");
  CHECK(locate(phones, table, "node-a", "202", true, now).node.empty());
}

TEST_CASE("MED-2 MED-3 media policy: direct media only between local phones when allowed") {
  auto directory = two_extensions();
  call_target local{"202", registration_binding{}, {}};
  call_target remote{"202", std::nullopt, "node-b"};
  CHECK_FALSE(media_policy_for(directory, phone, "201", local, false).direct_media);
  directory.policy.direct_media = true;
  CHECK(media_policy_for(directory, phone, "201", local, false).direct_media);
  CHECK_FALSE(media_policy_for(directory, phone, "201", remote, false).direct_media);
  CHECK_FALSE(media_policy_for(directory, line_b, "201", local, false).direct_media);
  CHECK(media_policy_for(directory, phone, "201", local, true).emergency);
  directory.extensions["202"].remote_worker_address = "203.0.113.5";
  CHECK_FALSE(media_policy_for(directory, phone, "201", local, false).direct_media);
}

TEST_CASE("pipeline: OPTIONS is answered once and its retransmission from the cache") {
  fixture f;
  auto outcome = f.process(request("OPTIONS", "ward"));
  CHECK_FALSE(outcome.refusal.has_value());
  CHECK(f.status_sent() == 200);
  CHECK(f.sends[0].to == phone);
  CHECK(f.sends[0].text.find("Allow: INVITE, ACK, BYE, CANCEL, REGISTER, OPTIONS") !=
        std::string::npos);
  auto first = f.sends[0].text;
  f.process(request("OPTIONS", "ward"));
  REQUIRE(f.sends.size() == 1);
  CHECK(f.sends[0].text == first);
  CHECK(f.pipeline.cached_responses() == 1);
  f.clock.advance(sip_pipeline::retransmission_window);
  f.pipeline.expire(f.clock.now());
  CHECK(f.pipeline.cached_responses() == 0);
}

TEST_CASE("pipeline: methods it does not implement get 501, BYE and CANCEL outside calls 481") {
  fixture f;
  f.process(request("SUBSCRIBE", "201"));
  CHECK(f.status_sent() == 501);
  CHECK(f.process(request("BYE", "202")).refusal == sip_refusal::no_dialog);
  CHECK(f.status_sent() == 481);
  CHECK(f.process(request("CANCEL", "202")).refusal == sip_refusal::no_dialog);
  CHECK(f.status_sent() == 481);
}

TEST_CASE("pipeline: an ACK outside any call and a stray response are absorbed") {
  fixture f;
  auto ack = f.process(request("ACK", "202"));
  CHECK_FALSE(ack.refusal.has_value());
  CHECK(f.sends.empty());
  auto response = f.process("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-x\r\n"
                            "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\n"
                            "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  CHECK_FALSE(response.refusal.has_value());
  CHECK(f.sends.empty());
}

TEST_CASE("SIP-2 pipeline: a REGISTER without credentials is challenged and changes nothing") {
  fixture f;
  auto outcome = f.process(request("REGISTER", "201"));
  CHECK_FALSE(outcome.refusal.has_value());
  CHECK_FALSE(outcome.bindings_changed);
  CHECK(f.status_sent() == 401);
}

TEST_CASE("SIP-5 pipeline: a remote worker registering from elsewhere gets 403 and a failure") {
  fixture f;
  f.directory.extensions["201"].remote_worker_address = "203.0.113.5";
  auto outcome = f.process(request("REGISTER", "201"));
  CHECK(outcome.refusal == sip_refusal::remote_worker_rules);
  CHECK(f.status_sent() == 403);
  CHECK(f.sends[0].text.find("remote worker rules") != std::string::npos);
  CHECK(f.guard.is_extension_blacklisted("201", f.clock.now()));
}

TEST_CASE("SIP-6 pipeline: an INVITE over a line is routed by the dial plan, locally only") {
  fixture f;
  SUBCASE("an unknown number") {
    CHECK(f.process(request("INVITE", "999"), line_b).refusal == sip_refusal::unknown_number);
    CHECK(f.status_sent() == 404);
  }
  SUBCASE("a known extension registered nowhere here") {
    f.locations.replace("node-c", {"202"}, f.clock.now());
    auto outcome = f.process(request("INVITE", "202"), line_b);
    CHECK(outcome.refusal == sip_refusal::unavailable);
    CHECK_FALSE(outcome.call_started);
    CHECK(f.status_sent() == 480);
  }
  SUBCASE("an INVITE with a To tag matching no dialog") {
    auto text = request("INVITE", "202");
    text.replace(text.find("To: <sip:202@ward.test>"), 23, "To: <sip:202@ward.test>;tag=x");
    CHECK(f.process(text, line_b).refusal == sip_refusal::no_dialog);
    CHECK(f.status_sent() == 481);
  }
}

TEST_CASE("TF-2 pipeline: an emergency call without a route is reported and refused with 503") {
  fixture f;
  auto outcome = f.process(request("INVITE", "112"), line_b);
  REQUIRE(outcome.emergency.has_value());
  CHECK(outcome.emergency->caller == "201");
  CHECK(outcome.emergency->dialled == "112");
  CHECK(outcome.emergency->route.empty());
  CHECK(outcome.refusal == sip_refusal::no_emergency_route);
  CHECK(f.status_sent() == 503);
  CHECK(f.sends[0].text.find("no emergency route is configured") != std::string::npos);
}

TEST_CASE("SIP-4 pipeline: guarded, keep-alive and malformed messages are refused unanswered") {
  fixture f;
  CHECK(f.process("\r\n\r\n").refusal == sip_refusal::keep_alive);
  CHECK(f.process("GARBAGE GARBAGE").refusal == sip_refusal::not_sip);
  CHECK(f.sends.empty());
  // The malformed message blacklisted the source (threshold 1): now the guard drops it.
  CHECK(f.process(request("OPTIONS", "ward")).refusal == sip_refusal::guarded);
  CHECK(f.sends.empty());
}

TEST_CASE("SIP-4 pipeline: a refused User-Agent gets no answer") {
  fixture f;
  f.directory.policy.user_agent_block = {"sipvicious"};
  auto outcome = f.process(request("OPTIONS", "ward", "User-Agent: sipvicious\r\n"));
  CHECK(outcome.refusal == sip_refusal::user_agent);
  CHECK(f.sends.empty());
}

namespace {

const sip_endpoint carrier{transport::udp, "192.0.2.50", 5060, {}};

std::string with_offer(std::string text) {
  const std::string body = "v=0\r\no=phone 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
                           "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
  const auto at = text.find("Content-Length: 0\r\n");
  text.replace(at, 19,
               "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\n");
  return text + body;
}

/// 201 calls without digest (force authorization off, no password); one UDP trunk
/// "carrier" behind 9N → 50:Main, which dials local and national numbers and bars 1900N.
telephony_directory_data trunked() {
  auto data = two_extensions();
  data.extensions["201"].force_authorization = false;
  telephony_user alice;
  alice.name = "alice";
  alice.extension = "201";
  data.users.emplace("alice", alice);
  auto& plan = data.dial_plan;
  trunk_config trunk;
  trunk.name = "carrier";
  trunk.address = carrier.address;
  trunk.port = carrier.port;
  trunk.kind = transport::udp;
  trunk.domain = "carrier.test";
  trunk.caller_id = "2125550100";
  trunk.channels = 1;
  plan.trunks.emplace("carrier", trunk);
  plan.ars_tables.front().codes = {{"1900N", short_code_feature::barred, "SMDR", {}},
                                   {"N;", short_code_feature::dial, "N", {}}};
  plan.ars_tables.front().trunks = {"carrier"};
  plan.system_short_codes = {{"9N", short_code_feature::dial, "N", "50:Main"}};
  plan.incoming_routes = {{"carrier", "21255501XX", "202"}};
  return data;
}

sip_message sent_message(const sip_send& send) {
  auto parsed = parse_sip_message(send.text);
  REQUIRE(parsed.has_value());
  return std::move(*parsed);
}

} // namespace

TEST_CASE("TF-9 pipeline: an outside number leaves through the trunk ARS chose") {
  fixture f;
  f.directory = trunked();
  auto outcome = f.process(with_offer(request("INVITE", "912125551234")));
  CHECK_FALSE(outcome.refusal.has_value());
  CHECK(outcome.call_started);
  REQUIRE(f.sends.size() == 2); // 100 Trying to the phone, the INVITE to the carrier
  CHECK(f.sends[1].to == carrier);
  const auto invite = sent_message(f.sends[1]);
  CHECK(invite.method == "INVITE");
  CHECK(invite.request_uri.user == "12125551234");
  CHECK(invite.request_uri.host == "carrier.test");
  CHECK(invite.from.uri.user == "2125550100");
  REQUIRE(f.calls.calls().size() == 1);
  CHECK(f.calls.calls()[0].trunk == "carrier");
  CHECK(f.calls.calls_on_trunk("carrier") == 1);

  // The trunk has one channel: a second outside call finds none free.
  auto second = with_offer(request("INVITE", "95551234", {}, "z9hG4bK-p2"));
  second.replace(second.find("Call-ID: p1@"), 12, "Call-ID: p2@");
  CHECK(f.process(second).refusal == sip_refusal::no_trunk_available);
  CHECK(f.status_sent() == 503);
}

TEST_CASE("TF-3 pipeline: a barred number gets 403 saying why, and is reported for the record") {
  fixture f;
  f.directory = trunked();
  auto outcome = f.process(with_offer(request("INVITE", "919005551234")));
  CHECK(outcome.refusal == sip_refusal::barred);
  REQUIRE(outcome.barred.has_value());
  CHECK(outcome.barred->caller == "201");
  CHECK(outcome.barred->dialled == "919005551234");
  CHECK(outcome.barred->reason == bar_reason::short_code);
  CHECK(outcome.barred->record);
  CHECK(f.status_sent() == 403);
  CHECK(f.sends[0].text.find("Warning: 399 ward \"barred: 50:Main short code 1900N\"") !=
        std::string::npos);
  CHECK(f.calls.calls().empty());
  // International is barred by the system's calling classes: reported too.
  auto by_class = f.process(with_offer(request("INVITE", "9011442079460000")));
  REQUIRE(by_class.barred.has_value());
  CHECK(by_class.barred->reason == bar_reason::calling_class);
}

TEST_CASE("TF-9 pipeline: a trunk's call rings the extension its incoming route names") {
  fixture f;
  f.directory = trunked();
  // 202 registers on this node (no password, authorization not forced).
  f.directory.extensions["202"].force_authorization = false;
  const sip_endpoint phone_202{transport::udp, "192.0.2.20", 5062, {}};
  f.process(
      "REGISTER sip:ward.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bK-r\r\n"
      "From: <sip:202@ward.test>;tag=r\r\nTo: <sip:202@ward.test>\r\nCall-ID: r@192.0.2.20\r\n"
      "CSeq: 1 REGISTER\r\nContact: <sip:202@192.0.2.20:5062>\r\nExpires: 600\r\n"
      "Content-Length: 0\r\n\r\n",
      phone_202);
  REQUIRE(f.status_sent() == 200);
  auto from_carrier = with_offer(request("INVITE", "2125550142"));
  auto outcome = f.process(from_carrier, carrier);
  CHECK_FALSE(outcome.refusal.has_value());
  REQUIRE(f.sends.size() == 2);
  CHECK(f.sends[1].to.address == "192.0.2.20");
  REQUIRE(f.calls.calls().size() == 1);
  CHECK(f.calls.calls()[0].trunk == "carrier");
  // The call holds the trunk's only channel: another is refused with 503.
  auto unknown = with_offer(request("INVITE", "2125559999", {}, "z9hG4bK-p3"));
  unknown.replace(unknown.find("Call-ID: p1@"), 12, "Call-ID: p3@");
  CHECK(f.process(unknown, carrier).refusal == sip_refusal::no_trunk_available);
  // A number no route knows: 404; a disabled trunk: 403, without a digest challenge.
  f.directory.dial_plan.trunks["carrier"].channels = 2;
  CHECK(f.process(unknown, carrier).refusal == sip_refusal::unknown_number);
  f.directory.dial_plan.trunks["carrier"].enabled = false;
  CHECK(f.process(unknown, carrier).refusal == sip_refusal::trunk_disabled);
  CHECK(f.status_sent() == 403);
}
