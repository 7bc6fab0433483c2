#include "security/session_table.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace ward::security;
using namespace std::chrono_literals;

namespace {

security_database fresh_database() {
  auto defaults = security_database::factory_defaults(test_argon2_cost, test::fixed_now(),
                                                      test::seeded_random(1));
  REQUIRE(defaults.has_value());
  return security_database(*defaults, test_argon2_cost);
}

std::uint64_t credentials_of(const security_database& db, std::string_view name, time_point now) {
  return db.login_material_for(name, now).credential_version;
}

/// A table over a manual clock and seeded randomness, as the security actor owns one.
struct fixture {
  manual_clock time{test::fixed_now()};
  random_source random = test::seeded_random(7);
  security_database db = fresh_database();
  session_table sessions{time, random, 15min};

  std::string open_administrator() {
    return sessions.open("Administrator", credentials_of(db, "Administrator", time.now()));
  }
};

} // namespace

TEST_CASE("SEC-4 a session resolves to its user and rights until it expires") {
  fixture f;
  auto token = f.open_administrator();
  CHECK(token.size() == 64);
  CHECK(token.find_first_not_of("0123456789abcdef") == std::string::npos);
  auto principal = f.sessions.resolve(token, f.db);
  REQUIRE(principal);
  CHECK(principal->user == "Administrator");
  CHECK_FALSE(principal->rights.empty());

  f.time.advance(15min - 1s);
  CHECK(f.sessions.resolve(token, f.db));
  f.time.advance(1s);
  auto expired = f.sessions.resolve(token, f.db);
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code == security_errc::unauthenticated);
  CHECK(expired.error().message == "session expired: log in again");
  // An expired session is forgotten when found: asking again finds none.
  CHECK(f.sessions.size() == 0);
  CHECK(f.sessions.resolve(token, f.db).error().message == "no valid session: log in first");
}

TEST_CASE("SEC-4 unknown and empty tokens are refused") {
  fixture f;
  (void)f.open_administrator();
  for (const std::string& token : {std::string{}, std::string("00"), std::string(64, 'a')}) {
    auto refused = f.sessions.resolve(token, f.db);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == security_errc::unauthenticated);
    CHECK(refused.error().field == "session");
    CHECK(refused.error().message == "no valid session: log in first");
  }
  CHECK(f.sessions.size() == 1);
}

TEST_CASE("SEC-4 tokens come from the injected randomness") {
  manual_clock time{test::fixed_now()};
  random_source first_random = test::seeded_random(3);
  random_source second_random = test::seeded_random(3);
  session_table first{time, first_random, 15min};
  session_table second{time, second_random, 15min};
  auto a = first.open("Administrator", 1);
  CHECK(a == second.open("Administrator", 1));
  CHECK(first.open("Administrator", 1) != a);
}

TEST_CASE("SEC-4 a password change revokes the sessions opened before it") {
  fixture f;
  auto token = f.open_administrator();
  REQUIRE(
      f.db.change_own_password("Administrator", "Administrator", "Tr4ffic-Light", f.time.now()));
  auto revoked = f.sessions.resolve(token, f.db);
  REQUIRE_FALSE(revoked);
  CHECK(f.sessions.size() == 0);
  // A session opened at the new credentials is honoured.
  auto fresh = f.open_administrator();
  CHECK(f.sessions.resolve(fresh, f.db));
}

TEST_CASE("SEC-4 logging out ends exactly the session it names") {
  fixture f;
  auto first = f.open_administrator();
  auto second = f.open_administrator();
  auto ended = f.sessions.close(first);
  REQUIRE(ended);
  CHECK(ended->user == "Administrator");
  CHECK(ended->expires_at == test::fixed_now() + 15min);
  CHECK_FALSE(f.sessions.close(first));
  CHECK_FALSE(f.sessions.resolve(first, f.db));
  CHECK(f.sessions.resolve(second, f.db));
}

TEST_CASE("SEC-4 expired sessions are swept once the table reaches its threshold") {
  manual_clock time{test::fixed_now()};
  random_source random = test::seeded_random(5);
  session_table sessions{time, random, 15min, 4};
  for (int i = 0; i < 3; ++i)
    (void)sessions.open("Administrator", 1);
  time.advance(15min);
  // Below the threshold nothing is swept, expired or not.
  (void)sessions.open("Administrator", 1);
  CHECK(sessions.size() == 4);
  // At the threshold the three expired ones go; the live one stays.
  (void)sessions.open("Administrator", 1);
  CHECK(sessions.size() == 2);
}
