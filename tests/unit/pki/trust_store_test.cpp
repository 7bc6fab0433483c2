#include "pki/trust_store.hpp"
#include "tests/unit/pki/test_certificates.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <random>
#include <set>

using namespace ward;

namespace {

/// A distinct self-signed certificate per serial; all share one key, which is enough for
/// a store that tells certificates apart by fingerprint.
pki::certificate numbered(long serial) {
  test::cert_spec spec;
  spec.common_name = "tcs-entry-" + std::to_string(serial) + ".example.test";
  spec.subject_alt_names.clear();
  spec.key = test::rsa_key(2048, 7);
  spec.not_before = test::fixed_now() - std::chrono::days(1);
  spec.not_after = test::fixed_now() + std::chrono::days(365);
  spec.serial = serial;
  return test::make_certificate(spec).cert;
}

void write(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

std::string pem_of(const pki::certificate& cert) {
  return cert.to_pem().value();
}

std::string der_of(const pki::certificate& cert) {
  return cert.to_der().value();
}

std::vector<std::string> fingerprints(const pki::trust_store& store) {
  std::vector<std::string> prints;
  for (const auto& entry : store.entries())
    prints.push_back(entry.cert.sha256_fingerprint());
  return prints;
}

pki::certificate default_named(const std::string& common_name) {
  auto defaults = pki::trust_store::with_defaults();
  for (const auto& entry : defaults.entries())
    if (entry.cert.subject_common_name() == common_name)
      return entry.cert;
  FAIL("no default certificate " << common_name);
  return numbered(0);
}

bool present(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

} // namespace

TEST_CASE("PKI-7 the default content is the guide's nine trusted certificates") {
  REQUIRE(pki::default_trusted_pems().size() == 9);
  for (auto pem : pki::default_trusted_pems())
    CHECK(pki::certificate::from_pem(pem).has_value());

  auto store = pki::trust_store::with_defaults();
  REQUIRE(store.size() == 9);
  std::set<std::string> names;
  for (const auto& entry : store.entries()) {
    CHECK(entry.is_default);
    names.insert(entry.cert.subject_common_name());
  }
  CHECK(names == std::set<std::string>{"DigiCert Global Root CA", "DigiCert SHA2 Secure Server CA",
                                       "Entrust Certification Authority - L1K", "GTS Root R1",
                                       "GTS Root R2", "GlobalSign", "ISRG Root X1",
                                       "Let's Encrypt Authority X3",
                                       "Symantec Class 3 Secure Server CA - G4"});
  // The guide prints these dates; some have passed, and the store keeps them anyway.
  auto isrg = default_named("ISRG Root X1");
  CHECK(isrg.sha256_fingerprint() == "96:BC:EC:06:26:49:76:F3:74:60:77:9A:CF:28:C5:A7:CF:E8:A3:"
                                     "C0:AA:E1:1A:8F:FC:EE:05:C0:BD:DF:08:C6");
  CHECK(isrg.is_valid_at(test::fixed_now()));
  CHECK_FALSE(default_named("Let's Encrypt Authority X3").is_valid_at(test::fixed_now()));
}

TEST_CASE("PKI-7 a security reset restores the default content") {
  auto store = pki::trust_store::with_defaults();
  REQUIRE(store.remove(default_named("GTS Root R1").sha256_fingerprint()));
  REQUIRE(store.add(numbered(1)).has_value());
  auto reset = pki::trust_store::with_defaults();
  CHECK(fingerprints(reset) == fingerprints(pki::trust_store::with_defaults()));
  CHECK(reset.size() == 9);
}

TEST_CASE("PKI-7 the store holds at least 64 entries and refuses one beyond its capacity") {
  static_assert(pki::trust_store::capacity >= 64);
  pki::trust_store store;
  for (std::size_t i = 0; i < pki::trust_store::capacity; ++i)
    REQUIRE(store.add(numbered(static_cast<long>(1000 + i))).has_value());
  CHECK(store.size() == pki::trust_store::capacity);
  auto refused = store.add(numbered(5000));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == pki::trust_store_errc::full);
  CHECK(store.size() == pki::trust_store::capacity);
  // Removing one makes room again.
  REQUIRE(store.remove(store.entries().front().cert.sha256_fingerprint()));
  CHECK(store.add(numbered(5000)).has_value());
}

TEST_CASE("PKI-7 a certificate already in the store is refused") {
  auto store = pki::trust_store::with_defaults();
  auto cert = numbered(1);
  REQUIRE(store.add(cert).has_value());
  auto again = store.add(cert);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == pki::trust_store_errc::duplicate);
  // The same certificate parsed afresh is still the same certificate.
  auto copy = pki::certificate::from_der(der_of(default_named("ISRG Root X1")));
  REQUIRE(copy.has_value());
  CHECK(store.add(*copy).error().code == pki::trust_store_errc::duplicate);
  CHECK(store.size() == 10);
  CHECK_FALSE(store.entries().back().is_default);
  CHECK(store.add(pki::certificate(nullptr)).error().code == pki::trust_store_errc::wrong_format);
}

TEST_CASE("PKI-7 certificates are removed by fingerprint in any spelling") {
  auto store = pki::trust_store::with_defaults();
  auto fingerprint = default_named("GTS Root R2").sha256_fingerprint();
  std::string plain;
  for (char c : fingerprint)
    if (c != ':')
      plain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK_FALSE(store.remove("not a fingerprint"));
  CHECK_FALSE(store.remove(""));
  CHECK(store.remove(plain));
  CHECK(store.size() == 8);
  CHECK_FALSE(store.remove(fingerprint));
}

TEST_CASE("PKI-7 exact containment tells apart certificates with the same name and key") {
  pki::trust_store store;
  auto stored = numbered(1);
  REQUIRE(store.add(stored).has_value());
  CHECK(store.contains_exact(stored));
  CHECK(store.contains_exact(*pki::certificate::from_pem(pem_of(stored))));
  test::cert_spec twin;
  twin.common_name = "tcs-entry-1.example.test";
  twin.subject_alt_names.clear();
  twin.key = test::rsa_key(2048, 7);
  twin.not_before = test::fixed_now() - std::chrono::days(1);
  twin.not_after = test::fixed_now() + std::chrono::days(366);
  twin.serial = 1;
  CHECK_FALSE(store.contains_exact(test::make_certificate(twin).cert));
  CHECK_FALSE(store.contains_exact(pki::certificate(nullptr)));
  CHECK(store.certificates().size() == 1);
}

TEST_CASE("PKI-7 the add drop directory takes PEM and DER files and rejects the rest") {
  test::temp_dir dir("ward-tcs");
  auto add_dir = dir.path() / "certificates/tcs/add";
  auto delete_dir = dir.path() / "certificates/tcs/delete";
  std::filesystem::create_directories(add_dir);
  std::filesystem::create_directories(add_dir / "nested");

  auto first = numbered(1);
  auto second = numbered(2);
  write(add_dir / "first.pem", pem_of(first));
  // Windows line ends, as the guide allows.
  std::string crlf;
  for (char c : pem_of(numbered(3))) {
    if (c == '\n')
      crlf += '\r';
    crlf += c;
  }
  write(add_dir / "third.pem", crlf);
  write(add_dir / "second.crt", der_of(second));
  write(add_dir / "garbage.pem", "this is not a certificate\n");
  write(add_dir / "empty.der", "");
  write(add_dir / "key.pem", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
  write(add_dir / "two.pem", pem_of(numbered(4)) + pem_of(numbered(5)));
  write(add_dir / "trailing.der", der_of(numbered(6)) + "junk");
  write(add_dir / "isrg.pem", pem_of(default_named("ISRG Root X1")));
  write(add_dir / ".partial.pem", pem_of(numbered(7)));

  auto store = pki::trust_store::with_defaults();
  auto report = store.process_drop_directories(add_dir, delete_dir);
  CHECK(report.added == std::vector<std::string>{"first.pem", "second.crt", "third.pem"});
  CHECK(report.removed.empty());
  std::set<std::string> rejected;
  for (const auto& [name, reason] : report.rejected) {
    CAPTURE(name);
    CHECK_FALSE(reason.empty());
    rejected.insert(name);
    CHECK(present(add_dir / (name + ".rejected")));
    CHECK_FALSE(present(add_dir / name));
  }
  CHECK(rejected == std::set<std::string>{"empty.der", "garbage.pem", "isrg.pem", "key.pem",
                                          "trailing.der", "two.pem"});
  CHECK(store.size() == 12);
  CHECK(store.contains_exact(first));
  CHECK(store.contains_exact(second));
  CHECK_FALSE(present(add_dir / "first.pem"));
  CHECK_FALSE(present(add_dir / "second.crt"));
  CHECK(present(add_dir / ".partial.pem"));
  CHECK(present(add_dir / "nested"));

  // Rejected files are not retried at the next start.
  auto again = store.process_drop_directories(add_dir, delete_dir);
  CHECK(again.added.empty());
  CHECK(again.rejected.empty());
  CHECK(store.size() == 12);
}

TEST_CASE("PKI-7 the delete drop directory removes certificates by content") {
  test::temp_dir dir("ward-tcs");
  auto add_dir = dir.path() / "add";
  auto delete_dir = dir.path() / "delete";
  std::filesystem::create_directories(delete_dir);
  write(delete_dir / "isrg.pem", pem_of(default_named("ISRG Root X1")));
  write(delete_dir / "gts.der", der_of(default_named("GTS Root R1")));
  write(delete_dir / "unknown.pem", pem_of(numbered(1)));
  write(delete_dir / "noise.txt", "noise");

  auto store = pki::trust_store::with_defaults();
  auto report = store.process_drop_directories(add_dir, delete_dir);
  CHECK(report.removed == std::vector<std::string>{"gts.der", "isrg.pem"});
  REQUIRE(report.rejected.size() == 2);
  CHECK(report.rejected[0].first == "noise.txt");
  CHECK(report.rejected[1].first == "unknown.pem");
  CHECK(report.rejected[1].second.find("not in the trusted certificate store") !=
        std::string::npos);
  CHECK(store.size() == 7);
  CHECK_FALSE(store.contains_exact(default_named("ISRG Root X1")));
  CHECK_FALSE(present(delete_dir / "isrg.pem"));
  CHECK(present(delete_dir / "unknown.pem.rejected"));
}

TEST_CASE("PKI-7 one drop can make room in a full store") {
  test::temp_dir dir("ward-tcs");
  auto add_dir = dir.path() / "add";
  auto delete_dir = dir.path() / "delete";
  std::filesystem::create_directories(add_dir);
  std::filesystem::create_directories(delete_dir);
  pki::trust_store store;
  for (std::size_t i = 0; i < pki::trust_store::capacity; ++i)
    REQUIRE(store.add(numbered(static_cast<long>(1000 + i))).has_value());
  write(delete_dir / "old.pem", pem_of(numbered(1000)));
  write(add_dir / "new.pem", pem_of(numbered(1)));
  write(add_dir / "newer.pem", pem_of(numbered(2)));
  auto report = store.process_drop_directories(add_dir, delete_dir);
  CHECK(report.removed == std::vector<std::string>{"old.pem"});
  CHECK(report.added == std::vector<std::string>{"new.pem"});
  REQUIRE(report.rejected.size() == 1);
  CHECK(report.rejected[0].first == "newer.pem");
  CHECK(store.size() == pki::trust_store::capacity);
}

TEST_CASE("PKI-7 missing drop directories change nothing") {
  test::temp_dir dir("ward-tcs");
  auto store = pki::trust_store::with_defaults();
  auto report = store.process_drop_directories(dir.path() / "no-add", dir.path() / "no-delete");
  CHECK(report.added.empty());
  CHECK(report.removed.empty());
  CHECK(report.rejected.empty());
  CHECK(store.size() == 9);
}

TEST_CASE("PKI-7 the store survives serialization with its default markers") {
  auto store = pki::trust_store::with_defaults();
  REQUIRE(store.remove(default_named("GlobalSign").sha256_fingerprint()));
  REQUIRE(store.add(numbered(1)).has_value());
  REQUIRE(store.add(numbered(2)).has_value());
  auto text = store.serialize();
  auto restored = pki::trust_store::deserialize(text);
  REQUIRE(restored.has_value());
  CHECK(fingerprints(*restored) == fingerprints(store));
  REQUIRE(restored->size() == 10);
  for (std::size_t i = 0; i < store.size(); ++i)
    CHECK(restored->entries()[i].is_default == store.entries()[i].is_default);
  CHECK(restored->serialize() == text);

  auto empty = pki::trust_store::deserialize(pki::trust_store{}.serialize());
  REQUIRE(empty.has_value());
  CHECK(empty->size() == 0);

  // Windows line ends from a hand-edited file are fine.
  std::string crlf;
  for (char c : text) {
    if (c == '\n')
      crlf += '\r';
    crlf += c;
  }
  auto from_crlf = pki::trust_store::deserialize(crlf);
  REQUIRE(from_crlf.has_value());
  CHECK(fingerprints(*from_crlf) == fingerprints(store));
}

TEST_CASE("PKI-7 a damaged serialized store is refused as a whole") {
  auto store = pki::trust_store::with_defaults();
  auto text = store.serialize();
  auto refused = [](std::string_view input) {
    auto result = pki::trust_store::deserialize(input);
    return !result.has_value() && result.error().code == pki::trust_store_errc::wrong_format;
  };
  CHECK(refused(""));
  CHECK(refused("garbage"));
  CHECK(refused(text.substr(0, text.size() / 2)));
  CHECK(refused(text.substr(text.find('\n') + 1)));

  auto marker = text.find("# entry: default");
  auto bad_marker = text;
  bad_marker.replace(marker, 16, "# entry: unknown");
  CHECK(refused(bad_marker));

  auto first_entry_end = text.find("# entry:", marker + 1);
  auto doubled = text + text.substr(marker, first_entry_end - marker);
  CHECK(refused(doubled));

  auto corrupt = text;
  corrupt[text.find("MII") + 10] = '*';
  CHECK(refused(corrupt));

  pki::trust_store full;
  for (std::size_t i = 0; i < pki::trust_store::capacity; ++i)
    REQUIRE(full.add(numbered(static_cast<long>(1000 + i))).has_value());
  auto full_text = full.serialize();
  REQUIRE(pki::trust_store::deserialize(full_text).has_value());
  CHECK(refused(full_text + "# entry: added\n" + pem_of(numbered(1))));

  // Random damage never crashes: whatever comes back is either refused or a store.
  std::mt19937_64 engine(42);
  for (int round = 0; round < 200; ++round) {
    auto mutated = text;
    for (int flips = 0; flips < 3; ++flips)
      mutated[engine() % mutated.size()] = static_cast<char>(engine() & 0xff);
    auto result = pki::trust_store::deserialize(mutated);
    if (result)
      CHECK(result->size() <= store.size());
  }
}
