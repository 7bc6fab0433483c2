#include "pki/certificate_builder.hpp"
#include "pki/identity_store.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sys/stat.h>

using namespace ward;
using namespace std::chrono_literals;

namespace {

const pki::private_key& shared_key() {
  static auto key = *pki::private_key::generate_rsa(2048);
  return key;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

bool has_extension(const pki::certificate& cert, int nid) {
  return X509_get_ext_by_NID(cert.native(), nid, -1) >= 0;
}

} // namespace

TEST_CASE("PKI-5 the self-signed identity has CN = hostname and 2 years as end entity without SAN "
          "or EKU") {
  auto cert = pki::make_self_signed_identity(shared_key(), "pbx1.example.test", test::fixed_now(),
                                             test::seeded_random(7));
  REQUIRE(cert.has_value());
  CHECK(cert->subject_common_name() == "pbx1.example.test");
  CHECK(cert->subject() == "CN=pbx1.example.test");
  CHECK(cert->issuer() == cert->subject());
  CHECK(cert->is_self_signed());
  CHECK_FALSE(cert->is_ca());
  CHECK(cert->not_before() == test::fixed_now());
  CHECK(cert->not_after() == test::fixed_now() + std::chrono::days(730));
  CHECK(cert->days_until_expiry(test::fixed_now()) == 730);
  CHECK(cert->public_key_bits() == 2048);
  CHECK(cert->matches(shared_key()));
  CHECK(X509_get_signature_nid(cert->native()) == NID_sha256WithRSAEncryption);
  CHECK_FALSE(has_extension(*cert, NID_subject_alt_name));
  CHECK_FALSE(has_extension(*cert, NID_ext_key_usage));
  CHECK(has_extension(*cert, NID_subject_key_identifier));
  int critical = 0;
  auto* constraints = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert->native(), NID_basic_constraints, &critical, nullptr));
  REQUIRE(constraints != nullptr);
  CHECK(constraints->ca == 0);
  CHECK(critical == 1);
  BASIC_CONSTRAINTS_free(constraints);
}

TEST_CASE(
    "PKI-1 serials are random and positive and at most 20 bytes and follow the injected seed") {
  auto first =
      pki::make_self_signed_identity(shared_key(), "a", test::fixed_now(), test::seeded_random(1));
  auto again =
      pki::make_self_signed_identity(shared_key(), "a", test::fixed_now(), test::seeded_random(1));
  auto other =
      pki::make_self_signed_identity(shared_key(), "a", test::fixed_now(), test::seeded_random(2));
  REQUIRE(first.has_value());
  CHECK(first->serial_hex() == again->serial_hex());
  CHECK(first->serial_hex() != other->serial_hex());
  CHECK(first->serial_hex().size() <= 40);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(first->native());
  CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER);
}

TEST_CASE("PKI-9 parsers reject bad bytes with a typed error instead of crashing") {
  CHECK(pki::certificate::from_pem("").error().code == pki::errc::wrong_format);
  CHECK(pki::certificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .error()
            .code == pki::errc::wrong_format);
  CHECK(pki::certificate::from_der(std::string("\x30\x82\xff\xff", 4)).error().code ==
        pki::errc::wrong_format);
  CHECK(pki::private_key::from_pem("garbage").error().code == pki::errc::wrong_format);
  CHECK(pki::private_key::generate_rsa(512).error().code == pki::errc::invalid_argument);
  // Bounded sweep of random inputs and truncations of a real certificate.
  auto real =
      *pki::make_self_signed_identity(shared_key(), "x", test::fixed_now(), test::seeded_random(3))
           ->to_der();
  auto random = test::seeded_random(99);
  for (std::size_t cut = 0; cut < real.size(); cut += 37)
    CHECK_FALSE(pki::certificate::from_der(real.substr(0, cut)).has_value());
  for (int round = 0; round < 200; ++round) {
    std::string noise(static_cast<std::size_t>(round * 7 % 300), '\0');
    random(std::as_writable_bytes(std::span(noise)));
    (void)pki::certificate::from_der(noise);
    (void)pki::certificate::from_pem(noise);
    (void)pki::private_key::from_pem(noise);
  }
  CHECK(pki::certificate::from_der(real).has_value());
}

TEST_CASE("PKI-11 first start creates the identity with a 0600 key and the next start loads it") {
  test::temp_dir dir;
  pki::identity_store store(dir.path() / "certificates");
  auto created = store.load_or_create("node-a.test", test::fixed_now(), test::seeded_random(5));
  REQUIRE(created.has_value());
  CHECK(created->origin == pki::identity_origin::created_first_start);
  CHECK(created->key.bits() == pki::node_identity_key_bits);
  struct stat key_stat {};
  REQUIRE(::stat(store.key_path().c_str(), &key_stat) == 0);
  CHECK((key_stat.st_mode & 0777) == 0600);

  auto loaded =
      store.load_or_create("node-a.test", test::fixed_now() + 24h, test::seeded_random(6));
  REQUIRE(loaded.has_value());
  CHECK(loaded->origin == pki::identity_origin::loaded);
  CHECK(loaded->cert.sha256_fingerprint() == created->cert.sha256_fingerprint());
}

TEST_CASE("PKI-11 a deleted or corrupt or mismatched or expired identity is replaced") {
  test::temp_dir dir;
  pki::identity_store store(dir.path());
  auto original = *store.load_or_create("node-b.test", test::fixed_now(), test::seeded_random(8));
  auto fingerprint = original.cert.sha256_fingerprint();

  auto expect_recreated = [&](const std::string& reason_part,
                              std::chrono::system_clock::time_point now) {
    auto healed = store.load_or_create("node-b.test", now, test::seeded_random(9));
    REQUIRE(healed.has_value());
    CHECK(healed->origin == pki::identity_origin::recreated);
    CHECK(healed->replaced_because.find(reason_part) != std::string::npos);
    CHECK(healed->cert.sha256_fingerprint() != fingerprint);
    CHECK(healed->cert.matches(healed->key));
    fingerprint = healed->cert.sha256_fingerprint();
  };

  SUBCASE("certificate deleted") {
    std::filesystem::remove(store.certificate_path());
    expect_recreated("certificate missing", test::fixed_now());
  }
  SUBCASE("certificate corrupt, old file kept for inspection") {
    write(store.certificate_path(), "-----BEGIN CERTIFICATE-----\nnot base64\n");
    expect_recreated("certificate unreadable", test::fixed_now());
    CHECK(read(store.certificate_path().string() + ".damaged").find("not base64") !=
          std::string::npos);
  }
  SUBCASE("key replaced by another key") {
    auto other = *pki::private_key::generate_rsa(2048);
    write(store.key_path(), *other.to_pem());
    expect_recreated("does not match", test::fixed_now());
  }
  SUBCASE("expired") {
    expect_recreated("validity", test::fixed_now() + std::chrono::days(800));
  }
  SUBCASE("hostname changed") {
    auto renamed = store.load_or_create("node-c.test", test::fixed_now(), test::seeded_random(10));
    REQUIRE(renamed.has_value());
    CHECK(renamed->origin == pki::identity_origin::recreated);
    CHECK(renamed->cert.subject_common_name() == "node-c.test");
  }
}
