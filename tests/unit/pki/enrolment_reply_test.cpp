#include "pki/certificate_authority.hpp"
#include "pki/enrolment_reply.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace std::chrono_literals;

namespace {

const pki::private_key& enrolling_key() {
  static auto key = *pki::private_key::generate_rsa(2048);
  return key;
}

const pki::private_key& other_key() {
  static auto key = *pki::private_key::generate_rsa(2048);
  return key;
}

pki::certificate_authority make_ca(const std::string& hostname, std::uint64_t seed) {
  return *pki::certificate_authority::create_root(hostname, pki::organisation{}, test::fixed_now(),
                                                  test::seeded_random(seed));
}

/// A reply as the primary sends it: the identity issued for `key`, the CA, the server's
/// identity.
struct reply_texts {
  std::string certificate_pem;
  std::string ca_pem;
  std::string server_identity_pem;

  pki::enrolment_reply view() const { return {certificate_pem, ca_pem, server_identity_pem}; }
};

reply_texts reply_from(pki::certificate_authority& ca, const pki::private_key& key) {
  auto issued = ca.issue_node_identity(key, "exp1.example.test", {}, test::fixed_now());
  REQUIRE(issued);
  auto server = ca.issue_node_identity(other_key(), "pbx1.example.test", {}, test::fixed_now());
  REQUIRE(server);
  return {*issued->to_pem(), *ca.signing_certificate().to_pem(), *server->to_pem()};
}

} // namespace

TEST_CASE("PKI-5 an enrolment reply for the node's key under its CA is accepted") {
  auto ca = make_ca("pbx1.example.test", 21);
  auto texts = reply_from(ca, enrolling_key());
  auto checked = pki::check_enrolment_reply(texts.view(), enrolling_key(), test::fixed_now());
  REQUIRE(checked);
  CHECK(checked->identity.matches(enrolling_key()));
  CHECK(checked->ca.subject() == ca.signing_certificate().subject());
  CHECK(checked->server_identity.subject().find("pbx1.example.test") != std::string::npos);
}

TEST_CASE("PKI-5 an enrolment reply with an unreadable certificate is refused") {
  auto ca = make_ca("pbx1.example.test", 22);
  auto texts = reply_from(ca, enrolling_key());
  for (auto* field : {&texts.certificate_pem, &texts.ca_pem, &texts.server_identity_pem}) {
    auto broken = texts;
    if (field == &texts.certificate_pem)
      broken.certificate_pem = "not a certificate";
    else if (field == &texts.ca_pem)
      broken.ca_pem.clear();
    else
      broken.server_identity_pem = broken.server_identity_pem.substr(0, 40);
    auto checked = pki::check_enrolment_reply(broken.view(), enrolling_key(), test::fixed_now());
    REQUIRE_FALSE(checked);
    CHECK(checked.error().code == pki::enrolment_reply_errc::unreadable_certificate);
    CHECK(checked.error().detail == "the enrolment reply holds an unreadable certificate");
  }
}

TEST_CASE("PKI-5 an enrolment reply issued for another key is refused") {
  auto ca = make_ca("pbx1.example.test", 23);
  auto texts = reply_from(ca, other_key());
  auto checked = pki::check_enrolment_reply(texts.view(), enrolling_key(), test::fixed_now());
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == pki::enrolment_reply_errc::wrong_key);
  CHECK(checked.error().detail == "the issued certificate is not for this node's key");
}

TEST_CASE("PKI-5 an enrolment reply whose identity another CA issued is refused") {
  auto ca = make_ca("pbx1.example.test", 24);
  auto stranger = make_ca("rogue.example.test", 25);
  auto texts = reply_from(stranger, enrolling_key());
  texts.ca_pem = *ca.signing_certificate().to_pem();
  auto checked = pki::check_enrolment_reply(texts.view(), enrolling_key(), test::fixed_now());
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == pki::enrolment_reply_errc::not_issued_by_ca);
  CHECK(
      checked.error().detail.starts_with("the issued certificate does not check against its CA: "));
}

TEST_CASE("PKI-5 an enrolment reply checked after the identity expired is refused") {
  auto ca = make_ca("pbx1.example.test", 26);
  auto texts = reply_from(ca, enrolling_key());
  auto checked =
      pki::check_enrolment_reply(texts.view(), enrolling_key(), test::fixed_now() + 24h * 800);
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == pki::enrolment_reply_errc::not_issued_by_ca);
}

TEST_CASE("PKI-5 enrolment refusal reasons have stable names") {
  CHECK(pki::to_string(pki::enrolment_reply_errc::unreadable_certificate) ==
        "unreadable_certificate");
  CHECK(pki::to_string(pki::enrolment_reply_errc::wrong_key) == "wrong_key");
  CHECK(pki::to_string(pki::enrolment_reply_errc::untrusted_ca) == "untrusted_ca");
  CHECK(pki::to_string(pki::enrolment_reply_errc::not_issued_by_ca) == "not_issued_by_ca");
}
