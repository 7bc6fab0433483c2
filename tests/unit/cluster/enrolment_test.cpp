#include "cluster/enrolment.hpp"

#include "pki/certificate_authority.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/csr.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace ward::cluster;

namespace {

/// A cluster CA, one enrolled node (exp1) and a second key, made once: RSA keys are slow.
struct enrolled_cluster {
  pki::private_key exp1_key = *pki::private_key::generate_rsa(2048);
  pki::private_key other_key = *pki::private_key::generate_rsa(2048);
  pki::certificate_authority ca = *pki::certificate_authority::create_root(
      "ca.test", {}, test::fixed_now(), test::seeded_random(1));
  pki::certificate exp1 = *ca.issue_node_identity(exp1_key, "exp1.test", {}, test::fixed_now());
  std::string exp1_pem = *exp1.to_pem();
  std::string self_signed_pem =
      *pki::make_self_signed_identity(other_key, "exp1.test", test::fixed_now(),
                                      test::seeded_random(2))
           ->to_pem();
  pin_map pins{{"exp1", exp1_pem}};
  std::vector<std::string> revoked;

  static enrolled_cluster& get() {
    static enrolled_cluster cluster;
    return cluster;
  }

  std::string csr(const std::string& common_name) { return *pki::make_csr(other_key, common_name); }

  enrol_request_facts facts(const std::string& node, std::string csr_pem,
                            std::string presented = {}) {
    return {node,  std::move(csr_pem), std::move(presented), "primary.test",
            &pins, &revoked,           test::fixed_now()};
  }
};

} // namespace

TEST_CASE("PKI-5 the CA signs a request for a new node's own host name") {
  auto& c = enrolled_cluster::get();
  CHECK_FALSE(check_enrol_request(c.facts("exp2", c.csr("exp2.test"))).has_value());
}

TEST_CASE("PKI-5 an unreadable certificate request is refused with the parser's reason") {
  auto& c = enrolled_cluster::get();
  auto refusal = check_enrol_request(c.facts("exp2", "not a request"));
  REQUIRE(refusal.has_value());
  CHECK(refusal->code == enrol_errc::unreadable_request);
  CHECK(refusal->detail.starts_with("the certificate request cannot be read: "));
}

TEST_CASE("PKI-5 the CA never vouches for its own host name or another node's") {
  auto& c = enrolled_cluster::get();
  auto own = check_enrol_request(c.facts("exp2", c.csr("primary.test")));
  REQUIRE(own.has_value());
  CHECK(own->code == enrol_errc::own_host_name);
  CHECK(own->detail == "the request names this node's own host name primary.test");

  auto taken = check_enrol_request(c.facts("exp2", c.csr("exp1.test")));
  REQUIRE(taken.has_value());
  CHECK(taken->code == enrol_errc::name_taken);
  CHECK(taken->detail == "host name exp1.test belongs to another node");
}

TEST_CASE("PKI-5 an enrolled node renews only with its pinned identity, or once it is revoked") {
  auto& c = enrolled_cluster::get();
  auto stranger = check_enrol_request(c.facts("exp1", c.csr("exp1.test"), c.self_signed_pem));
  REQUIRE(stranger.has_value());
  CHECK(stranger->code == enrol_errc::already_enrolled);
  CHECK(stranger->detail ==
        "node exp1 is already enrolled; revoke its identity (pki revoke) to enrol it again");

  CHECK_FALSE(check_enrol_request(c.facts("exp1", c.csr("exp1.test"), c.exp1_pem)).has_value());

  c.revoked = {c.exp1.serial_hex()};
  CHECK_FALSE(check_enrol_request(c.facts("exp1", c.csr("exp1.test"))).has_value());
  c.revoked.clear();

  auto facts = c.facts("exp1", c.csr("exp1.test"));
  facts.now = test::fixed_now() + std::chrono::days(800);
  CHECK_FALSE(check_enrol_request(facts).has_value());
}

TEST_CASE("PKI-5 the CA enrols at most max_enrolled_nodes nodes") {
  auto& c = enrolled_cluster::get();
  pin_map many;
  for (std::size_t i = 0; i <= max_enrolled_nodes; ++i)
    many.emplace("node-" + std::to_string(i), "unreadable");
  auto facts = c.facts("exp2", c.csr("exp2.test"));
  facts.pins = &many;
  auto refusal = check_enrol_request(facts);
  REQUIRE(refusal.has_value());
  CHECK(refusal->code == enrol_errc::cluster_full);
  CHECK(to_string(refusal->code) == "cluster_full");
}

TEST_CASE("PKI-5 only the address a line comes from is vouched for") {
  CHECK(vouched_addresses("10.0.0.5:5555", {"10.0.0.6", "10.0.0.5"}) ==
        std::vector<std::string>{"10.0.0.5"});
  CHECK(vouched_addresses("[fd00::1]:5555", {"fd00::1", "fd00::2"}) ==
        std::vector<std::string>{"fd00::1"});
  CHECK(vouched_addresses("10.0.0.5:5555", {"10.0.0.6"}).empty());
}

TEST_CASE("PKI-5 pins: a node matches only its own pinned identity") {
  auto& c = enrolled_cluster::get();
  CHECK(pinned_as(c.pins, "exp1", c.exp1_pem));
  CHECK_FALSE(pinned_as(c.pins, "exp1", c.self_signed_pem));
  CHECK_FALSE(pinned_as(c.pins, "exp2", c.exp1_pem));
  CHECK_FALSE(pinned_as(c.pins, "exp1", "garbage"));
}

TEST_CASE("PKI-5 pins survive their stored form; invalid node names are dropped") {
  pin_map pins{{"exp1", "PEM1"}, {"Bad Name", "PEM2"}, {"exp2", "PEM3"}};
  auto decoded = decode_pins(encode_pins(pins));
  CHECK(decoded == pin_map{{"exp1", "PEM1"}, {"exp2", "PEM3"}});
  CHECK(decode_pins("[1,2]").empty());
  CHECK(decode_pins("not json").empty());
  CHECK(decode_pins(R"({"exp1": 5, "exp2": "PEM"})") == pin_map{{"exp2", "PEM"}});
}

TEST_CASE("PKI-5 a node enrols first with a self-signed identity and renews 30 days before "
          "expiry") {
  auto& c = enrolled_cluster::get();
  auto self_signed = *pki::certificate::from_pem(c.self_signed_pem);
  CHECK_FALSE(is_enrolled(c.self_signed_pem));
  CHECK(is_enrolled(c.exp1_pem));
  CHECK_FALSE(is_enrolled(""));
  CHECK(enrolment_needed(self_signed, test::fixed_now(), 30) == enrolment_need::first);
  CHECK(enrolment_needed(c.exp1, test::fixed_now(), 30) == enrolment_need::none);
  CHECK(enrolment_needed(c.exp1, test::fixed_now() + std::chrono::days(710), 30) ==
        enrolment_need::renewal);
}

TEST_CASE("PKI-4 an identity of a replaced CA is reissued, even a CA of the same name") {
  auto& c = enrolled_cluster::get();
  auto current = c.ca.signing_certificate();
  CHECK(enrolment_needed(c.exp1, test::fixed_now(), 30, &current) == enrolment_need::none);
  // Create New: a new key pair under the very same name.
  auto replacement = *pki::certificate_authority::create_root("ca.test", {}, test::fixed_now(),
                                                              test::seeded_random(3));
  auto next = replacement.signing_certificate();
  REQUIRE(next.subject() == current.subject());
  CHECK(enrolment_needed(c.exp1, test::fixed_now(), 30, &next) == enrolment_need::reissue);
  auto reissued = *replacement.issue_node_identity(c.exp1_key, "exp1.test", {}, test::fixed_now());
  CHECK(enrolment_needed(reissued, test::fixed_now(), 30, &next) == enrolment_need::none);
  // Both say the same issuer name; the key identifiers tell them apart.
  CHECK(reissued.issuer() == c.exp1.issuer());
  CHECK(reissued.issuer_key_id() != c.exp1.issuer_key_id());
  CHECK(reissued.issuer_label().find("[key ") != std::string::npos);
  CHECK(c.exp1.issued_by(current));
  CHECK_FALSE(c.exp1.issued_by(next));
  CHECK(next.same_key_as(replacement.signing_certificate()));
  CHECK_FALSE(next.same_key_as(current));
  // A self-signed identity enrols first, whatever the CA.
  auto self_signed = *pki::certificate::from_pem(c.self_signed_pem);
  CHECK(enrolment_needed(self_signed, test::fixed_now(), 30, &next) == enrolment_need::first);
}
