#include "pki/certificate_check.hpp"
#include "pki/sip_domain.hpp"
#include "pki/trust_store.hpp"
#include "tests/unit/pki/test_certificates.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;

namespace {

struct sip_domain_fixture {
  test::test_pki ca{test::fixed_now()};
  pki::trust_store trust;

  sip_domain_fixture() { REQUIRE(trust.add(ca.root().cert).has_value()); }

  test::test_identity with_names(long serial, std::string alternative_names,
                                 std::string common_name = "pbx.example.test") const {
    auto spec = ca.leaf_spec(serial);
    spec.subject_alt_names = std::move(alternative_names);
    spec.common_name = std::move(common_name);
    return ca.issue(spec);
  }

  pki::check_failure check(const test::test_identity& leaf, const std::string& domain) const {
    pki::check_context context{.now = test::fixed_now(),
                               .purpose = pki::certificate_purpose::tls_server,
                               .trust = &trust,
                               .expected_name = domain,
                               .names = pki::name_rule::sip_domain};
    return pki::check_received_certificate({leaf.cert, ca.intermediate().cert},
                                           pki::check_level::medium_remote, context)
        .failure;
  }
};

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("PKI-8 RFC 5922 7.1: sip URI entries without a user part are the SIP domain identities") {
  sip_domain_fixture f;
  CHECK(pki::sip_domain_identities(
            f.with_names(200, "URI:sip:Carrier.Example.Test, DNS:www.example.test").cert) ==
        strings{"carrier.example.test"});
  // Port, parameters and headers are not part of the domain.
  CHECK(pki::sip_domain_identities(
            f.with_names(201, "URI:sip:example.test:5061;transport=tls").cert) ==
        strings{"example.test"});
  // A user part names a user, sips: is not an identity scheme: neither counts, so the DNS
  // entries are the identities.
  CHECK(pki::sip_domain_identities(f.with_names(202, "URI:sip:alice@example.test, "
                                                     "URI:sips:example.test, DNS:example.test")
                                       .cert) == strings{"example.test"});
  CHECK(pki::sip_domain_identities(
            f.with_names(203, "URI:https://example.test, DNS:Example.Test.").cert) ==
        strings{"example.test"});
  // The CN is read only when the certificate has no SAN at all.
  CHECK(pki::sip_domain_identities(f.with_names(204, "", "Carrier.Example.Test").cert) ==
        strings{"carrier.example.test"});
  CHECK(
      pki::sip_domain_identities(f.with_names(205, "IP:192.0.2.10", "example.test").cert).empty());
}

TEST_CASE(
    "PKI-8 RFC 5922 7.2: a SIP domain matches exactly, case-insensitively, never a wildcard") {
  sip_domain_fixture f;
  using enum pki::check_failure;
  auto uri = f.with_names(210, "URI:sip:example.test, DNS:sip.example.test");
  CHECK(f.check(uri, "example.test") == none);
  CHECK(f.check(uri, "EXAMPLE.test") == none);
  CHECK(f.check(uri, "example.test.") == none);
  // With a sip URI present the DNS entries are not identities.
  CHECK(f.check(uri, "sip.example.test") == name_mismatch);
  CHECK(f.check(uri, "other.test") == name_mismatch);
  CHECK(f.check(uri, "") == name_mismatch);

  auto dns = f.with_names(211, "DNS:sip.example.test");
  CHECK(f.check(dns, "sip.example.test") == none);
  CHECK(f.check(dns, "example.test") == name_mismatch);

  // RFC 6125 host matching would accept the wildcard; a SIP domain never does.
  auto wildcard = f.with_names(212, "DNS:*.example.test");
  CHECK(f.check(wildcard, "sip.example.test") == name_mismatch);
  auto wildcard_uri = f.with_names(213, "URI:sip:*.example.test");
  CHECK(f.check(wildcard_uri, "sip.example.test") == name_mismatch);

  auto user_only = f.with_names(214, "URI:sip:alice@example.test");
  CHECK(f.check(user_only, "example.test") == name_mismatch);
  auto detail = pki::sip_domain_mismatch(user_only.cert, "example.test");
  REQUIRE(detail.has_value());
  CHECK(detail->find("no SIP domain identity") != std::string::npos);
}
