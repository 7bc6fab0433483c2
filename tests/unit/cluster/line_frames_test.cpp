#include "cluster/line_frames.hpp"

#include "pki/certificate_builder.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace ward::cluster;
using namespace std::chrono_literals;

TEST_CASE("LINE-3 PKI-4 the settings frame carries the record, every pin and the cluster CA") {
  actors::settings_changed snapshot{7, "{\"s\":1}", {"0A", "0B"}, 1234, "{\"d\":2}"};
  auto frame = settings_frame(snapshot, {{"exp1", "PEM1"}, {"exp2", "PEM2"}}, "CA-PEM");
  REQUIRE(frame.has_settings());
  const auto& settings = frame.settings();
  CHECK(settings.version() == 7);
  CHECK(settings.settings() == "{\"s\":1}");
  REQUIRE(settings.revoked_serials_size() == 2);
  CHECK(settings.revoked_serials(1) == "0B");
  CHECK(settings.written_unix_us() == 1234);
  CHECK(settings.directory() == "{\"d\":2}");
  REQUIRE(settings.pins_size() == 2);
  CHECK(settings.pins(0).node() == "exp1");
  CHECK(settings.pins(1).certificate_pem() == "PEM2");
  CHECK(settings.cluster_ca_pem() == "CA-PEM");
}

TEST_CASE("MON-5 the heartbeat carries time, uptime, identity and versions") {
  auto key = *pki::private_key::generate_rsa(2048);
  auto identity =
      *pki::make_self_signed_identity(key, "exp1.test", test::fixed_now(), test::seeded_random(3));
  auto frame = heartbeat_frame({test::fixed_now(), 90s, *identity.to_pem(), 12, 5});
  REQUIRE(frame.has_heartbeat());
  const auto& beat = frame.heartbeat();
  CHECK(beat.sent_unix_ms() ==
        std::chrono::duration_cast<std::chrono::milliseconds>(test::fixed_now().time_since_epoch())
            .count());
  CHECK(beat.status().uptime_seconds() == 90);
  CHECK(beat.status().identity_subject() == "CN=exp1.test");
  CHECK(beat.status().identity_issuer() == "CN=exp1.test");
  CHECK(beat.status().identity_days_left() == 730);
  CHECK(beat.status().audit_sequence() == 12);
  CHECK(beat.status().settings_version() == 5);

  auto anonymous = heartbeat_frame({test::fixed_now(), 0s, "", 0, 0});
  CHECK(anonymous.heartbeat().status().identity_subject().empty());
}

TEST_CASE("SIP-4 a blacklisting travels to another node and reads back the same") {
  telephony::guard_event event;
  event.kind = telephony::guard_event_kind::address_blacklisted_temporary;
  event.address = "192.0.2.7";
  event.until = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  event.blocks = 2;
  auto frame = guard_event_frame(event, "exp1");
  CHECK(frame.guard_event().origin_node() == "exp1");
  auto back = guard_event_of(frame.guard_event(), "exp1");
  REQUIRE(back.has_value());
  CHECK(back->kind == event.kind);
  CHECK(back->address == event.address);
  CHECK(back->extension.empty());
  CHECK(back->until == event.until);
  CHECK(back->blocks == 2);
  CHECK(back->detail == "from node exp1");
}

TEST_CASE("SIP-4 only blacklistings and resets are taken from another node, within bounds") {
  line::GuardEvent remote;
  remote.set_kind(std::string(telephony::to_string(telephony::guard_event_kind::rate_limited)));
  CHECK_FALSE(guard_event_of(remote, "exp1").has_value());
  remote.set_kind("no-such-kind");
  CHECK_FALSE(guard_event_of(remote, "exp1").has_value());
  remote.set_kind(std::string(telephony::to_string(telephony::guard_event_kind::blacklist_reset)));
  CHECK(guard_event_of(remote, "exp1").has_value());
  remote.set_address(std::string(max_guard_field + 1, '1'));
  CHECK_FALSE(guard_event_of(remote, "exp1").has_value());
  remote.set_address("192.0.2.7");
  remote.set_extension(std::string(max_guard_field + 1, '2'));
  CHECK_FALSE(guard_event_of(remote, "exp1").has_value());
  remote.set_extension(std::string(max_guard_field, '2'));
  CHECK(guard_event_of(remote, "exp1").has_value());
}

TEST_CASE("PKI-5 an enrolment error reply carries only the error") {
  auto frame = enrol_error_frame("no CA here");
  REQUIRE(frame.has_enrol_reply());
  CHECK(frame.enrol_reply().error() == "no CA here");
  CHECK(frame.enrol_reply().certificate_pem().empty());
}
