#include "cluster/line_protocol.hpp"

#include <doctest/doctest.h>

#include <cstring>

using namespace ward;
using namespace ward::cluster;

namespace {

random_source fixed_random(std::uint8_t value) {
  return [value](std::span<std::byte> out) { std::memset(out.data(), value, out.size()); };
}

} // namespace

TEST_CASE("LINE-1 line security levels parse exactly and map to certificate checks") {
  CHECK(parse_line_security("low") == line_security::low);
  CHECK(parse_line_security("medium") == line_security::medium);
  CHECK(parse_line_security("high") == line_security::high);
  CHECK_FALSE(parse_line_security("High").has_value());
  CHECK_FALSE(parse_line_security("none").has_value());
  CHECK(requires_client_certificate(line_security::high));
  CHECK_FALSE(requires_client_certificate(line_security::medium));
  CHECK_FALSE(requires_client_certificate(line_security::low));
}

TEST_CASE("LINE-1 the line password proof is bound to the TLS session and to its side") {
  auto proof =
      line_proof("correct horse battery", line_side::client, "aabbcc", "exp-1", "expansion");
  CHECK(proof.size() == 64);
  CHECK(proofs_match(proof, line_proof("correct horse battery", line_side::client, "aabbcc",
                                       "exp-1", "expansion")));
  // Another session (exporter), side, node, role or password gives another proof.
  CHECK_FALSE(proofs_match(proof, line_proof("correct horse battery", line_side::client, "aabbcd",
                                             "exp-1", "expansion")));
  CHECK_FALSE(proofs_match(proof, line_proof("correct horse battery", line_side::server, "aabbcc",
                                             "exp-1", "expansion")));
  CHECK_FALSE(proofs_match(proof, line_proof("correct horse battery", line_side::client, "aabbcc",
                                             "exp-2", "expansion")));
  CHECK_FALSE(proofs_match(proof, line_proof("correct horse battery", line_side::client, "aabbcc",
                                             "exp-1", "appserver")));
  CHECK_FALSE(proofs_match(
      proof, line_proof("wrong horse battery", line_side::client, "aabbcc", "exp-1", "expansion")));
  // Field boundaries are unambiguous: moving a character between fields changes the proof.
  CHECK_FALSE(proofs_match(line_proof("pw", line_side::client, "ab", "c", "d"),
                           line_proof("pw", line_side::client, "a", "bc", "d")));
  CHECK_FALSE(proofs_match("", ""));
  CHECK_FALSE(proofs_match(proof, proof.substr(1)));
}

TEST_CASE("LINE-4 reconnect delays grow exponentially with jitter up to the ceiling") {
  using std::chrono::milliseconds;
  auto low = fixed_random(0);
  auto high = fixed_random(0xff);
  // Jitter stays in the upper half of the current step.
  CHECK(reconnect_delay(0, low) == milliseconds(100));
  CHECK(reconnect_delay(0, high) <= milliseconds(200));
  CHECK(reconnect_delay(0, high) >= milliseconds(100));
  CHECK(reconnect_delay(1, low) == milliseconds(200));
  CHECK(reconnect_delay(3, low) == milliseconds(800));
  for (unsigned attempt = 0; attempt < 40; ++attempt) {
    CHECK(reconnect_delay(attempt, high) <= milliseconds(5000));
    CHECK(reconnect_delay(attempt, low) >= milliseconds(100));
  }
  CHECK(reconnect_delay(30, low) == milliseconds(2500));
}

TEST_CASE("LINE-3 a replicated record is applied only when newer than the one held") {
  CHECK(decide_replication(4, 5) == replication_decision::apply);
  CHECK(decide_replication(0, 1) == replication_decision::apply);
  CHECK(decide_replication(5, 5) == replication_decision::already_held);
  CHECK(decide_replication(7, 5) == replication_decision::stale);
}

TEST_CASE("TOP-1 node names on lines are short lowercase names") {
  CHECK(valid_node_name("exp-1"));
  CHECK(valid_node_name("primary"));
  CHECK_FALSE(valid_node_name(""));
  CHECK_FALSE(valid_node_name("Exp"));
  CHECK_FALSE(valid_node_name("a/b"));
  CHECK_FALSE(valid_node_name(std::string(64, 'a')));
}

TEST_CASE("LINE-2 which frames a line carries depends on its direction and admission") {
  using body = line::Frame::BodyCase;
  const auto dialled = line_direction::dialled;
  const auto answered = line_direction::answered;
  const auto full = line_admission::full;
  const auto enrolment = line_admission::enrolment_only;
  struct row {
    body kind;
    bool dialled_full, answered_full, dialled_enrolment, answered_enrolment;
  };
  // From the serving end: taken on a line this node dialled.
  // To the serving end: taken on a line another node dialled in.
  const row table[] = {
      {body::kHeartbeat, true, true, true, true},
      {body::kSettings, true, false, false, false},
      {body::kEnrolReply, true, false, true, false},
      {body::kEventsAck, true, false, false, false},
      {body::kReferredLoginReply, true, false, false, false},
      {body::kProxyCall, true, false, false, false},
      {body::kEnrolRequest, false, true, false, true},
      {body::kEvents, false, true, false, false},
      {body::kReferredLogin, false, true, false, false},
      {body::kSettingsAck, false, true, false, false},
      {body::kProxyResult, false, true, false, false},
      {body::kGuardEvent, true, true, false, false},
      {body::kSipSignal, true, true, false, false},
      {body::kSipLocations, true, true, false, false},
      {body::kHello, false, false, false, false},
      {body::kWelcome, false, false, false, false},
      {body::BODY_NOT_SET, false, false, false, false},
  };
  for (const auto& r : table) {
    CAPTURE(static_cast<int>(r.kind));
    CHECK(frame_allowed(r.kind, dialled, full) == r.dialled_full);
    CHECK(frame_allowed(r.kind, answered, full) == r.answered_full);
    CHECK(frame_allowed(r.kind, dialled, enrolment) == r.dialled_enrolment);
    CHECK(frame_allowed(r.kind, answered, enrolment) == r.answered_enrolment);
  }
}
