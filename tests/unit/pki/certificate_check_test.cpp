#include "pki/certificate_check.hpp"
#include "pki/trust_store.hpp"
#include "tests/unit/pki/test_certificates.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <cctype>

using namespace ward;

namespace {

constexpr pki::check_level all_levels[] = {
    pki::check_level::none, pki::check_level::low,           pki::check_level::medium,
    pki::check_level::high, pki::check_level::medium_remote, pki::check_level::high_remote,
};

/// A test PKI whose root and good leaf are in the TCS, the leaf sent with its intermediate.
struct fixture {
  test::test_pki ca{test::fixed_now()};
  test::test_identity good = ca.issue(ca.leaf_spec(100));
  pki::trust_store trust;

  fixture() {
    REQUIRE(trust.add(ca.root().cert).has_value());
    REQUIRE(trust.add(good.cert).has_value());
  }

  pki::check_context
  context(pki::certificate_purpose purpose = pki::certificate_purpose::tls_server) const {
    return {.now = test::fixed_now(),
            .purpose = purpose,
            .trust = &trust,
            .expected_name = "pbx.example.test"};
  }

  std::vector<pki::certificate> chain(const test::test_identity& leaf) const {
    return {leaf.cert, ca.intermediate().cert};
  }

  pki::check_result check(const test::test_identity& leaf, pki::check_level level) const {
    return pki::check_received_certificate(chain(leaf), level, context());
  }

  /// A leaf issued like `good` but with one property changed by `change`.
  template <class Change> test::test_identity leaf(long serial, Change change) const {
    auto spec = ca.leaf_spec(serial);
    change(spec);
    return ca.issue(spec);
  }
};

pki::check_failure failure_of(const pki::check_result& result) {
  return result.failure;
}

} // namespace

TEST_CASE("PKI-8 check level and failure names round trip") {
  for (auto level : all_levels)
    CHECK(pki::parse_check_level(pki::to_string(level)) == level);
  CHECK(pki::to_string(pki::check_level::medium_remote) == "medium_remote");
  CHECK(pki::to_string(pki::check_level::high_remote) == "high_remote");
  CHECK_FALSE(pki::parse_check_level("High").has_value());
  CHECK_FALSE(pki::parse_check_level("").has_value());
  CHECK(pki::to_string(pki::check_failure::untrusted_chain) == "untrusted_chain");
  CHECK(pki::to_string(pki::check_failure::wrong_extended_key_usage) == "wrong_extended_key_usage");
  CHECK(pki::to_string(pki::check_failure::revoked) == "revoked");
  CHECK(pki::check_result{}.ok());
}

TEST_CASE("PKI-8 the good certificate passes every level") {
  fixture f;
  for (auto level : all_levels) {
    CAPTURE(pki::to_string(level));
    auto result = f.check(f.good, level);
    CHECK(result.ok());
    CHECK(result.detail.empty());
  }
}

TEST_CASE("PKI-8 no certificate at all is refused as malformed at every level") {
  fixture f;
  for (auto level : all_levels)
    CHECK(failure_of(pki::check_received_certificate({}, level, f.context())) ==
          pki::check_failure::malformed);
  std::vector<pki::certificate> hollow{pki::certificate(nullptr)};
  CHECK(failure_of(pki::check_received_certificate(hollow, pki::check_level::none, f.context())) ==
        pki::check_failure::malformed);
}

TEST_CASE("PKI-8 level none refuses expired and not yet valid certificates only") {
  fixture f;
  auto expired = f.leaf(101, [](test::cert_spec& spec) {
    spec.not_before = test::fixed_now() - std::chrono::days(400);
    spec.not_after = test::fixed_now() - std::chrono::days(1);
  });
  auto future = f.leaf(102, [](test::cert_spec& spec) {
    spec.not_before = test::fixed_now() + std::chrono::days(1);
    spec.not_after = test::fixed_now() + std::chrono::days(400);
  });
  auto expired_result = f.check(expired, pki::check_level::none);
  CHECK(expired_result.failure == pki::check_failure::expired);
  CHECK(expired_result.detail.find("expired") != std::string::npos);
  CHECK(f.check(future, pki::check_level::none).failure == pki::check_failure::not_yet_valid);

  // Everything the higher levels look at is ignored: a weak, untrusted, self-signed
  // certificate without key usage passes as long as it is in date.
  test::cert_spec anything;
  anything.key = test::rsa_key(512);
  anything.not_before = test::fixed_now() - std::chrono::hours(1);
  anything.not_after = test::fixed_now() + std::chrono::hours(1);
  anything.key_usage.clear();
  anything.unknown_critical_extension = true;
  auto lax = test::make_certificate(anything);
  CHECK(pki::check_received_certificate({lax.cert}, pki::check_level::none, f.context()).ok());
}

TEST_CASE("PKI-8 level low refuses a public key below 1024 bits") {
  fixture f;
  auto tiny = f.leaf(103, [](test::cert_spec& spec) { spec.key = test::rsa_key(512); });
  auto legacy = f.leaf(104, [](test::cert_spec& spec) { spec.key = test::rsa_key(1024); });
  CHECK(f.check(tiny, pki::check_level::none).ok());
  auto result = f.check(tiny, pki::check_level::low);
  CHECK(result.failure == pki::check_failure::key_too_small);
  CHECK(result.detail.find("512") != std::string::npos);
  CHECK(f.check(legacy, pki::check_level::low).ok());

  // Low does not look at the chain.
  auto stranger = test::make_certificate(f.ca.leaf_spec(105));
  CHECK(pki::check_received_certificate({stranger.cert}, pki::check_level::low, f.context()).ok());
}

TEST_CASE("PKI-8 level medium refuses a certificate without a chain to the TCS") {
  fixture f;
  auto unpinned = f.ca.issue(f.ca.leaf_spec(106));
  CHECK(f.check(unpinned, pki::check_level::medium).ok());

  // A self-signed certificate the TCS does not hold.
  auto stranger_spec = f.ca.leaf_spec(107);
  stranger_spec.common_name = "stranger.example.test";
  stranger_spec.key = test::rsa_key(2048, 5);
  auto stranger = test::make_certificate(stranger_spec);
  CHECK(pki::check_received_certificate({stranger.cert}, pki::check_level::low, f.context()).ok());
  auto result =
      pki::check_received_certificate({stranger.cert}, pki::check_level::medium, f.context());
  CHECK(result.failure == pki::check_failure::untrusted_chain);
  CHECK_FALSE(result.detail.empty());

  // The intermediate is needed to reach the root and the peer did not send it.
  CHECK(pki::check_received_certificate({unpinned.cert}, pki::check_level::medium, f.context())
            .failure == pki::check_failure::untrusted_chain);

  // No store, or an empty one, anchors nothing.
  auto context = f.context();
  context.trust = nullptr;
  CHECK(pki::check_received_certificate(f.chain(unpinned), pki::check_level::medium, context)
            .failure == pki::check_failure::untrusted_chain);
  pki::trust_store empty;
  context.trust = &empty;
  CHECK(pki::check_received_certificate(f.chain(unpinned), pki::check_level::medium, context)
            .failure == pki::check_failure::untrusted_chain);
}

TEST_CASE("PKI-8 a peer's own root is used only as a link and never as an anchor") {
  fixture f;
  pki::trust_store unrelated;
  auto unrelated_spec = f.ca.leaf_spec(108);
  unrelated_spec.common_name = "unrelated.example.test";
  REQUIRE(unrelated.add(test::make_certificate(unrelated_spec).cert).has_value());
  auto context = f.context();
  context.trust = &unrelated;
  std::vector<pki::certificate> full_chain{f.good.cert, f.ca.intermediate().cert, f.ca.root().cert};
  CHECK(pki::check_received_certificate(full_chain, pki::check_level::medium, context).failure ==
        pki::check_failure::untrusted_chain);
}

TEST_CASE("PKI-8 level medium refuses a chain through an expired intermediate") {
  fixture f;
  test::cert_spec old_ca;
  old_ca.common_name = "Ward Test Old Intermediate";
  old_ca.subject_alt_names.clear();
  old_ca.key = test::rsa_key(2048, 4);
  old_ca.not_before = test::fixed_now() - std::chrono::days(800);
  old_ca.not_after = test::fixed_now() - std::chrono::days(10);
  old_ca.serial = 9;
  old_ca.is_ca = true;
  old_ca.key_usage = "critical, keyCertSign, cRLSign";
  old_ca.extended_key_usage.clear();
  auto old_intermediate = test::make_certificate(old_ca, &f.ca.root());
  auto leaf = test::make_certificate(f.ca.leaf_spec(109), &old_intermediate);
  std::vector<pki::certificate> chain{leaf.cert, old_intermediate.cert};
  CHECK(pki::check_received_certificate(chain, pki::check_level::low, f.context()).ok());
  auto result = pki::check_received_certificate(chain, pki::check_level::medium, f.context());
  CHECK(result.failure == pki::check_failure::untrusted_chain);
  CHECK(result.detail.find("expired") != std::string::npos);
  CHECK(result.detail.find("depth 1") != std::string::npos);
}

TEST_CASE("PKI-8 level medium refuses a certificate without key usage") {
  fixture f;
  auto bare = f.leaf(110, [](test::cert_spec& spec) { spec.key_usage.clear(); });
  CHECK(f.check(bare, pki::check_level::low).ok());
  CHECK(f.check(bare, pki::check_level::medium).failure == pki::check_failure::no_key_usage);
}

TEST_CASE("PKI-8 level medium refuses an extended key usage that does not match the purpose") {
  fixture f;
  auto signing =
      f.leaf(111, [](test::cert_spec& spec) { spec.extended_key_usage = "codeSigning"; });
  CHECK(f.check(signing, pki::check_level::low).ok());
  CHECK(f.check(signing, pki::check_level::medium).failure ==
        pki::check_failure::wrong_extended_key_usage);

  auto client_only =
      f.leaf(112, [](test::cert_spec& spec) { spec.extended_key_usage = "clientAuth"; });
  CHECK(f.check(client_only, pki::check_level::medium).failure ==
        pki::check_failure::wrong_extended_key_usage);
  CHECK(pki::check_received_certificate(f.chain(client_only), pki::check_level::medium,
                                        f.context(pki::certificate_purpose::tls_client))
            .ok());

  // Without the extension, or with anyExtendedKeyUsage, every purpose is allowed.
  auto no_eku = f.leaf(113, [](test::cert_spec& spec) { spec.extended_key_usage.clear(); });
  auto any_eku =
      f.leaf(114, [](test::cert_spec& spec) { spec.extended_key_usage = "anyExtendedKeyUsage"; });
  for (auto purpose :
       {pki::certificate_purpose::tls_server, pki::certificate_purpose::tls_client}) {
    CHECK(pki::check_received_certificate(f.chain(no_eku), pki::check_level::medium,
                                          f.context(purpose))
              .ok());
    CHECK(pki::check_received_certificate(f.chain(any_eku), pki::check_level::medium,
                                          f.context(purpose))
              .ok());
  }
}

TEST_CASE("PKI-8 level medium refuses an unknown extension marked critical") {
  fixture f;
  auto odd = f.leaf(115, [](test::cert_spec& spec) { spec.unknown_critical_extension = true; });
  CHECK(f.check(odd, pki::check_level::low).ok());
  auto result = f.check(odd, pki::check_level::medium);
  CHECK(result.failure == pki::check_failure::unknown_critical_extension);
  CHECK(result.detail.find("1.3.6.1.4.1.32473.1.1") != std::string::npos);
}

TEST_CASE("PKI-12 a revoked serial is refused at medium and above only") {
  fixture f;
  auto context = f.context();
  // Serial 100 is 0x64; the list may spell it zero-padded, lower case, with colons.
  context.revoked_serials = {"0A:BC", "00:64"};
  for (auto level : {pki::check_level::none, pki::check_level::low})
    CHECK(pki::check_received_certificate(f.chain(f.good), level, context).ok());
  for (auto level : {pki::check_level::medium, pki::check_level::high,
                     pki::check_level::medium_remote, pki::check_level::high_remote}) {
    auto result = pki::check_received_certificate(f.chain(f.good), level, context);
    CHECK(result.failure == pki::check_failure::revoked);
    CHECK(result.detail.find("64") != std::string::npos);
  }
  // A revoked intermediate takes down every certificate below it.
  context.revoked_serials = {"2"};
  auto result = pki::check_received_certificate(f.chain(f.good), pki::check_level::medium, context);
  CHECK(result.failure == pki::check_failure::revoked);
  CHECK(result.detail.find("Intermediate") != std::string::npos);
}

TEST_CASE("PKI-8 level high refuses a public key below 2048 bits") {
  fixture f;
  auto legacy = f.leaf(116, [](test::cert_spec& spec) { spec.key = test::rsa_key(1024); });
  REQUIRE(f.trust.add(legacy.cert).has_value());
  CHECK(f.check(legacy, pki::check_level::medium).ok());
  auto result = f.check(legacy, pki::check_level::high);
  CHECK(result.failure == pki::check_failure::key_too_small);
  CHECK(result.detail.find("2048") != std::string::npos);
}

TEST_CASE("PKI-8 level high refuses a self-signed certificate") {
  fixture f;
  auto spec = f.ca.leaf_spec(117);
  spec.common_name = "self.example.test";
  auto self_signed = test::make_certificate(spec);
  REQUIRE(f.trust.add(self_signed.cert).has_value());
  // Pinned in the TCS, it anchors itself and passes Medium.
  CHECK(pki::check_received_certificate({self_signed.cert}, pki::check_level::medium, f.context())
            .ok());
  CHECK(pki::check_received_certificate({self_signed.cert}, pki::check_level::high, f.context())
            .failure == pki::check_failure::self_signed);
}

TEST_CASE("PKI-8 level high refuses one of our own certificates reflected back") {
  fixture f;
  auto context = f.context();
  std::string fingerprint;
  for (char c : f.good.cert.sha256_fingerprint())
    if (c != ':')
      fingerprint += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  context.own_fingerprints = {"00:11", fingerprint};
  CHECK(pki::check_received_certificate(f.chain(f.good), pki::check_level::medium, context).ok());
  CHECK(pki::check_received_certificate(f.chain(f.good), pki::check_level::high, context).failure ==
        pki::check_failure::reflected);
}

TEST_CASE("PKI-8 level high refuses a certificate that is not pinned in the TCS") {
  fixture f;
  auto unpinned = f.ca.issue(f.ca.leaf_spec(118));
  CHECK(f.check(unpinned, pki::check_level::medium).ok());
  auto result = f.check(unpinned, pki::check_level::high);
  CHECK(result.failure == pki::check_failure::not_pinned);
  CHECK(f.check(unpinned, pki::check_level::high_remote).failure == pki::check_failure::not_pinned);
}

TEST_CASE("PKI-8 levels without remote checks ignore the host name") {
  fixture f;
  auto context = f.context();
  context.expected_name = "elsewhere.example.test";
  CHECK(pki::check_received_certificate(f.chain(f.good), pki::check_level::medium, context).ok());
  CHECK(pki::check_received_certificate(f.chain(f.good), pki::check_level::high, context).ok());
}

TEST_CASE("PKI-8 remote levels validate the host name or address against the SAN") {
  fixture f;
  auto check_name = [&](const test::test_identity& leaf, const std::string& name,
                        pki::check_level level = pki::check_level::medium_remote) {
    auto context = f.context();
    context.expected_name = name;
    return pki::check_received_certificate(f.chain(leaf), level, context).failure;
  };
  using enum pki::check_failure;
  CHECK(check_name(f.good, "pbx.example.test") == none);
  CHECK(check_name(f.good, "PBX.Example.Test") == none);
  CHECK(check_name(f.good, "192.0.2.10") == none);
  CHECK(check_name(f.good, "192.0.2.10", pki::check_level::high_remote) == none);
  CHECK(check_name(f.good, "other.example.test") == name_mismatch);
  CHECK(check_name(f.good, "other.example.test", pki::check_level::high_remote) == name_mismatch);
  CHECK(check_name(f.good, "192.0.2.11") == name_mismatch);
  CHECK(check_name(f.good, "") == name_mismatch);
  CHECK(check_name(f.good, "example.test") == name_mismatch);

  auto wrong_san =
      f.leaf(119, [](test::cert_spec& spec) { spec.subject_alt_names = "DNS:other.example.test"; });
  CHECK(check_name(wrong_san, "pbx.example.test", pki::check_level::medium) == none);
  // The CN says pbx.example.test, but a SAN list is the whole truth.
  CHECK(check_name(wrong_san, "pbx.example.test") == name_mismatch);
  auto ip_only =
      f.leaf(120, [](test::cert_spec& spec) { spec.subject_alt_names = "IP:192.0.2.10"; });
  CHECK(check_name(ip_only, "pbx.example.test") == name_mismatch);

  // Without any SAN the CN is the certificate's name.
  auto cn_only = f.leaf(121, [](test::cert_spec& spec) { spec.subject_alt_names.clear(); });
  CHECK(check_name(cn_only, "pbx.example.test") == none);
  CHECK(check_name(cn_only, "other.example.test") == name_mismatch);

  auto wildcard = f.leaf(122, [](test::cert_spec& spec) {
    spec.subject_alt_names = "DNS:*.example.test, IP:2001:db8::1";
  });
  CHECK(check_name(wildcard, "pbx.example.test") == none);
  CHECK(check_name(wildcard, "a.b.example.test") == name_mismatch);
  CHECK(check_name(wildcard, "2001:db8::1") == none);
  CHECK(check_name(wildcard, "[2001:db8::1]") == none);
  CHECK(check_name(wildcard, "2001:db8::2") == name_mismatch);
}

TEST_CASE("PKI-8 checks report the first failure in the guide's order") {
  fixture f;
  using enum pki::check_failure;
  auto context = f.context();
  auto worst = f.leaf(0x123, [](test::cert_spec& spec) {
    spec.key = test::rsa_key(512);
    spec.key_usage.clear();
    spec.extended_key_usage = "codeSigning";
    spec.unknown_critical_extension = true;
    spec.subject_alt_names = "DNS:other.example.test";
  });
  context.revoked_serials = {"123"};
  auto grade = [&](pki::check_level level, const std::vector<pki::certificate>& chain) {
    return pki::check_received_certificate(chain, level, context).failure;
  };
  auto expired_worst = f.leaf(0x123, [](test::cert_spec& spec) {
    spec.key = test::rsa_key(512);
    spec.not_after = test::fixed_now() - std::chrono::days(1);
  });
  CHECK(grade(pki::check_level::high_remote, {expired_worst.cert}) == expired);
  CHECK(grade(pki::check_level::high_remote, {worst.cert}) == key_too_small);

  auto legacy = [&](auto change) {
    return f.leaf(0x123, [&](test::cert_spec& spec) {
      spec.key = test::rsa_key(1024);
      spec.key_usage.clear();
      spec.extended_key_usage = "codeSigning";
      spec.unknown_critical_extension = true;
      spec.subject_alt_names = "DNS:other.example.test";
      change(spec);
    });
  };
  auto all = legacy([](test::cert_spec&) {});
  CHECK(grade(pki::check_level::high_remote, {all.cert}) == untrusted_chain);
  CHECK(grade(pki::check_level::high_remote, f.chain(all)) == no_key_usage);
  auto with_usage = legacy([](test::cert_spec& spec) { spec.key_usage = "digitalSignature"; });
  CHECK(grade(pki::check_level::high_remote, f.chain(with_usage)) == wrong_extended_key_usage);
  auto with_eku = legacy([](test::cert_spec& spec) {
    spec.key_usage = "digitalSignature";
    spec.extended_key_usage = "serverAuth";
  });
  CHECK(grade(pki::check_level::high_remote, f.chain(with_eku)) == unknown_critical_extension);
  auto known = legacy([](test::cert_spec& spec) {
    spec.key_usage = "digitalSignature";
    spec.extended_key_usage = "serverAuth";
    spec.unknown_critical_extension = false;
  });
  CHECK(grade(pki::check_level::high_remote, f.chain(known)) == revoked);
  context.revoked_serials.clear();
  CHECK(grade(pki::check_level::high_remote, f.chain(known)) == key_too_small);
  CHECK(grade(pki::check_level::medium_remote, f.chain(known)) == name_mismatch);
  CHECK(grade(pki::check_level::medium, f.chain(known)) == none);
}

TEST_CASE("PKI-8 checks use the injected time for the leaf and the whole chain") {
  fixture f;
  auto later = f.leaf(124, [](test::cert_spec& spec) {
    spec.not_before = test::fixed_now() + std::chrono::days(100);
    spec.not_after = test::fixed_now() + std::chrono::days(200);
  });
  REQUIRE(f.trust.add(later.cert).has_value());
  auto context = f.context();
  CHECK(pki::check_received_certificate(f.chain(later), pki::check_level::high, context).failure ==
        pki::check_failure::not_yet_valid);
  context.now = test::fixed_now() + std::chrono::days(150);
  CHECK(
      pki::check_received_certificate(f.chain(later), pki::check_level::high_remote, context).ok());
  context.now = test::fixed_now() + std::chrono::days(201);
  CHECK(pki::check_received_certificate(f.chain(later), pki::check_level::none, context).failure ==
        pki::check_failure::expired);
  // Once the root itself has run out, nothing chains to it.
  auto long_lived = f.leaf(125, [](test::cert_spec& spec) {
    spec.not_after = test::fixed_now() + std::chrono::days(5000);
  });
  context.now = test::fixed_now() + std::chrono::days(4000);
  auto result =
      pki::check_received_certificate(f.chain(long_lived), pki::check_level::medium, context);
  CHECK(result.failure == pki::check_failure::untrusted_chain);
  CHECK(result.detail.find("expired") != std::string::npos);
}

TEST_CASE("PKI-8 an ECDSA key is graded by its strength rather than its bit count") {
  fixture f;
  std::shared_ptr<EVP_PKEY> ec_key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  REQUIRE(ec_key != nullptr);
  auto ecdsa = f.leaf(126, [&](test::cert_spec& spec) { spec.key = ec_key; });
  REQUIRE(f.trust.add(ecdsa.cert).has_value());
  CHECK(f.check(ecdsa, pki::check_level::low).ok());
  CHECK(f.check(ecdsa, pki::check_level::high_remote).ok());
}
