// SPEC TF-3, TF-8: call records with the SMDR fields, stored and exported as CSV.
#include "telephony/call_record.hpp"

#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward::telephony;
using namespace std::chrono_literals;

namespace {

call_view outgoing_call() {
  call_view call;
  call.id = 7;
  call.caller = "201";
  call.callee = "12125551234";
  call.caller_leg = "udp";
  call.callee_leg = "udp";
  call.trunk = "carrier";
  call.dialled = "912125551234";
  call.started = ward::test::fixed_now();
  call.answered = call.started + 4s;
  return call;
}

} // namespace

TEST_CASE("TF-8 a record has the SMDR fields: times, parties, direction, trunk") {
  const auto ended = outgoing_call().answered + 61s;
  const auto record = record_of(outgoing_call(), call_end::completed, {}, "node-a", ended);
  CHECK(record.ring == 4s);
  CHECK(record.duration == 61s);
  CHECK(record.direction == call_direction::outgoing);
  CHECK(record.party1 == "extension:201");
  CHECK(record.party2 == "trunk:carrier");
  CHECK(record.dialled == "912125551234");
  CHECK(record.end == "completed");

  auto incoming = outgoing_call();
  incoming.from_trunk = true;
  incoming.caller = "4155550199";
  incoming.callee = "202";
  incoming.answered = {};
  const auto missed =
      record_of(incoming, call_end::no_answer, {}, "node-a", incoming.started + 30s);
  CHECK(missed.direction == call_direction::incoming);
  CHECK(missed.party1 == "trunk:carrier");
  CHECK(missed.party2 == "extension:202");
  CHECK(missed.duration == 0s);
  CHECK(missed.ring == 30s);

  auto internal = outgoing_call();
  internal.trunk.clear();
  internal.callee = "203";
  internal.callee_leg = "line:node-b";
  const auto across = record_of(internal, call_end::completed, {}, "node-a", internal.answered);
  CHECK(across.direction == call_direction::internal);
  CHECK(across.party2 == "line:node-b");
}

TEST_CASE("TF-3 a barred call's record has zero duration and ring time and Barred as party 2") {
  const auto record =
      barred_record("201", "919005551234", "short_code", "node-a", ward::test::fixed_now());
  CHECK(record.barred);
  CHECK(record.duration == 0s);
  CHECK(record.ring == 0s);
  CHECK(record.party2 == "Barred");
  CHECK(decode_call_record(encode_call_record(record)) == record);
}

TEST_CASE("TF-8 records survive their encoding; damage is refused") {
  const auto record =
      record_of(outgoing_call(), call_end::busy, {}, "node-a", outgoing_call().answered + 1s);
  CHECK(decode_call_record(encode_call_record(record)) == record);
  auto damaged = encode_call_record(record);
  damaged.replace(damaged.find("outgoing"), 8, "sideways");
  CHECK(decode_call_record(damaged).error().code == errc::damaged_record);
  CHECK(decode_call_record("{").error().code == errc::damaged_record);
}

TEST_CASE("TF-8 CSV: RFC 4180 quoting, and no cell a spreadsheet would run as a formula") {
  auto record =
      record_of(outgoing_call(), call_end::completed, {}, "node-a", outgoing_call().answered + 61s);
  CHECK(to_csv(record).starts_with("2026-"));
  CHECK(to_csv(record).ends_with(",201,outgoing,12125551234,912125551234,0,extension:201,"
                                 "trunk:carrier,carrier,0,completed,node-a,7"));
  record.caller = "=HYPERLINK(\"x\")";
  record.dialled = "+442079460000";
  record.end = "a,b";
  const auto line = to_csv(record);
  CHECK(line.find(",\"'=HYPERLINK(\"\"x\"\")\",") != std::string::npos);
  CHECK(line.find(",'+442079460000,") != std::string::npos);
  CHECK(line.find(",\"a,b\",") != std::string::npos);
  CHECK(call_record_csv_header().starts_with("start,duration,ring,caller,direction"));
}
