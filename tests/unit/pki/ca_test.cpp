#include "pki/bundle.hpp"
#include "pki/certificate_authority.hpp"
#include "pki/csr.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>

using namespace ward;
using namespace std::chrono_literals;

namespace {

// --- Shared material: key generation dominates the run time, so it is done once. -------

const pki::private_key& node_key() {
  static auto key = *pki::private_key::generate_rsa(2048);
  return key;
}

pki::organisation full_organisation() {
  pki::organisation fields;
  fields.organizational_unit = "Voice";
  fields.locality = "Springfield";
  fields.state = "Example State";
  fields.country = "US";
  fields.email = "pki@example.test";
  return fields;
}

/// The CA every test starts from; tests copy it (it is a value) before changing it.
const pki::certificate_authority& shared_ca() {
  static auto ca = *pki::certificate_authority::create_root(
      "pbx1.example.test", full_organisation(), test::fixed_now(), test::seeded_random(11));
  return ca;
}

// --- The independent verifier: the openssl command line. -------------------------------

struct command_result {
  int status;
  std::string output;
};

command_result run(const std::string& command) {
  std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof(buffer), pipe))
    output.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string in(const test::temp_dir& dir, const std::string& name) {
  return (dir.path() / name).string();
}

void write(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

std::string read(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), {}};
}

std::string write_pem(const test::temp_dir& dir, const std::string& name,
                      const pki::certificate& cert) {
  auto path = in(dir, name);
  write(path, *cert.to_pem());
  return path;
}

/// The fixed test instant (plus an hour) in the form `openssl verify -attime` takes, so
/// the verdict does not depend on the machine's clock.
std::string at(std::chrono::system_clock::time_point when = test::fixed_now() + 1h) {
  return std::to_string(std::chrono::system_clock::to_time_t(when));
}

/// `openssl verify` with RFC 5280 strictness; true when it says OK.
bool openssl_verifies(const std::string& ca_file, const std::string& leaf_file,
                      const std::string& untrusted_file = {},
                      std::chrono::system_clock::time_point when = test::fixed_now() + 1h) {
  std::string command = "openssl verify -x509_strict -attime " + at(when) + " -CAfile " + ca_file;
  if (!untrusted_file.empty())
    command += " -untrusted " + untrusted_file;
  auto result = run(command + " " + leaf_file);
  INFO(result.output);
  return result.status == 0 && result.output.find(leaf_file + ": OK") != std::string::npos;
}

std::string openssl_text(const std::string& pem_file) {
  auto result = run("openssl x509 -text -noout -in " + pem_file);
  REQUIRE(result.status == 0);
  return result.output;
}

// --- Reading certificates with OpenSSL's own API. --------------------------------------

bool extension_critical(const pki::certificate& cert, int nid) {
  int index = X509_get_ext_by_NID(cert.native(), nid, -1);
  REQUIRE(index >= 0);
  return X509_EXTENSION_get_critical(X509_get_ext(cert.native(), index)) == 1;
}

bool has_extension(const pki::certificate& cert, int nid) {
  return X509_get_ext_by_NID(cert.native(), nid, -1) >= 0;
}

struct constraints {
  bool ca;
  bool has_path_length;
};

constraints basic_constraints(const pki::certificate& cert) {
  auto* value = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert.native(), NID_basic_constraints, nullptr, nullptr));
  REQUIRE(value != nullptr);
  constraints result{value->ca != 0, value->pathlen != nullptr};
  BASIC_CONSTRAINTS_free(value);
  return result;
}

std::vector<std::string> alt_names(const pki::certificate& cert) {
  std::vector<std::string> names;
  auto* general = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.native(), NID_subject_alt_name, nullptr, nullptr));
  if (!general)
    return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(general); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(general, i);
    int type = 0;
    auto* value = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    std::string bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                      static_cast<std::size_t>(ASN1_STRING_length(value)));
    if (type == GEN_DNS)
      names.push_back("DNS:" + bytes);
    else if (type == GEN_URI)
      names.push_back("URI:" + bytes);
    else if (type == GEN_EMAIL)
      names.push_back("email:" + bytes);
    else if (type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(bytes.size() == 4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof(text));
      names.push_back(std::string("IP:") + text);
    }
  }
  GENERAL_NAMES_free(general);
  return names;
}

std::string key_id_hex(const ASN1_OCTET_STRING* id) {
  REQUIRE(id != nullptr);
  std::string hex;
  for (int i = 0; i < ASN1_STRING_length(id); ++i) {
    char pair[3];
    std::snprintf(pair, sizeof(pair), "%02X", ASN1_STRING_get0_data(id)[i]);
    hex += pair;
  }
  return hex;
}

std::string authority_key_id(const pki::certificate& cert) {
  const ASN1_OCTET_STRING* id = X509_get0_authority_key_id(cert.native());
  return id ? key_id_hex(id) : std::string();
}

/// `hex` + `delta` in certificate::serial_hex() spelling.
std::string serial_plus(const std::string& hex, unsigned long delta) {
  BIGNUM* number = nullptr;
  REQUIRE(BN_hex2bn(&number, hex.c_str()) > 0);
  BN_add_word(number, delta);
  char* text = BN_bn2hex(number);
  std::string result(text);
  OPENSSL_free(text);
  BN_free(number);
  return result;
}

int signature_nid(const pki::certificate& cert) {
  return X509_get_signature_nid(cert.native());
}

pki::device_request device(const std::string& name) {
  pki::device_request request;
  request.common_name = name;
  request.pkcs12_password = "device-pw";
  return request;
}

bool is_typed_parse_error(pki::errc code) {
  return code == pki::errc::wrong_format || code == pki::errc::bad_password ||
         code == pki::errc::bad_signature || code == pki::errc::key_mismatch ||
         code == pki::errc::invalid_argument;
}

/// Flips `flips` seeded bits of `bytes`.
std::string flip_bits(std::string bytes, const random_source& random, int flips) {
  for (int i = 0; i < flips && !bytes.empty(); ++i) {
    std::uint32_t pick = 0;
    random(std::as_writable_bytes(std::span(&pick, 1)));
    bytes[pick % bytes.size()] ^= static_cast<char>(1u << (pick >> 29));
  }
  return bytes;
}

} // namespace

// --- PKI-1 ------------------------------------------------------------------------------

TEST_CASE("PKI-1 the root CA has every field of the guide's root table") {
  const auto& root = shared_ca().signing_certificate();
  CHECK(X509_get_version(root.native()) == X509_VERSION_3);
  CHECK(root.subject_common_name() == "ward-root-pbx1.example.test");
  CHECK(root.subject() == "emailAddress=pki@example.test,CN=ward-root-pbx1.example.test,"
                          "OU=Voice,O=Ward,L=Springfield,ST=Example State,C=US");
  CHECK(root.issuer() == root.subject());
  CHECK(root.is_self_signed());
  CHECK(root.is_ca());
  CHECK(signature_nid(root) == NID_sha256WithRSAEncryption);
  CHECK(EVP_PKEY_get_base_id(X509_get0_pubkey(root.native())) == EVP_PKEY_RSA);
  CHECK(root.public_key_bits() == 2048);
  CHECK(shared_ca().chain().empty());

  // Validity: from now - 24 h for ~10 years.
  CHECK(root.not_before() == test::fixed_now() - 24h);
  CHECK(root.not_after() == root.not_before() + std::chrono::days(3652));

  // Serial: random, positive, at most 20 octets, reproducible from the injected seed.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(root.native());
  CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER);
  CHECK(ASN1_STRING_length(serial) <= 20);
  CHECK(root.serial_hex().size() >= 30);
  CHECK(shared_ca().last_serial_hex() == root.serial_hex());

  auto constraints = basic_constraints(root);
  CHECK(constraints.ca);
  CHECK_FALSE(constraints.has_path_length);
  CHECK(extension_critical(root, NID_basic_constraints));
  CHECK(X509_get_key_usage(root.native()) == (KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN));
  CHECK_FALSE(extension_critical(root, NID_key_usage));
  CHECK(X509_get_extended_key_usage(root.native()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  CHECK(alt_names(root) == std::vector<std::string>{"URI:ward-root-pbx1.example.test"});
  CHECK(has_extension(root, NID_subject_key_identifier));
  CHECK(X509_get0_subject_key_id(root.native()) != nullptr);

  test::temp_dir dir;
  auto file = write_pem(dir, "root-ca.pem", root);
  auto text = openssl_text(file);
  CHECK(text.find("Version: 3 (0x2)") != std::string::npos);
  CHECK(text.find("Signature Algorithm: sha256WithRSAEncryption") != std::string::npos);
  CHECK(text.find("Public-Key: (2048 bit)") != std::string::npos);
  CHECK(text.find("X509v3 Basic Constraints: critical\n                CA:TRUE\n") !=
        std::string::npos);
  CHECK(text.find("Digital Signature, Certificate Sign") != std::string::npos);
  CHECK(text.find("TLS Web Server Authentication, TLS Web Client Authentication") !=
        std::string::npos);
  CHECK(text.find("URI:ward-root-pbx1.example.test") != std::string::npos);
  CHECK(text.find("X509v3 Subject Key Identifier") != std::string::npos);
  CHECK(text.find("Not Before: Dec 31 00:00:00 2025 GMT") != std::string::npos);
  CHECK(openssl_verifies(file, file));
}

TEST_CASE("PKI-1 root serials follow the injected seed and the organisation defaults to Ward") {
  auto again = pki::certificate_authority::create_root("pbx1.example.test", full_organisation(),
                                                       test::fixed_now(), test::seeded_random(11));
  auto other = pki::certificate_authority::create_root("pbx2", {}, test::fixed_now(),
                                                       test::seeded_random(12));
  REQUIRE(again.has_value());
  REQUIRE(other.has_value());
  CHECK(again->signing_certificate().serial_hex() ==
        shared_ca().signing_certificate().serial_hex());
  CHECK(other->signing_certificate().serial_hex() !=
        shared_ca().signing_certificate().serial_hex());
  // "Create New": the same name with a new key pair.
  CHECK_FALSE(
      again->signing_certificate().matches(*pki::private_key::from_pem(*shared_ca().key_pem())));
  CHECK(other->signing_certificate().subject() == "CN=ward-root-pbx2,O=Ward");
}

TEST_CASE("PKI-1 create_root refuses unusable hostnames and organisation fields") {
  auto refuse = [](const std::string& hostname, pki::organisation fields = {}) {
    auto ca = pki::certificate_authority::create_root(hostname, fields, test::fixed_now(),
                                                      test::seeded_random(1));
    REQUIRE_FALSE(ca.has_value());
    CHECK(ca.error().code == pki::errc::invalid_argument);
  };
  refuse("");
  refuse(std::string(55, 'a')); // "ward-root-" + 55 characters exceeds a 64-character CN
  refuse("bad host");
  refuse("under_score");
  refuse("-leading.example");
  refuse(std::string("nul\0host", 8));
  pki::organisation country;
  country.country = "USA";
  refuse("pbx", country);
  pki::organisation control;
  control.organizational_unit = "line\nbreak";
  refuse("pbx", control);
}

// --- PKI-2 ------------------------------------------------------------------------------

TEST_CASE("PKI-2 the node identity has every field of the guide's identity table") {
  auto ca = shared_ca();
  const auto& root = ca.signing_certificate();
  auto identity = ca.issue_node_identity(node_key(), "pbx1.example.test",
                                         {"192.0.2.10", "2001:db8::10"}, test::fixed_now());
  REQUIRE(identity.has_value());
  CHECK(X509_get_version(identity->native()) == X509_VERSION_3);
  CHECK(identity->serial_hex() == serial_plus(root.serial_hex(), 1));
  CHECK(ca.last_serial_hex() == identity->serial_hex());
  CHECK(signature_nid(*identity) == NID_sha256WithRSAEncryption);
  CHECK(identity->issuer() == root.subject());
  CHECK(identity->subject_common_name() == "pbx1.example.test");
  CHECK(identity->subject() == "emailAddress=pki@example.test,CN=pbx1.example.test,OU=Voice,"
                               "O=Ward,L=Springfield,ST=Example State,C=US");
  CHECK(identity->not_before() == test::fixed_now());
  CHECK(identity->not_after() == test::fixed_now() + std::chrono::days(730));
  CHECK(identity->matches(node_key()));
  CHECK(identity->public_key_bits() == 2048);
  CHECK_FALSE(identity->is_ca());
  CHECK_FALSE(identity->is_self_signed());
  CHECK(alt_names(*identity) ==
        std::vector<std::string>{"DNS:pbx1.example.test", "IP:192.0.2.10", "IP:2001:db8::10"});
  CHECK(X509_get_key_usage(identity->native()) ==
        (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION | KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT |
         KU_KEY_AGREEMENT));
  CHECK_FALSE(extension_critical(*identity, NID_key_usage));
  CHECK(X509_get_extended_key_usage(identity->native()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  CHECK_FALSE(basic_constraints(*identity).ca);
  CHECK(extension_critical(*identity, NID_basic_constraints));
  CHECK(authority_key_id(*identity) == key_id_hex(X509_get0_subject_key_id(root.native())));
  CHECK(has_extension(*identity, NID_subject_key_identifier));

  auto record = pki::record_of(*identity, pki::issued_purpose::node_identity);
  CHECK(record.serial_hex == identity->serial_hex());
  CHECK(record.subject == identity->subject());
  CHECK(record.not_before == identity->not_before());
  CHECK(record.not_after == identity->not_after());
  CHECK(record.purpose == pki::issued_purpose::node_identity);

  test::temp_dir dir;
  auto root_file = write_pem(dir, "root-ca.pem", root);
  auto identity_file = write_pem(dir, "identity.pem", *identity);
  CHECK(openssl_verifies(root_file, identity_file));
  auto text = openssl_text(identity_file);
  CHECK(text.find("DNS:pbx1.example.test, IP Address:192.0.2.10, IP "
                  "Address:2001:DB8:0:0:0:0:0:10") != std::string::npos);
  CHECK(text.find("Digital Signature, Non Repudiation, Key Encipherment, Data Encipherment, "
                  "Key Agreement") != std::string::npos);
  CHECK(text.find("X509v3 Basic Constraints: critical\n                CA:FALSE") !=
        std::string::npos);
  CHECK(text.find("X509v3 Authority Key Identifier") != std::string::npos);
  CHECK(text.find("TLS Web Server Authentication, TLS Web Client Authentication") !=
        std::string::npos);
  auto purpose = run("openssl verify -attime " + at() + " -purpose sslserver -CAfile " + root_file +
                     " " + identity_file);
  CHECK(purpose.status == 0);
}

TEST_CASE("PKI-2 sequential serials count up from the root and survive a reload") {
  auto ca = shared_ca();
  auto root_serial = ca.signing_certificate().serial_hex();
  auto first = ca.issue_node_identity(node_key(), "a.example.test", {}, test::fixed_now());
  auto second = ca.issue_node_identity(node_key(), "b.example.test", {}, test::fixed_now());
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(first->serial_hex() == serial_plus(root_serial, 1));
  CHECK(second->serial_hex() == serial_plus(root_serial, 2));
  CHECK(alt_names(*first) == std::vector<std::string>{"DNS:a.example.test"});

  auto reloaded = pki::certificate_authority::load(*ca.signing_certificate().to_pem(),
                                                   *ca.key_pem(), "", ca.last_serial_hex());
  REQUIRE(reloaded.has_value());
  auto third = reloaded->issue_node_identity(node_key(), "c.example.test", {}, test::fixed_now());
  REQUIRE(third.has_value());
  CHECK(third->serial_hex() == serial_plus(root_serial, 3));
  // The copy the test started from is a separate value with its own counter.
  CHECK(shared_ca().last_serial_hex() == root_serial);
  // No last serial stored yet: the first identity is root serial + 1.
  auto fresh = pki::certificate_authority::load(*ca.signing_certificate().to_pem(), *ca.key_pem(),
                                                " \n", "");
  REQUIRE(fresh.has_value());
  CHECK(fresh->last_serial_hex() == root_serial);
}

TEST_CASE("PKI-2 node identities refuse weak keys and bad names and addresses and an expired "
          "CA") {
  auto ca = shared_ca();
  auto before = ca.last_serial_hex();
  auto weak = *pki::private_key::generate_rsa(1024);
  auto code = [&](const pki::public_key& key, const std::string& host,
                  const std::vector<std::string>& addresses, pki::time_point now) {
    auto issued = ca.issue_node_identity(key, host, addresses, now);
    REQUIRE_FALSE(issued.has_value());
    return issued.error().code;
  };
  CHECK(code(weak, "pbx1", {}, test::fixed_now()) == pki::errc::weak_key);
  CHECK(code(node_key(), "bad_host", {}, test::fixed_now()) == pki::errc::invalid_argument);
  CHECK(code(node_key(), "", {}, test::fixed_now()) == pki::errc::invalid_argument);
  CHECK(code(node_key(), "*.wild.test", {}, test::fixed_now()) == pki::errc::invalid_argument);
  CHECK(code(node_key(), "pbx1", {"300.1.1.1"}, test::fixed_now()) == pki::errc::invalid_argument);
  CHECK(code(node_key(), "pbx1", {"192.0.2.1,DNS:evil.test"}, test::fixed_now()) ==
        pki::errc::invalid_argument);
  CHECK(code(node_key(), "pbx1", {}, test::fixed_now() + std::chrono::days(3700)) ==
        pki::errc::expired);
  CHECK(code(pki::public_key(nullptr), "pbx1", {}, test::fixed_now()) ==
        pki::errc::invalid_argument);
  CHECK(ca.last_serial_hex() == before);

  // Near the CA's end, an identity is cut to the CA's own expiry.
  auto late = test::fixed_now() + std::chrono::days(3400);
  auto identity = ca.issue_node_identity(node_key(), "pbx1", {}, late);
  REQUIRE(identity.has_value());
  CHECK(identity->not_after() == ca.signing_certificate().not_after());
}

// --- PKI-5 enrolment --------------------------------------------------------------------

TEST_CASE("PKI-5 a CSR made by the openssl CLI is signed by sign_node_csr and verifies") {
  test::temp_dir dir;
  auto made = run("openssl req -new -newkey rsa:2048 -nodes -subj /CN=exp1.test -keyout " +
                  in(dir, "exp1.key") + " -out " + in(dir, "exp1.csr"));
  REQUIRE(made.status == 0);
  auto ca = shared_ca();
  auto identity = ca.sign_node_csr(read(in(dir, "exp1.csr")), {"192.0.2.30"}, test::fixed_now());
  REQUIRE(identity.has_value());
  CHECK(identity->subject_common_name() == "exp1.test");
  CHECK(alt_names(*identity) == std::vector<std::string>{"DNS:exp1.test", "IP:192.0.2.30"});
  CHECK(identity->serial_hex() == serial_plus(shared_ca().last_serial_hex(), 1));
  auto root_file = write_pem(dir, "root-ca.pem", ca.signing_certificate());
  auto identity_file = write_pem(dir, "exp1.pem", *identity);
  CHECK(openssl_verifies(root_file, identity_file));
  // The certificate belongs to the key that never left the requester.
  auto modulus_cert = run("openssl x509 -noout -modulus -in " + identity_file);
  auto modulus_key = run("openssl rsa -noout -modulus -in " + in(dir, "exp1.key"));
  CHECK(modulus_cert.output == modulus_key.output);

  // The same request in DER.
  REQUIRE(
      run("openssl req -in " + in(dir, "exp1.csr") + " -outform DER -out " + in(dir, "exp1.der"))
          .status == 0);
  auto from_der = ca.sign_node_csr(read(in(dir, "exp1.der")), {}, test::fixed_now());
  REQUIRE(from_der.has_value());
  CHECK(from_der->subject_common_name() == "exp1.test");

  // A request without a CN names no host.
  REQUIRE(run("openssl req -new -newkey rsa:2048 -nodes -subj /O=NoName -keyout " +
              in(dir, "n.key") + " -out " + in(dir, "n.csr"))
              .status == 0);
  auto nameless = ca.sign_node_csr(read(in(dir, "n.csr")), {}, test::fixed_now());
  REQUIRE_FALSE(nameless.has_value());
  CHECK(nameless.error().code == pki::errc::invalid_argument);
}

TEST_CASE("PKI-5 make_csr and parse_csr round trip and a tampered CSR is refused") {
  auto pem = pki::make_csr(node_key(), "node-b.test");
  REQUIRE(pem.has_value());
  auto info = pki::parse_csr(*pem);
  REQUIRE(info.has_value());
  CHECK(info->common_name == "node-b.test");
  CHECK(info->subject == "CN=node-b.test");
  CHECK(info->key_bits == 2048);
  CHECK(info->public_key.is_rsa());
  CHECK(EVP_PKEY_eq(info->public_key.native(), node_key().native()) == 1);
  CHECK(*pki::public_key(node_key()).to_pem() == *info->public_key.to_pem());

  test::temp_dir dir;
  write(in(dir, "b.csr"), *pem);
  auto checked = run("openssl req -verify -noout -in " + in(dir, "b.csr"));
  CHECK(checked.status == 0);
  CHECK(checked.output.find("verify OK") != std::string::npos);

  // Change one letter of the signed CN: the signature no longer matches.
  REQUIRE(run("openssl req -in " + in(dir, "b.csr") + " -outform DER -out " + in(dir, "b.der"))
              .status == 0);
  auto der = read(in(dir, "b.der"));
  CHECK(pki::parse_csr(der).has_value());
  auto at_name = der.find("node-b.test");
  REQUIRE(at_name != std::string::npos);
  der[at_name] = 'm';
  auto tampered = pki::parse_csr(der);
  REQUIRE_FALSE(tampered.has_value());
  CHECK(tampered.error().code == pki::errc::bad_signature);
  auto ca = shared_ca();
  CHECK(ca.sign_node_csr(der, {}, test::fixed_now()).error().code == pki::errc::bad_signature);

  CHECK(pki::make_csr(node_key(), "").error().code == pki::errc::invalid_argument);
  CHECK(pki::make_csr(node_key(), std::string(65, 'a')).error().code ==
        pki::errc::invalid_argument);
  CHECK(pki::parse_csr("").error().code == pki::errc::wrong_format);
  CHECK(pki::parse_csr(der + "x").error().code == pki::errc::wrong_format);
}

// --- PKI-3 ------------------------------------------------------------------------------

TEST_CASE("PKI-3 a device certificate carries the request and comes as PKCS#12 with the "
          "chain") {
  auto ca = shared_ca();
  auto request = device("phone-17.example.test");
  request.subject_fields.organizational_unit = "Phones";
  for (auto text : {"DNS:phone-17.example.test", "IP:192.0.2.17", "URI:sip:phone-17@example.test",
                    "email:phone-17@example.test"})
    request.sans.push_back(*pki::parse_subject_alt_name(text));
  request.validity_days = 365;
  request.hash = pki::signature_hash::sha384;
  auto issued = ca.issue_device(request, test::fixed_now(), test::seeded_random(21));
  REQUIRE(issued.has_value());
  CHECK(issued->warnings.empty());
  CHECK(ca.last_serial_hex() == shared_ca().last_serial_hex());

  auto opened = pki::parse_pkcs12(issued->pkcs12_der, "device-pw");
  REQUIRE(opened.has_value());
  const auto& cert = opened->cert;
  CHECK(opened->key.bits() == 2048);
  CHECK(cert.matches(opened->key));
  REQUIRE(opened->chain.size() == 1);
  CHECK(opened->chain[0].sha256_fingerprint() == ca.signing_certificate().sha256_fingerprint());
  CHECK(cert.subject() == "CN=phone-17.example.test,OU=Phones,O=Ward");
  CHECK(cert.issuer() == ca.signing_certificate().subject());
  CHECK(signature_nid(cert) == NID_sha384WithRSAEncryption);
  CHECK(cert.not_before() == test::fixed_now());
  CHECK(cert.not_after() == test::fixed_now() + std::chrono::days(365));
  CHECK(alt_names(cert) == std::vector<std::string>{"DNS:phone-17.example.test", "IP:192.0.2.17",
                                                    "URI:sip:phone-17@example.test",
                                                    "email:phone-17@example.test"});
  CHECK(X509_get_extended_key_usage(cert.native()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  CHECK_FALSE(basic_constraints(cert).ca);
  CHECK(extension_critical(cert, NID_basic_constraints));
  CHECK(authority_key_id(cert) ==
        key_id_hex(X509_get0_subject_key_id(ca.signing_certificate().native())));
  // A random serial, not the next sequential one.
  CHECK(cert.serial_hex() != serial_plus(ca.last_serial_hex(), 1));
  CHECK(ASN1_STRING_length(X509_get0_serialNumber(cert.native())) <= 20);

  CHECK(issued->record.serial_hex == cert.serial_hex());
  CHECK(issued->record.subject == cert.subject());
  CHECK(issued->record.not_before == cert.not_before());
  CHECK(issued->record.not_after == cert.not_after());
  CHECK(issued->record.purpose == pki::issued_purpose::device_identity);

  // The independent verifier opens it with the password, and only with it.
  test::temp_dir dir;
  auto p12 = in(dir, "phone.p12");
  write(p12, issued->pkcs12_der);
  auto certs = run("openssl pkcs12 -in " + p12 + " -nokeys -passin pass:device-pw");
  CHECK(certs.status == 0);
  CHECK(std::ranges::count(certs.output, '\n') > 0);
  std::size_t blocks = 0;
  for (auto at = certs.output.find("BEGIN CERTIFICATE"); at != std::string::npos;
       at = certs.output.find("BEGIN CERTIFICATE", at + 1))
    ++blocks;
  CHECK(blocks == 2);
  CHECK(run("openssl pkcs12 -in " + p12 + " -nokeys -passin pass:wrong").status != 0);
  auto info = run("openssl pkcs12 -in " + p12 + " -info -noout -passin pass:device-pw");
  CHECK(info.status == 0);
  CHECK(info.output.find("MAC: sha256") != std::string::npos);
  CHECK(info.output.find("AES-256-CBC") != std::string::npos);
  CHECK(info.output.find("hmacWithSHA256") != std::string::npos);
  CHECK(info.output.find("RC2") == std::string::npos);
  auto key = run("openssl pkcs12 -in " + p12 + " -nocerts -nodes -passin pass:device-pw");
  CHECK(key.status == 0);
  CHECK(key.output.find("BEGIN PRIVATE KEY") != std::string::npos);

  REQUIRE(run("openssl pkcs12 -in " + p12 + " -clcerts -nokeys -passin pass:device-pw -out " +
              in(dir, "phone.pem"))
              .status == 0);
  auto root_file = write_pem(dir, "root-ca.pem", ca.signing_certificate());
  CHECK(openssl_verifies(root_file, in(dir, "phone.pem")));
  auto text = openssl_text(in(dir, "phone.pem"));
  CHECK(text.find("Signature Algorithm: sha384WithRSAEncryption") != std::string::npos);
  CHECK(text.find("URI:sip:phone-17@example.test") != std::string::npos);
  CHECK(text.find("email:phone-17@example.test") != std::string::npos);

  // Another seed, another serial.
  auto other = ca.issue_device(device("phone-18"), test::fixed_now(), test::seeded_random(22));
  REQUIRE(other.has_value());
  CHECK(other->record.serial_hex != issued->record.serial_hex);
}

TEST_CASE("PKI-3 RSA-1024 and SHA-1 need the legacy flag and 3072 is not offered") {
  auto ca = shared_ca();
  auto request = device("old-phone");
  request.key_bits = 1024;
  auto refused_key = ca.issue_device(request, test::fixed_now(), test::seeded_random(3));
  REQUIRE_FALSE(refused_key.has_value());
  CHECK(refused_key.error().code == pki::errc::weak_key);

  request.key_bits = 2048;
  request.hash = pki::signature_hash::sha1;
  auto refused_hash = ca.issue_device(request, test::fixed_now(), test::seeded_random(3));
  REQUIRE_FALSE(refused_hash.has_value());
  CHECK(refused_hash.error().code == pki::errc::weak_hash);

  request.key_bits = 1024;
  request.legacy = true;
  auto legacy = ca.issue_device(request, test::fixed_now(), test::seeded_random(3));
  REQUIRE(legacy.has_value());
  CHECK(legacy->warnings.size() == 2);
  auto opened = pki::parse_pkcs12(legacy->pkcs12_der, "device-pw");
  REQUIRE(opened.has_value());
  CHECK(opened->key.bits() == 1024);
  CHECK(signature_nid(opened->cert) == NID_sha1WithRSAEncryption);

  request.legacy = false;
  request.hash = pki::signature_hash::sha224;
  request.key_bits = 3072;
  CHECK(ca.issue_device(request, test::fixed_now(), test::seeded_random(3)).error().code ==
        pki::errc::invalid_argument);
  request.key_bits = 512;
  request.legacy = true;
  CHECK(ca.issue_device(request, test::fixed_now(), test::seeded_random(3)).error().code ==
        pki::errc::invalid_argument);
}

TEST_CASE("PKI-3 validity above 1095 days warns and above 3650 or below 1 is refused") {
  auto ca = shared_ca();
  auto issue = [&](int days) {
    auto request = device("validity-test");
    request.validity_days = days;
    return ca.issue_device(request, test::fixed_now(), test::seeded_random(5));
  };
  auto at_limit = issue(1095);
  REQUIRE(at_limit.has_value());
  CHECK(at_limit->warnings.empty());
  CHECK(at_limit->record.not_after == test::fixed_now() + std::chrono::days(1095));

  auto long_lived = issue(1096);
  REQUIRE(long_lived.has_value());
  REQUIRE(long_lived->warnings.size() == 1);
  CHECK(long_lived->warnings[0].find("1095") != std::string::npos);

  auto longest = issue(3650);
  REQUIRE(longest.has_value());
  CHECK(longest->warnings.size() == 1);
  CHECK(longest->record.not_after == test::fixed_now() + std::chrono::days(3650));

  // Later in the CA's life the same request would outlive the CA: it is cut to the CA's
  // expiry, and the administrator is told.
  auto request = device("validity-test");
  request.validity_days = 3650;
  auto cut =
      ca.issue_device(request, test::fixed_now() + std::chrono::days(100), test::seeded_random(5));
  REQUIRE(cut.has_value());
  CHECK(cut->warnings.size() == 2);
  CHECK(cut->record.not_after == ca.signing_certificate().not_after());

  for (int days : {3651, 0, -1, 100000}) {
    auto refused = issue(days);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == pki::errc::invalid_argument);
  }
}

TEST_CASE("PKI-3 SAN count and SAN syntax and the password and the subject are checked") {
  auto ca = shared_ca();
  auto request = device("sans");
  for (int i = 0; i < 9; ++i)
    request.sans.push_back({pki::subject_alt_name::kind::dns, "n" + std::to_string(i) + ".test"});
  CHECK(ca.issue_device(request, test::fixed_now(), test::seeded_random(1)).error().code ==
        pki::errc::invalid_argument);
  request.sans.pop_back();
  auto eight = ca.issue_device(request, test::fixed_now(), test::seeded_random(1));
  REQUIRE(eight.has_value());
  CHECK(alt_names(pki::parse_pkcs12(eight->pkcs12_der, "device-pw")->cert).size() == 8);

  auto no_password = device("x");
  no_password.pkcs12_password.clear();
  CHECK(ca.issue_device(no_password, test::fixed_now(), test::seeded_random(1)).error().code ==
        pki::errc::invalid_argument);
  auto nul_password = device("x");
  nul_password.pkcs12_password = std::string("a\0b", 3);
  CHECK(ca.issue_device(nul_password, test::fixed_now(), test::seeded_random(1)).error().code ==
        pki::errc::invalid_argument);
  CHECK(ca.issue_device(device(""), test::fixed_now(), test::seeded_random(1)).error().code ==
        pki::errc::invalid_argument);
  CHECK(ca.issue_device(device(std::string(65, 'x')), test::fixed_now(), test::seeded_random(1))
            .error()
            .code == pki::errc::invalid_argument);
  auto bad_san = device("x");
  bad_san.sans.push_back({pki::subject_alt_name::kind::ip, "not-an-ip"});
  CHECK(ca.issue_device(bad_san, test::fixed_now(), test::seeded_random(1)).error().code ==
        pki::errc::invalid_argument);
  CHECK(ca.issue_device(device("x"), test::fixed_now() + std::chrono::days(4000),
                        test::seeded_random(1))
            .error()
            .code == pki::errc::expired);
}

TEST_CASE("PKI-3 subject alternative names parse in OpenSSL's spelling and refuse the rest") {
  using kind = pki::subject_alt_name::kind;
  struct accepted_case {
    const char* text;
    kind type;
    const char* value;
  };
  for (auto [text, type, value] : {
           accepted_case{"DNS:x.example.test", kind::dns, "x.example.test"},
           accepted_case{"dns:*.example.test", kind::dns, "*.example.test"},
           accepted_case{"IP:1.2.3.4", kind::ip, "1.2.3.4"},
           accepted_case{"IP:::1", kind::ip, "::1"},
           accepted_case{"IP:2001:db8::1", kind::ip, "2001:db8::1"},
           accepted_case{"URI:sip:x", kind::uri, "sip:x"},
           accepted_case{"URI:192.168.0.45", kind::uri, "192.168.0.45"},
           accepted_case{"email:a@b", kind::email, "a@b"},
       }) {
    INFO(text);
    auto parsed = pki::parse_subject_alt_name(text);
    REQUIRE(parsed.has_value());
    CHECK(parsed->type == type);
    CHECK(parsed->value == value);
  }
  CHECK(pki::to_string(*pki::parse_subject_alt_name("IP:::1")) == "IP:::1");
  CHECK(pki::to_string(*pki::parse_subject_alt_name("email:a@b")) == "email:a@b");
  CHECK(pki::to_string(*pki::parse_subject_alt_name("dns:Host.test")) == "DNS:Host.test");
  for (auto text : {"",
                    "DNS",
                    "FOO:x",
                    "DNS:",
                    "DNS:bad host",
                    "DNS:a,DNS:evil.test",
                    "DNS:a..b",
                    "DNS:-a.test",
                    "DNS:a.*.test",
                    "IP:1.2.3",
                    "IP:1.2.3.4.5",
                    "IP:",
                    "IP:x::y",
                    "URI:",
                    "URI:has space",
                    "URI:tab\there",
                    "email:nope",
                    "email:@b",
                    "email:a@",
                    "email:a@b@c",
                    "othername:x"}) {
    INFO(text);
    auto parsed = pki::parse_subject_alt_name(text);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == pki::errc::invalid_argument);
  }
  CHECK_FALSE(pki::parse_subject_alt_name(std::string("DNS:a\0b", 7)).has_value());
  CHECK_FALSE(pki::parse_subject_alt_name(std::string("IP:1.2.3.4\0", 11)).has_value());
}

TEST_CASE("PKI-3 an RSA-4096 device key") {
  auto ca = shared_ca();
  auto request = device("big-key");
  request.key_bits = 4096;
  auto issued = ca.issue_device(request, test::fixed_now(), test::seeded_random(40));
  REQUIRE(issued.has_value());
  auto opened = pki::parse_pkcs12(issued->pkcs12_der, "device-pw");
  REQUIRE(opened.has_value());
  CHECK(opened->key.bits() == 4096);
  CHECK(opened->cert.public_key_bits() == 4096);
}

// --- PKI-4 ------------------------------------------------------------------------------

TEST_CASE("PKI-4 renew existing keeps the key and content and changes serial and dates") {
  auto ca = shared_ca();
  auto old_root = ca.signing_certificate();
  auto identity =
      ca.issue_node_identity(node_key(), "pbx1.example.test", {"192.0.2.10"}, test::fixed_now());
  REQUIRE(identity.has_value());
  auto later = test::fixed_now() + std::chrono::days(400);
  // The same seed the root was made with: the renewal must still pick another serial.
  REQUIRE(ca.renew_existing(later, test::seeded_random(11)).has_value());
  const auto& new_root = ca.signing_certificate();

  CHECK(new_root.serial_hex() != old_root.serial_hex());
  CHECK(ASN1_STRING_length(X509_get0_serialNumber(new_root.native())) <= 20);
  CHECK(new_root.not_before() == later - 24h);
  CHECK(new_root.not_after() == later - 24h + std::chrono::days(3652));
  CHECK(new_root.subject() == old_root.subject());
  CHECK(new_root.issuer() == old_root.issuer());
  CHECK(new_root.is_self_signed());
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(new_root.native()), X509_get0_pubkey(old_root.native())) == 1);
  CHECK(signature_nid(new_root) == NID_sha256WithRSAEncryption);
  REQUIRE(X509_get_ext_count(new_root.native()) == X509_get_ext_count(old_root.native()));
  for (int i = 0; i < X509_get_ext_count(old_root.native()); ++i) {
    X509_EXTENSION* before = X509_get_ext(old_root.native(), i);
    X509_EXTENSION* after = X509_get_ext(new_root.native(), i);
    CHECK(OBJ_cmp(X509_EXTENSION_get_object(before), X509_EXTENSION_get_object(after)) == 0);
    CHECK(X509_EXTENSION_get_critical(before) == X509_EXTENSION_get_critical(after));
    CHECK(ASN1_STRING_cmp(X509_EXTENSION_get_data(before), X509_EXTENSION_get_data(after)) == 0);
  }

  // Identities issued before still verify against the renewed root alone.
  test::temp_dir dir;
  auto new_root_file = write_pem(dir, "root-ca.pem", new_root);
  auto identity_file = write_pem(dir, "old-identity.pem", *identity);
  CHECK(openssl_verifies(new_root_file, identity_file, {}, later));
  // The sequential serial carries on rather than restarting at the new root serial.
  auto next = ca.issue_node_identity(node_key(), "pbx1.example.test", {}, later);
  REQUIRE(next.has_value());
  CHECK(next->serial_hex() == serial_plus(identity->serial_hex(), 1));
  CHECK(openssl_verifies(new_root_file, write_pem(dir, "new.pem", *next), {}, later));
  // Renewing brings an expired root back to life.
  auto lapsed = shared_ca();
  auto decade = test::fixed_now() + std::chrono::days(3700);
  CHECK(lapsed.issue_node_identity(node_key(), "x", {}, decade).error().code == pki::errc::expired);
  REQUIRE(lapsed.renew_existing(decade, test::seeded_random(9)).has_value());
  CHECK(lapsed.issue_node_identity(node_key(), "x", {}, decade).has_value());
}

TEST_CASE("PKI-4 the root exports as PEM and DER and as PKCS#12 and imports back") {
  const auto& ca = shared_ca();
  test::temp_dir dir;
  write(in(dir, "root-ca.pem"), *ca.signing_certificate().to_pem());
  write(in(dir, "root-ca.crt"), *ca.signing_certificate().to_der());
  auto from_der = run("openssl x509 -inform DER -in " + in(dir, "root-ca.crt") +
                      " -noout -fingerprint -sha256");
  CHECK(from_der.status == 0);
  CHECK(from_der.output.find(ca.signing_certificate().sha256_fingerprint()) != std::string::npos);

  auto exported = ca.export_pkcs12("backup-pw");
  REQUIRE(exported.has_value());
  write(in(dir, "root-ca.p12"), *exported);
  CHECK(run("openssl pkcs12 -in " + in(dir, "root-ca.p12") + " -nokeys -passin pass:backup-pw")
            .status == 0);
  CHECK(run("openssl pkcs12 -in " + in(dir, "root-ca.p12") + " -nokeys -passin pass:nope").status !=
        0);

  auto imported =
      pki::certificate_authority::import_pkcs12(*exported, "backup-pw", test::fixed_now());
  REQUIRE(imported.has_value());
  CHECK(imported->signing_certificate().sha256_fingerprint() ==
        ca.signing_certificate().sha256_fingerprint());
  CHECK(*imported->key_pem() == *ca.key_pem());
  CHECK(imported->chain().empty());
  CHECK(imported->last_serial_hex() == ca.signing_certificate().serial_hex());
  CHECK(imported->chain_pem() == *ca.signing_certificate().to_pem());

  auto wrong = pki::certificate_authority::import_pkcs12(*exported, "nope", test::fixed_now());
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code == pki::errc::bad_password);
  CHECK(ca.export_pkcs12("").error().code == pki::errc::invalid_argument);

  // An export restored long after the root ran out is refused as expired.
  auto late = pki::certificate_authority::import_pkcs12(
      *exported, "backup-pw", test::fixed_now() + std::chrono::days(4000));
  REQUIRE_FALSE(late.has_value());
  CHECK(late.error().code == pki::errc::expired);
}

TEST_CASE("PKI-4 an intermediate CA made by the openssl CLI imports and issues verifiable "
          "certificates") {
  test::temp_dir dir;
  write(in(dir, "ext.cnf"), "[req]\ndistinguished_name = dn\n[dn]\n"
                            "[v3_root]\nbasicConstraints = critical,CA:TRUE\n"
                            "keyUsage = critical,keyCertSign,cRLSign\n"
                            "subjectKeyIdentifier = hash\n"
                            "[v3_inter]\nbasicConstraints = critical,CA:TRUE,pathlen:0\n"
                            "keyUsage = critical,keyCertSign,cRLSign,digitalSignature\n"
                            "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n");
  auto cnf = in(dir, "ext.cnf");
  REQUIRE(run("openssl req -x509 -config " + cnf + " -extensions v3_root -newkey rsa:2048 " +
              "-nodes -days 30 -subj '/O=External/CN=External Root' -keyout " +
              in(dir, "root.key") + " -out " + in(dir, "root.pem"))
              .status == 0);
  REQUIRE(run("openssl req -new -config " + cnf + " -newkey rsa:2048 -nodes " +
              "-subj '/O=External/CN=External Issuing CA' -keyout " + in(dir, "inter.key") +
              " -out " + in(dir, "inter.csr"))
              .status == 0);
  REQUIRE(run("openssl x509 -req -in " + in(dir, "inter.csr") + " -CA " + in(dir, "root.pem") +
              " -CAkey " + in(dir, "root.key") + " -set_serial 4660 -days 20 -extfile " + cnf +
              " -extensions v3_inter -out " + in(dir, "inter.pem"))
              .status == 0);
  REQUIRE(run("openssl pkcs12 -export -in " + in(dir, "inter.pem") + " -inkey " +
              in(dir, "inter.key") + " -certfile " + in(dir, "root.pem") +
              " -passout pass:inter-pw -out " + in(dir, "inter.p12"))
              .status == 0);

  // The CLI made these certificates valid from the machine's clock, so this test uses it.
  auto now = std::chrono::system_clock::now();
  auto ca = pki::certificate_authority::import_pkcs12(read(in(dir, "inter.p12")), "inter-pw", now);
  REQUIRE(ca.has_value());
  CHECK(ca->signing_certificate().subject_common_name() == "External Issuing CA");
  REQUIRE(ca->chain().size() == 1);
  CHECK(ca->chain()[0].subject_common_name() == "External Root");
  CHECK(ca->last_serial_hex() == "1234");
  CHECK(ca->chain_pem() == read(in(dir, "inter.pem")) + read(in(dir, "root.pem")));

  auto identity = ca->issue_node_identity(node_key(), "pbx9.example.test", {"198.51.100.9"}, now);
  REQUIRE(identity.has_value());
  CHECK(identity->serial_hex() == "1235");
  CHECK(identity->issuer() == ca->signing_certificate().subject());
  CHECK(identity->subject() == "CN=pbx9.example.test,O=External");
  auto identity_file = write_pem(dir, "pbx9.pem", *identity);
  CHECK(openssl_verifies(in(dir, "root.pem"), identity_file, in(dir, "inter.pem"), now));
  // Without the intermediate the chain cannot be built: it is really needed.
  CHECK_FALSE(openssl_verifies(in(dir, "root.pem"), identity_file, {}, now));
  // The chain the node offers (PKI-6) is exactly what a peer needs besides its anchor.
  write(in(dir, "offered.pem"), ca->chain_pem());
  CHECK(openssl_verifies(in(dir, "root.pem"), identity_file, in(dir, "offered.pem"), now));

  auto issued = ca->issue_device(device("phone-9"), now, test::seeded_random(9));
  REQUIRE(issued.has_value());
  auto opened = pki::parse_pkcs12(issued->pkcs12_der, "device-pw");
  REQUIRE(opened.has_value());
  REQUIRE(opened->chain.size() == 2);
  CHECK(opened->chain[0].subject_common_name() == "External Issuing CA");
  CHECK(opened->chain[1].subject_common_name() == "External Root");
  CHECK(openssl_verifies(in(dir, "root.pem"), write_pem(dir, "phone-9.pem", opened->cert),
                         in(dir, "inter.pem"), now));

  CHECK(ca->renew_existing(now, test::seeded_random(1)).error().code ==
        pki::errc::invalid_argument);

  // Persist and load back, chain included.
  auto loaded =
      pki::certificate_authority::load(*ca->signing_certificate().to_pem(), *ca->key_pem(),
                                       read(in(dir, "root.pem")), ca->last_serial_hex());
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->chain().size() == 1);
  CHECK(loaded->last_serial_hex() == "1235");
  auto exported = loaded->export_pkcs12("again");
  REQUIRE(exported.has_value());
  auto reimported = pki::certificate_authority::import_pkcs12(*exported, "again", now);
  REQUIRE(reimported.has_value());
  CHECK(reimported->chain().size() == 1);
  // A chain certificate that does not sign the intermediate is left out.
  auto unrelated =
      pki::certificate_authority::load(*ca->signing_certificate().to_pem(), *ca->key_pem(),
                                       *shared_ca().signing_certificate().to_pem(), "");
  REQUIRE(unrelated.has_value());
  CHECK(unrelated->chain().empty());
}

TEST_CASE("PKI-4 import refuses non-CA certificates and wrong passwords and mismatched keys") {
  auto ca = shared_ca();
  auto issued = ca.issue_device(device("not-a-ca"), test::fixed_now(), test::seeded_random(2));
  REQUIRE(issued.has_value());
  auto end_entity =
      pki::certificate_authority::import_pkcs12(issued->pkcs12_der, "device-pw", test::fixed_now());
  REQUIRE_FALSE(end_entity.has_value());
  CHECK(end_entity.error().code == pki::errc::not_a_ca);
  CHECK(
      pki::certificate_authority::import_pkcs12(issued->pkcs12_der, "Device-pw", test::fixed_now())
          .error()
          .code == pki::errc::bad_password);
  CHECK(pki::certificate_authority::import_pkcs12("garbage", "x", test::fixed_now()).error().code ==
        pki::errc::wrong_format);

  // CA:TRUE but no keyCertSign, made by the CLI.
  test::temp_dir dir;
  write(in(dir, "ext.cnf"), "[req]\ndistinguished_name = dn\n[dn]\n"
                            "[v3_nosign]\nbasicConstraints = critical,CA:TRUE\n"
                            "keyUsage = critical,digitalSignature\nsubjectKeyIdentifier = hash\n");
  REQUIRE(run("openssl req -x509 -config " + in(dir, "ext.cnf") +
              " -extensions v3_nosign -newkey rsa:2048 -nodes -days 30 -subj /CN=NoSign -keyout " +
              in(dir, "k.pem") + " -out " + in(dir, "c.pem"))
              .status == 0);
  REQUIRE(run("openssl pkcs12 -export -in " + in(dir, "c.pem") + " -inkey " + in(dir, "k.pem") +
              " -passout pass:pw -out " + in(dir, "c.p12"))
              .status == 0);
  auto no_sign = pki::certificate_authority::import_pkcs12(read(in(dir, "c.p12")), "pw",
                                                           std::chrono::system_clock::now());
  REQUIRE_FALSE(no_sign.has_value());
  CHECK(no_sign.error().code == pki::errc::not_a_ca);
  CHECK(pki::certificate_authority::load(read(in(dir, "c.pem")), read(in(dir, "k.pem")), "", "")
            .error()
            .code == pki::errc::not_a_ca);

  // load() checks the pairing and the serial it is handed.
  auto root_pem = *ca.signing_certificate().to_pem();
  CHECK(pki::certificate_authority::load(root_pem, *node_key().to_pem(), "", "").error().code ==
        pki::errc::key_mismatch);
  CHECK(pki::certificate_authority::load(root_pem, *ca.key_pem(), "", "xyz").error().code ==
        pki::errc::invalid_argument);
  CHECK(pki::certificate_authority::load(root_pem, *ca.key_pem(), "", "-5").error().code ==
        pki::errc::invalid_argument);
  CHECK(pki::certificate_authority::load(root_pem, *ca.key_pem(), "", "0").error().code ==
        pki::errc::invalid_argument);
  CHECK(pki::certificate_authority::load(root_pem, *ca.key_pem(), "garbage", "").error().code ==
        pki::errc::wrong_format);
  CHECK(pki::certificate_authority::load("", *ca.key_pem(), "", "").error().code ==
        pki::errc::wrong_format);
  // A CA key below 2048 bits is refused even when everything else fits.
  auto weak_key = *pki::private_key::generate_rsa(1024);
  auto weak_root = pki::certificate_builder{}
                       .subject_attribute("CN", "weak-root")
                       .validity(test::fixed_now(), test::fixed_now() + std::chrono::days(10))
                       .random_serial(test::seeded_random(4))
                       .extension(NID_basic_constraints, "critical,CA:TRUE")
                       .extension(NID_key_usage, "keyCertSign")
                       .self_sign(weak_key);
  REQUIRE(weak_root.has_value());
  CHECK(pki::certificate_authority::load(*weak_root->to_pem(), *weak_key.to_pem(), "", "")
            .error()
            .code == pki::errc::weak_key);
}

// --- PKI-9 formats ----------------------------------------------------------------------

TEST_CASE("PKI-9 load_certificates reads PEM bundles and DER and PKCS#7 in PEM and DER") {
  auto ca = shared_ca();
  auto identity = *ca.issue_node_identity(node_key(), "pbx1", {}, test::fixed_now());
  const auto& root = ca.signing_certificate();
  auto fingerprints = [](const std::vector<pki::certificate>& certs) {
    std::vector<std::string> result;
    for (const auto& cert : certs)
      result.push_back(cert.sha256_fingerprint());
    return result;
  };
  std::vector<std::string> both{identity.sha256_fingerprint(), root.sha256_fingerprint()};

  auto one = pki::load_certificates(*root.to_pem());
  REQUIRE(one.has_value());
  CHECK(fingerprints(*one) == std::vector<std::string>{root.sha256_fingerprint()});
  // A key between the certificates and text around them are skipped.
  auto bundle = "subject=...\n" + *identity.to_pem() + *node_key().to_pem() + *root.to_pem() +
                "trailing text\n";
  auto many = pki::load_certificates(bundle);
  REQUIRE(many.has_value());
  CHECK(fingerprints(*many) == both);
  auto der = pki::load_certificates(*root.to_der());
  REQUIRE(der.has_value());
  CHECK(fingerprints(*der) == std::vector<std::string>{root.sha256_fingerprint()});
  auto der_pair = pki::load_certificates(*identity.to_der() + *root.to_der());
  REQUIRE(der_pair.has_value());
  CHECK(fingerprints(*der_pair) == both);

  auto p7 = pki::make_pkcs7_chain({identity, root});
  REQUIRE(p7.has_value());
  CHECK(p7->starts_with("-----BEGIN PKCS7-----"));
  auto from_p7 = pki::load_certificates(*p7);
  REQUIRE(from_p7.has_value());
  CHECK(fingerprints(*from_p7) == both);
  CHECK(pki::make_pkcs7_chain({}).error().code == pki::errc::invalid_argument);

  // The CLI reads Ward's PKCS#7, and Ward reads the CLI's in DER and PEM.
  test::temp_dir dir;
  write(in(dir, "chain.p7b"), *p7);
  auto printed = run("openssl pkcs7 -print_certs -noout -in " + in(dir, "chain.p7b"));
  CHECK(printed.status == 0);
  CHECK(printed.output.find("CN = pbx1") != std::string::npos);
  CHECK(printed.output.find("CN = ward-root-pbx1.example.test") != std::string::npos);
  REQUIRE(run("openssl pkcs7 -in " + in(dir, "chain.p7b") + " -outform DER -out " +
              in(dir, "chain.der.p7b"))
              .status == 0);
  auto from_der_p7 = pki::load_certificates(read(in(dir, "chain.der.p7b")));
  REQUIRE(from_der_p7.has_value());
  CHECK(fingerprints(*from_der_p7) == both);
  write(in(dir, "both.pem"), *identity.to_pem() + *root.to_pem());
  REQUIRE(run("openssl crl2pkcs7 -nocrl -certfile " + in(dir, "both.pem") + " -out " +
              in(dir, "cli.p7b"))
              .status == 0);
  auto from_cli = pki::load_certificates(read(in(dir, "cli.p7b")));
  REQUIRE(from_cli.has_value());
  CHECK(fingerprints(*from_cli) == both);

  for (auto text : {"", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                    "-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n", "\x30\x03\x02\x01\x01"}) {
    auto refused = pki::load_certificates(text);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == pki::errc::wrong_format);
  }
  // Trailing bytes after a DER certificate make it something else.
  CHECK_FALSE(pki::load_certificates(*root.to_der() + "x").has_value());
}

TEST_CASE("PKI-9 PKCS#12 files from the openssl CLI open and odd ones are refused") {
  auto ca = shared_ca();
  test::temp_dir dir;
  write(in(dir, "root.pem"), *ca.signing_certificate().to_pem());
  write(in(dir, "root.key"), *ca.key_pem());
  REQUIRE(run("openssl pkcs12 -export -in " + in(dir, "root.pem") + " -inkey " +
              in(dir, "root.key") + " -name 'Ward CA' -passout pass:cli -out " + in(dir, "cli.p12"))
              .status == 0);
  auto opened = pki::parse_pkcs12(read(in(dir, "cli.p12")), "cli");
  REQUIRE(opened.has_value());
  CHECK(opened->cert.sha256_fingerprint() == ca.signing_certificate().sha256_fingerprint());
  CHECK(opened->chain.empty());
  CHECK(pki::parse_pkcs12(read(in(dir, "cli.p12")), "").error().code == pki::errc::bad_password);

  // Certificates only: no key to import.
  REQUIRE(run("openssl pkcs12 -export -nokeys -in " + in(dir, "root.pem") +
              " -passout pass:cli -out " + in(dir, "nokey.p12"))
              .status == 0);
  CHECK(pki::parse_pkcs12(read(in(dir, "nokey.p12")), "cli").error().code ==
        pki::errc::wrong_format);
  // No MAC: nothing protects the contents against alteration.
  REQUIRE(run("openssl pkcs12 -export -nomac -in " + in(dir, "root.pem") + " -inkey " +
              in(dir, "root.key") + " -passout pass:cli -out " + in(dir, "nomac.p12"))
              .status == 0);
  CHECK(pki::parse_pkcs12(read(in(dir, "nomac.p12")), "cli").error().code ==
        pki::errc::wrong_format);

  // A MAC asking for more iterations than Ward spends is refused before any is spent.
  STACK_OF(X509)* none = nullptr;
  PKCS12* costly = PKCS12_create_ex("pw", nullptr, node_key().native(), nullptr, none,
                                    NID_aes_256_cbc, NID_aes_256_cbc, 1, -1, 0, nullptr, nullptr);
  REQUIRE(costly != nullptr);
  REQUIRE(PKCS12_setup_mac(costly, 50'000'000, nullptr, 0, EVP_sha256()) == 1);
  unsigned char* bytes = nullptr;
  int size = i2d_PKCS12(costly, &bytes);
  PKCS12_free(costly);
  REQUIRE(size > 0);
  std::string costly_der(reinterpret_cast<char*>(bytes), static_cast<std::size_t>(size));
  OPENSSL_free(bytes);
  auto refused = pki::parse_pkcs12(costly_der, "pw");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == pki::errc::wrong_format);
  CHECK(refused.error().detail.find("iterations") != std::string::npos);

  // make_pkcs12 refuses what it cannot represent faithfully.
  auto root = ca.signing_certificate();
  CHECK(pki::make_pkcs12(node_key(), root, {}, "pw", "x").error().code == pki::errc::key_mismatch);
  auto key = *pki::private_key::from_pem(*ca.key_pem());
  CHECK(pki::make_pkcs12(key, root, {}, "", "x").error().code == pki::errc::invalid_argument);
  CHECK(pki::make_pkcs12(key, root, {}, std::string("p\0w", 3), "x").error().code ==
        pki::errc::invalid_argument);
  CHECK(pki::parse_pkcs12("", "pw").error().code == pki::errc::wrong_format);
}

TEST_CASE("PKI-9 garbage and truncations and bit flips of every format give typed errors") {
  auto ca = shared_ca();
  auto identity = *ca.issue_node_identity(node_key(), "pbx1", {"192.0.2.1"}, test::fixed_now());
  auto device_p12 =
      ca.issue_device(device("fuzz-me"), test::fixed_now(), test::seeded_random(8))->pkcs12_der;
  auto csr_pem = *pki::make_csr(node_key(), "node.test");
  std::vector<std::string> samples{*identity.to_pem(),
                                   *identity.to_der(),
                                   csr_pem,
                                   device_p12,
                                   *pki::make_pkcs7_chain({identity, ca.signing_certificate()}),
                                   *identity.to_pem() + *ca.signing_certificate().to_pem()};

  std::size_t checked = 0;
  auto feed = [&](const std::string& bytes) {
    ++checked;
    if (auto cert = pki::certificate::from_pem(bytes); !cert)
      CHECK(cert.error().code == pki::errc::wrong_format);
    if (auto cert = pki::certificate::from_der(bytes); !cert)
      CHECK(cert.error().code == pki::errc::wrong_format);
    if (auto csr = pki::parse_csr(bytes); !csr)
      CHECK(is_typed_parse_error(csr.error().code));
    if (auto p12 = pki::parse_pkcs12(bytes, "device-pw"); !p12)
      CHECK(is_typed_parse_error(p12.error().code));
    if (auto certs = pki::load_certificates(bytes); !certs)
      CHECK(certs.error().code == pki::errc::wrong_format);
    if (auto loaded = pki::certificate_authority::load(bytes, bytes, bytes, bytes); !loaded)
      CHECK(is_typed_parse_error(loaded.error().code));
  };

  auto random = test::seeded_random(2026);
  for (const auto& sample : samples) {
    // Truncations at a bounded number of points, and every flip count from 1 to 4.
    std::size_t step = std::max<std::size_t>(1, sample.size() / 40);
    for (std::size_t cut = 0; cut < sample.size(); cut += step)
      feed(sample.substr(0, cut));
    for (int round = 0; round < 40; ++round)
      feed(flip_bits(sample, random, 1 + round % 4));
  }
  // Truncated DER never parses as the whole thing.
  auto der = *identity.to_der();
  for (std::size_t cut = 0; cut < der.size(); cut += 53) {
    CHECK_FALSE(pki::load_certificates(der.substr(0, cut)).has_value());
    CHECK_FALSE(pki::parse_pkcs12(device_p12.substr(0, cut), "device-pw").has_value());
  }
  for (int round = 0; round < 100; ++round) {
    std::string noise(static_cast<std::size_t>(round * 13 % 700), '\0');
    random(std::as_writable_bytes(std::span(noise)));
    feed(noise);
  }
  // Splices of two formats.
  for (std::size_t i = 0; i < samples.size(); ++i)
    feed(samples[i].substr(0, samples[i].size() / 2) +
         samples[(i + 1) % samples.size()].substr(samples[(i + 1) % samples.size()].size() / 2));
  CHECK(checked > 500);
}

// --- Error codes ------------------------------------------------------------------------

TEST_CASE("PKI-9 every PKI error code has a distinct name") {
  std::set<std::string_view> names;
  for (auto code : {pki::errc::wrong_format, pki::errc::invalid_argument, pki::errc::key_mismatch,
                    pki::errc::io_error, pki::errc::crypto_failure, pki::errc::bad_password,
                    pki::errc::weak_key, pki::errc::weak_hash, pki::errc::bad_signature,
                    pki::errc::not_a_ca, pki::errc::expired, pki::errc::revoked}) {
    CHECK(pki::to_string(code) != "unknown");
    names.insert(pki::to_string(code));
  }
  CHECK(names.size() == 12);
  CHECK(pki::to_string(pki::issued_purpose::device_identity) == "device_identity");
}

TEST_CASE("PKI-9 parsers and the CA leave no OpenSSL errors queued for the next operation") {
  // A stale entry in OpenSSL's per-thread error queue would be reported by whatever TLS
  // operation runs next on that thread.
  ERR_clear_error();
  auto ca = shared_ca();
  auto identity = ca.issue_node_identity(node_key(), "pbx1", {"192.0.2.1"}, test::fixed_now());
  REQUIRE(identity.has_value());
  CHECK(ERR_peek_error() == 0);
  auto p12 = ca.export_pkcs12("pw");
  CHECK(pki::parse_pkcs12(*p12, "pw").has_value());
  CHECK(ERR_peek_error() == 0);
  CHECK_FALSE(pki::parse_pkcs12(*p12, "wrong").has_value());
  CHECK(ERR_peek_error() == 0);
  CHECK(pki::load_certificates(*identity->to_der() + *identity->to_der()).has_value());
  CHECK(pki::load_certificates(*identity->to_pem() + *node_key().to_pem()).has_value());
  CHECK(pki::load_certificates(*pki::make_pkcs7_chain({*identity})).has_value());
  CHECK(ERR_peek_error() == 0);
  CHECK_FALSE(pki::load_certificates("garbage").has_value());
  CHECK_FALSE(pki::parse_csr("garbage").has_value());
  CHECK_FALSE(pki::parse_subject_alt_name("IP:nope").has_value());
  CHECK(ERR_peek_error() == 0);
  CHECK(ca.sign_node_csr(*pki::make_csr(node_key(), "n.test"), {}, test::fixed_now()));
  CHECK(pki::certificate_authority::load(*ca.signing_certificate().to_pem(), *ca.key_pem(),
                                         *ca.signing_certificate().to_pem(), "")
            .has_value());
  CHECK(ERR_peek_error() == 0);
}
