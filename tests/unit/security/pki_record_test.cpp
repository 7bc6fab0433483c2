#include "security/pki_record.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace ward;

TEST_CASE("PKI-4 the certificate state keeps the replaced CAs until they are retired") {
  security::pki_record record;
  record.ca = *pki::certificate_authority::create_root("primary.test", {}, test::fixed_now(),
                                                       test::seeded_random(1));
  auto replaced = *pki::certificate_authority::create_root("primary.test", {}, test::fixed_now(),
                                                           test::seeded_random(2));
  record.retiring_cas.push_back(replaced.signing_certificate());
  auto encoded = security::encode_pki(record);
  REQUIRE(encoded.has_value());
  auto decoded = security::decode_pki(*encoded);
  REQUIRE(decoded.has_value());
  REQUIRE(decoded->retiring_cas.size() == 1);
  CHECK(decoded->retiring_cas.front().sha256_fingerprint() ==
        replaced.signing_certificate().sha256_fingerprint());
  CHECK(decoded->ca->signing_certificate().sha256_fingerprint() ==
        record.ca->signing_certificate().sha256_fingerprint());

  // A record written before replaced CAs were kept has none.
  auto document = nlohmann::json::parse(*encoded);
  document.erase("retiring_cas");
  auto older = security::decode_pki(document.dump());
  REQUIRE(older.has_value());
  CHECK(older->retiring_cas.empty());

  // A damaged entry is refused rather than silently dropped.
  document["retiring_cas"] = nlohmann::json::array({"not a certificate"});
  auto damaged = security::decode_pki(document.dump());
  REQUIRE_FALSE(damaged.has_value());
  CHECK(damaged.error().detail.find("retiring CA") != std::string::npos);
}
