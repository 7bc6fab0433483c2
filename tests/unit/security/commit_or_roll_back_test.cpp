#include "security/commit_or_roll_back.hpp"

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

using ward::security::commit_or_roll_back;

namespace {

using failure = std::optional<std::string>;

/// A store that records what it was asked to write and fails when told to.
struct fake_store {
  std::optional<std::string> refuse_with;
  std::vector<std::string> written;

  failure put(const std::string& value) {
    if (refuse_with)
      return refuse_with;
    written.push_back(value);
    return std::nullopt;
  }
};

} // namespace

TEST_CASE("commit_or_roll_back keeps a change that was persisted") {
  std::string name = "old";
  std::map<std::string, int> counts{{"a", 1}};
  fake_store store;
  auto failed = commit_or_roll_back(
      std::tie(name, counts),
      [&]() -> failure {
        name = "new";
        counts["b"] = 2;
        return std::nullopt;
      },
      [&] { return store.put(name); });
  CHECK_FALSE(failed);
  CHECK(name == "new");
  CHECK(counts.size() == 2);
  CHECK(store.written == std::vector<std::string>{"new"});
}

TEST_CASE("commit_or_roll_back restores every value when persisting fails") {
  std::string name = "old";
  std::map<std::string, int> counts{{"a", 1}};
  fake_store store{"disk full", {}};
  auto failed = commit_or_roll_back(
      std::tie(name, counts),
      [&]() -> failure {
        name = "new";
        counts.clear();
        return std::nullopt;
      },
      [&] { return store.put(name); });
  REQUIRE(failed);
  CHECK(*failed == "disk full");
  CHECK(name == "old");
  CHECK(counts == std::map<std::string, int>{{"a", 1}});
}

TEST_CASE("commit_or_roll_back restores a half-made change and does not persist it") {
  std::vector<int> items{1, 2};
  fake_store store;
  auto failed = commit_or_roll_back(
      std::tie(items),
      [&]() -> failure {
        items.push_back(3);
        return "refused halfway";
      },
      [&] { return store.put("anything"); });
  REQUIRE(failed);
  CHECK(*failed == "refused halfway");
  CHECK(items == std::vector<int>{1, 2});
  CHECK(store.written.empty());
}

TEST_CASE("commit_or_roll_back leaves values outside the tied state alone") {
  int tied = 1;
  int untied = 1;
  auto failed = commit_or_roll_back(
      std::tie(tied),
      [&]() -> failure {
        tied = 2;
        untied = 2;
        return std::nullopt;
      },
      []() -> failure { return "no"; });
  CHECK(failed);
  CHECK(tied == 1);
  CHECK(untied == 2);
}
