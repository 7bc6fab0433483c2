#include "cluster/syslog_intake.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace ward;
using namespace std::chrono;

TEST_CASE("MON-2 TOP-2 an RFC 5424 message is read field by field") {
  auto parsed = cluster::parse_syslog(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\]lication\"] \xEF\xBB\xBF"
      "An application event\n");
  REQUIRE(parsed.has_value());
  CHECK(parsed->facility == 20);
  CHECK(parsed->severity == cluster::syslog_severity::notice);
  REQUIRE(parsed->sent.has_value());
  CHECK(*parsed->sent ==
        sys_days{year{2003} / 10 / 11} + hours{22} + minutes{14} + seconds{15} + milliseconds{3});
  CHECK(parsed->hostname == "mymachine.example.com");
  CHECK(parsed->app_name == "evntslog");
  CHECK(parsed->proc_id.empty());
  CHECK(parsed->msg_id == "ID47");
  CHECK(parsed->structured_data == "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\]lication\"]");
  CHECK(parsed->message == "An application event");
  CHECK(parsed->format == 5424);

  auto offset = cluster::parse_syslog("<34>1 2003-08-24T05:14:15.000003-07:00 host su 77 - - boom");
  REQUIRE(offset.has_value());
  CHECK(*offset->sent ==
        sys_days{year{2003} / 8 / 24} + hours{12} + minutes{14} + seconds{15} + microseconds{3});
  CHECK(offset->structured_data.empty());
  CHECK(offset->message == "boom");
  CHECK(offset->proc_id == "77");

  auto nil_time = cluster::parse_syslog("<13>1 - - - - - -");
  REQUIRE(nil_time.has_value());
  CHECK_FALSE(nil_time->sent.has_value());
  CHECK(nil_time->hostname.empty());
  CHECK(nil_time->message.empty());
}

TEST_CASE("MON-2 TOP-2 an RFC 3164 message keeps host, tag and text; its stamp is not trusted") {
  auto parsed = cluster::parse_syslog("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed");
  REQUIRE(parsed.has_value());
  CHECK(parsed->format == 3164);
  CHECK(parsed->facility == 4);
  CHECK(parsed->severity == cluster::syslog_severity::critical);
  CHECK_FALSE(parsed->sent.has_value());
  CHECK(parsed->hostname == "mymachine");
  CHECK(parsed->app_name == "su");
  CHECK(parsed->proc_id == "230");
  CHECK(parsed->message == "'su root' failed");

  auto bare = cluster::parse_syslog("<13>just some text from a small device");
  REQUIRE(bare.has_value());
  CHECK(bare->hostname.empty());
  CHECK(bare->message == "just some text from a small device");
}

TEST_CASE("MON-2 a message without a valid PRI or above the size limit is refused") {
  using enum cluster::syslog_intake_errc;
  for (std::string_view bad : {"", "hello", "<>1 - - - - - -", "<192>1 - - - - - -",
                               "<012>1 - - - - - -", "<1a>x", "<99999>x"})
    CHECK(cluster::parse_syslog(bad).error().code == bad_priority);
  CHECK(cluster::parse_syslog("<0>x").has_value());
  CHECK(cluster::parse_syslog("<191>x").has_value());
  std::string huge = "<13>" + std::string(cluster::max_received_syslog, 'a');
  CHECK(cluster::parse_syslog(huge).error().code == too_long);
}

TEST_CASE("MON-2 RFC 6587 framing: octet counting and line ends, split anywhere") {
  cluster::syslog_stream_framer framer;
  std::string stream = "11 <13>1 - - -\n<14>second line\n\n12 <15>third...";
  std::vector<std::string> messages;
  // Byte by byte: a frame split across reads is still one message.
  for (char c : stream) {
    framer.feed(std::string_view(&c, 1));
    while (true) {
      auto next = framer.next();
      REQUIRE(next.has_value());
      if (!*next)
        break;
      messages.push_back(**next);
    }
  }
  CHECK(messages == std::vector<std::string>{"<13>1 - - -", "<14>second line", "<15>third..."});

  cluster::syslog_stream_framer garbage;
  garbage.feed("GET / HTTP/1.1\r\n");
  CHECK(garbage.next().error().code == cluster::syslog_intake_errc::bad_framing);
  cluster::syslog_stream_framer oversized;
  oversized.feed("99999 <13>");
  CHECK(oversized.next().error().code == cluster::syslog_intake_errc::too_long);
  cluster::syslog_stream_framer endless;
  endless.feed("<13>" + std::string(cluster::max_received_syslog + 1, 'a'));
  CHECK(endless.next().error().code == cluster::syslog_intake_errc::too_long);
  cluster::syslog_stream_framer zero;
  zero.feed("0 x");
  CHECK(zero.next().error().code == cluster::syslog_intake_errc::bad_framing);
}

TEST_CASE("MON-2 TOP-2 a received message becomes an event record of its sender's address") {
  auto parsed = cluster::parse_syslog("<86>1 2026-12-07T10:00:00Z fw01 sshd 42 - - login refused");
  REQUIRE(parsed.has_value());
  auto received = sys_days{year{2026} / 12 / 7} + hours{10} + seconds{3};
  auto record = cluster::to_event_record(
      *parsed, {cluster::syslog_intake_transport::tls, "192.0.2.7", 40001}, 5, received);
  CHECK(record.sequence == 5);
  CHECK(record.kind == security::audit_kind::syslog);
  CHECK(record.time == sys_days{year{2026} / 12 / 7} + hours{10});
  CHECK(record.source == "ipv4:192.0.2.7:40001");
  CHECK(record.service == "syslog/tls");
  CHECK(record.action == "authpriv.info");
  CHECK(record.object == "fw01/sshd");
  CHECK(record.reason == "login refused");
  auto fields = nlohmann::json::parse(record.after);
  CHECK(fields["proc_id"] == "42");
  CHECK(fields["format"] == 5424);
  CHECK(security::decode_audit_record(*security::encode_audit_record(record)).has_value());
  CHECK(cluster::syslog_store_name("192.0.2.7") == "syslog:192.0.2.7");

  auto unstamped = cluster::parse_syslog("<13>hello");
  auto v6 = cluster::to_event_record(
      *unstamped, {cluster::syslog_intake_transport::udp, "2001:db8::7", 514}, 1, received);
  CHECK(v6.time == received);
  CHECK(v6.source == "ipv6:[2001:db8::7]:514");
  CHECK(v6.object == "2001:db8::7");
  CHECK(v6.action == "user.notice");
}
