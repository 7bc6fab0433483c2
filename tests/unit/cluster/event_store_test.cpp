#include "cluster/event_store.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;

namespace {

security::audit_record record(std::uint64_t sequence, std::string action) {
  security::audit_record r;
  r.sequence = sequence;
  r.time = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + sequence));
  r.kind = security::audit_kind::login;
  r.outcome = security::audit_outcome::failure;
  r.actor = "alice";
  r.source = "127.0.0.1:5000";
  r.action = std::move(action);
  r.object = "service_user/alice";
  r.reason = "bad credentials";
  r.hash = std::string(64, 'a');
  return r;
}

} // namespace

TEST_CASE("MON-2 forwarded events are stored per node and acknowledged without gaps") {
  test::temp_dir dir;
  std::shared_ptr<storage::kv_store> kv = std::move(*storage::kv_store::open(dir.path() / "kv"));
  cluster::event_store events(kv);
  CHECK(events.stored_up_to("exp-1") == 0);

  CHECK(events.store("exp-1", {record(1, "Login"), record(2, "Login")}).value() == 2);
  // A resend after a lost acknowledgement changes nothing.
  CHECK(events.store("exp-1", {record(1, "Login"), record(2, "Login")}).value() == 2);
  // A batch after a gap is not stored: the node sends again from where the gap starts.
  CHECK(events.store("exp-1", {record(4, "Login")}).value() == 2);
  CHECK(events.store("exp-1", {record(2, "Login"), record(3, "Logout"), record(4, "Login")})
            .value() == 4);
  // Nodes are kept apart.
  CHECK(events.store("exp-2", {record(1, "Login")}).value() == 1);
  CHECK(events.stored_up_to("exp-2") == 1);

  auto listed = events.list("exp-1", 0, 100).value();
  REQUIRE(listed.size() == 4);
  CHECK(listed[0].sequence == 1);
  CHECK(listed[2].action == "Logout");
  CHECK(listed[3].time == record(4, "").time);
  CHECK(listed[3].hash == std::string(64, 'a'));
  auto page = events.list("exp-1", 2, 1).value();
  REQUIRE(page.size() == 1);
  CHECK(page[0].sequence == 3);
  CHECK(events.list("exp-", 0, 100).value().empty());
}

TEST_CASE("MON-2 stored events survive a restart of the primary") {
  test::temp_dir dir;
  {
    std::shared_ptr<storage::kv_store> kv = std::move(*storage::kv_store::open(dir.path() / "kv"));
    cluster::event_store events(kv);
    REQUIRE(events.store("exp-1", {record(1, "Login")}).has_value());
  }
  std::shared_ptr<storage::kv_store> kv = std::move(*storage::kv_store::open(dir.path() / "kv"));
  cluster::event_store events(kv);
  CHECK(events.stored_up_to("exp-1") == 1);
  CHECK(events.list("exp-1", 0, 10).value().size() == 1);
}
