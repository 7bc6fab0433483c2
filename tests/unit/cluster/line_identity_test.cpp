#include "cluster/line_identity.hpp"

#include "pki/certificate_authority.hpp"
#include "pki/certificate_builder.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace ward::cluster;

namespace {

/// A cluster CA with two enrolled nodes, and an outsider CA issuing the primary's name.
struct two_node_cluster {
  pki::private_key primary_key = *pki::private_key::generate_rsa(2048);
  pki::private_key secondary_key = *pki::private_key::generate_rsa(2048);
  pki::certificate_authority ca = *pki::certificate_authority::create_root(
      "ca.test", {}, test::fixed_now(), test::seeded_random(1));
  pki::certificate_authority outsider = *pki::certificate_authority::create_root(
      "outsider.test", {}, test::fixed_now(), test::seeded_random(2));
  pki::certificate primary =
      *ca.issue_node_identity(primary_key, "primary.test", {"192.0.2.1"}, test::fixed_now());
  pki::certificate secondary =
      *ca.issue_node_identity(secondary_key, "secondary.test", {"192.0.2.2"}, test::fixed_now());
  /// The dialling node's own identity.
  pki::private_key expansion_key = *pki::private_key::generate_rsa(2048);
  pki::certificate expansion =
      *ca.issue_node_identity(expansion_key, "exp.test", {"192.0.2.3"}, test::fixed_now());
  pki::certificate forged_primary = *outsider.issue_node_identity(secondary_key, "primary.test",
                                                                  {"192.0.2.1"}, test::fixed_now());
  pki::certificate self_signed_primary = *pki::make_self_signed_identity(
      primary_key, "primary.test", test::fixed_now(), test::seeded_random(3));

  static two_node_cluster& get() {
    static two_node_cluster cluster;
    return cluster;
  }

  /// What the expansion's dialler knows when it dials the primary.
  line_server_expectation dialling_primary(line_security security, bool with_pins) const {
    line_server_expectation expected;
    expected.target = "primary";
    expected.dialled_host = "192.0.2.1";
    expected.security = security;
    expected.anchors_pem = {*ca.signing_certificate().to_pem()};
    if (with_pins)
      expected.pins = {{"primary", *primary.to_pem()},
                       {"secondary", *secondary.to_pem()},
                       {"exp", *expansion.to_pem()}};
    expected.own_certificate_pem = *expansion.to_pem();
    expected.now = test::fixed_now() + std::chrono::hours(1);
    return expected;
  }
};

constexpr line_security every_level[] = {line_security::low, line_security::medium,
                                         line_security::high};

} // namespace

TEST_CASE("LINE-1 the dialling node accepts the identity the cluster enrolled for the target") {
  auto& cluster = two_node_cluster::get();
  for (auto level : every_level)
    for (bool with_pins : {false, true}) {
      CAPTURE(to_string(level));
      CAPTURE(with_pins);
      auto graded =
          check_line_server({cluster.primary}, cluster.dialling_primary(level, with_pins));
      CHECK_MESSAGE(graded.ok(), graded.detail);
    }
}

TEST_CASE("LINE-1 another enrolled node answering for the target is refused at every level") {
  auto& cluster = two_node_cluster::get();
  for (auto level : every_level)
    for (bool with_pins : {false, true}) {
      CAPTURE(to_string(level));
      CAPTURE(with_pins);
      auto graded =
          check_line_server({cluster.secondary}, cluster.dialling_primary(level, with_pins));
      CHECK_FALSE(graded.ok());
      // With pins, High refuses it as not the pinned identity before the name is compared.
      if (level == line_security::high && with_pins)
        CHECK(graded.failure == pki::check_failure::not_pinned);
      else
        CHECK(graded.failure == pki::check_failure::name_mismatch);
    }
}

TEST_CASE("LINE-1 the target's name from a CA that is not the cluster's is refused") {
  auto& cluster = two_node_cluster::get();
  for (auto level : every_level) {
    CAPTURE(to_string(level));
    auto forged =
        check_line_server({cluster.forged_primary}, cluster.dialling_primary(level, true));
    CHECK(forged.failure == pki::check_failure::untrusted_chain);
    auto self_signed =
        check_line_server({cluster.self_signed_primary}, cluster.dialling_primary(level, true));
    CHECK(self_signed.failure == pki::check_failure::untrusted_chain);
  }
}

TEST_CASE("LINE-1 the expected name is the pinned identity's host name, else the dialled host") {
  auto& cluster = two_node_cluster::get();
  CHECK(expected_server_name(cluster.dialling_primary(line_security::medium, true)) ==
        "primary.test");
  CHECK(expected_server_name(cluster.dialling_primary(line_security::medium, false)) ==
        "192.0.2.1");
  auto elsewhere = cluster.dialling_primary(line_security::medium, false);
  elsewhere.dialled_host = "192.0.2.9";
  CHECK(check_line_server({cluster.primary}, elsewhere).failure ==
        pki::check_failure::name_mismatch);
}

TEST_CASE("LINE-1 a revoked identity of the target is refused") {
  auto& cluster = two_node_cluster::get();
  auto expected = cluster.dialling_primary(line_security::medium, true);
  expected.revoked_serials = {cluster.primary.serial_hex()};
  CHECK(check_line_server({cluster.primary}, expected).failure == pki::check_failure::revoked);
}

TEST_CASE("LINE-1 the dialling node's own identity presented back is refused") {
  auto& cluster = two_node_cluster::get();
  auto graded =
      check_line_server({cluster.expansion}, cluster.dialling_primary(line_security::high, true));
  CHECK_FALSE(graded.ok());
}
