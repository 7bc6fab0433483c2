#include "pki/expiry.hpp"

#include "pki/certificate_authority.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace std::chrono_literals;

namespace {

const pki::certificate& node_identity() {
  static const auto key = *pki::private_key::generate_rsa(2048);
  static auto ca = *pki::certificate_authority::create_root("ca.test", {}, test::fixed_now(),
                                                            test::seeded_random(1));
  static const auto identity = *ca.issue_node_identity(key, "node.test", {}, test::fixed_now());
  return identity;
}

} // namespace

TEST_CASE("PKI-10 the expiry warning starts exactly 60 days before the end") {
  const auto& cert = node_identity();
  const auto end = cert.not_after();
  CHECK_FALSE(pki::expiry_warning_for(cert, "node identity", end - 61 * 24h).has_value());
  CHECK_FALSE(pki::expiry_warning_for(cert, "node identity", end - 60 * 24h - 1s).has_value());
  auto first = pki::expiry_warning_for(cert, "node identity", end - 60 * 24h);
  REQUIRE(first.has_value());
  CHECK(first->days_left == 60);
  CHECK(first->text == "node identity expires in 60 days");
  auto last_day = pki::expiry_warning_for(cert, "node identity", end - 1s);
  REQUIRE(last_day.has_value());
  CHECK(last_day->text == "node identity expires in 0 days");
}

TEST_CASE("PKI-10 an expired certificate keeps warning, counting the days since") {
  const auto& cert = node_identity();
  const auto end = cert.not_after();
  auto just = pki::expiry_warning_for(cert, "trusted certificate", end + 1s);
  REQUIRE(just.has_value());
  CHECK(just->days_left == -1);
  CHECK(just->text == "trusted certificate expired 0 days ago");
  CHECK(pki::expiry_warning_for(cert, "trusted certificate", end + 24h)->text ==
        "trusted certificate expired 1 day ago");
  auto later = pki::expiry_warning_for(cert, "trusted certificate", end + 10 * 24h);
  REQUIRE(later.has_value());
  CHECK(later->text == "trusted certificate expired 10 days ago");
}
