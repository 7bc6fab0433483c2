#include "node/start_record.hpp"
#include "storage/kv_store.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;

TEST_CASE("DEP-3 the store keeps what was written across close and reopen") {
  test::temp_dir dir;
  {
    auto store = storage::kv_store::open(dir.path() / "store");
    REQUIRE(store.has_value());
    REQUIRE((*store)->put("a", "1").has_value());
    REQUIRE((*store)->put("b", std::string("\0binary\xff", 8)).has_value());
    REQUIRE((*store)->put("c", "gone").has_value());
    REQUIRE((*store)->erase("c").has_value());
  }
  auto store = storage::kv_store::open(dir.path() / "store");
  REQUIRE(store.has_value());
  CHECK((*store)->get("a").value() == std::optional<std::string>("1"));
  CHECK((*store)->get("b").value()->size() == 8);
  CHECK_FALSE((*store)->get("c").value().has_value());
  CHECK_FALSE((*store)->get("never").value().has_value());
}

TEST_CASE("DEP-3 a store held by another opener is refused with open_failed") {
  test::temp_dir dir;
  auto first = storage::kv_store::open(dir.path());
  REQUIRE(first.has_value());
  auto second = storage::kv_store::open(dir.path());
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().code == storage::store_errc::open_failed);
}

TEST_CASE("DEP-3 start records count every start and keep the first start time") {
  test::temp_dir dir;
  auto first_start = test::fixed_now();
  for (std::uint64_t expected = 1; expected <= 3; ++expected) {
    auto store = storage::kv_store::open(dir.path());
    REQUIRE(store.has_value());
    auto record = node::record_start(**store, first_start + std::chrono::hours(expected));
    REQUIRE(record.has_value());
    CHECK(record->start_count == expected);
    CHECK(record->first_start == first_start + std::chrono::hours(1));
  }
}

TEST_CASE("SEC-1 a batch of records is written whole") {
  test::temp_dir dir;
  {
    auto store = storage::kv_store::open(dir.path());
    REQUIRE(store.has_value());
    REQUIRE((*store)->put_all({{"security/settings", "v2"}, {"security/pki", "p2"}}).has_value());
  }
  auto store = storage::kv_store::open(dir.path());
  CHECK((*store)->get("security/settings").value() == std::optional<std::string>("v2"));
  CHECK((*store)->get("security/pki").value() == std::optional<std::string>("p2"));
}
