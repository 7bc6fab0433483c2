// Fuzz target for every parser of untrusted PKI bytes: certificates (PEM, DER), PKCS#10
// requests, PKCS#12 files and certificate bundles (PEM, DER, PKCS#7).
//
// Built two ways:
//  - with -fsanitize=fuzzer -DWARD_LIBFUZZER (tests/fuzz/run-libfuzzer): libFuzzer drives
//    LLVMFuzzerTestOneInput. With WARD_FUZZ_WRITE_CORPUS=DIR set, the binary writes its
//    seed corpus to DIR and exits, so libFuzzer starts from valid inputs.
//  - with -DWARD_FUZZ_STANDALONE and any compiler: main() runs a bounded, seeded mutation
//    loop over the same corpus; usage: pki_parse_fuzz [iterations=20000] [seconds=300]
//    [seed].

#include "pki/bundle.hpp"
#include "pki/certificate.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/csr.hpp"
#include "pki/openssl_ptr.hpp"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#if defined(WARD_LIBFUZZER) && defined(WARD_FUZZ_STANDALONE)
#error "build either for libFuzzer or standalone, not both"
#endif

namespace {

using namespace ward;

/// The password the corpus's PKCS#12 uses, so mutated files get past the MAC.
constexpr std::string_view fuzz_password = "fuzz";

void touch(const pki::certificate& cert) {
  // Accessors read fields the parser only decoded lazily.
  (void)cert.subject();
  (void)cert.issuer();
  (void)cert.subject_common_name();
  (void)cert.serial_hex();
  (void)cert.not_before();
  (void)cert.not_after();
  (void)cert.is_self_signed();
  (void)cert.is_ca();
  (void)cert.public_key_bits();
  (void)cert.sha256_fingerprint();
}

/// A mutated PKCS#12 almost never keeps a valid MAC, which would keep the fuzzer out of
/// everything behind it. So structurally sound files are MACed again (one iteration,
/// for speed) and parsed once more.
void exercise_behind_mac(std::string_view bytes) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(bytes.data());
  std::unique_ptr<PKCS12, pki::openssl_deleter<PKCS12_free>> p12(
      d2i_PKCS12(nullptr, &cursor, static_cast<long>(bytes.size())));
  if (!p12 || !PKCS12_mac_present(p12.get()) ||
      PKCS12_set_mac(p12.get(), fuzz_password.data(), static_cast<int>(fuzz_password.size()),
                     nullptr, 0, 1, EVP_sha256()) != 1) {
    pki::drain_openssl_errors();
    return;
  }
  unsigned char* der = nullptr;
  int size = i2d_PKCS12(p12.get(), &der);
  if (size <= 0) {
    pki::drain_openssl_errors();
    return;
  }
  std::string remaced(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  if (auto contents = pki::parse_pkcs12(remaced, fuzz_password)) {
    touch(contents->cert);
    for (const auto& link : contents->chain)
      touch(link);
  }
}

void exercise(std::string_view bytes) {
  if (auto cert = pki::certificate::from_pem(bytes))
    touch(*cert);
  if (auto cert = pki::certificate::from_der(bytes))
    touch(*cert);
  if (auto csr = pki::parse_csr(bytes))
    (void)csr->public_key.to_pem();
  if (auto contents = pki::parse_pkcs12(bytes, fuzz_password))
    touch(contents->cert);
  exercise_behind_mac(bytes);
  if (auto certs = pki::load_certificates(bytes))
    for (const auto& cert : *certs)
      touch(cert);
  (void)pki::parse_subject_alt_name(bytes);
  pki::drain_openssl_errors();
}

random_source seeded(std::uint64_t seed) {
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine](std::span<std::byte> out) {
    for (auto& byte : out)
      byte = static_cast<std::byte>((*engine)() & 0xff);
  };
}

std::string der_of_pem(const std::string& pem, bool request) {
  auto bio = pki::read_only_bio(pem.data(), pem.size());
  unsigned char* der = nullptr;
  int size = -1;
  if (request) {
    X509_REQ* value = PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr);
    size = value ? i2d_X509_REQ(value, &der) : -1;
    X509_REQ_free(value);
  } else {
    PKCS7* value = PEM_read_bio_PKCS7(bio.get(), nullptr, nullptr, nullptr);
    size = value ? i2d_PKCS7(value, &der) : -1;
    PKCS7_free(value);
  }
  if (size <= 0)
    return {};
  std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return bytes;
}

/// Valid inputs of every format, made fresh so the corpus follows the code. RSA-1024
/// keeps the inputs small, which makes mutations more likely to hit structure.
std::vector<std::string> make_corpus() {
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
  auto ca_key = pki::private_key::generate_rsa(1024);
  auto leaf_key = pki::private_key::generate_rsa(1024);
  if (!ca_key || !leaf_key)
    return {};
  auto ca = pki::certificate_builder{}
                .subject_attribute("O", "Ward")
                .subject_attribute("CN", "ward-root-fuzz")
                .validity(now, now + std::chrono::days(3650))
                .random_serial(seeded(1))
                .extension(NID_basic_constraints, "critical,CA:TRUE")
                .extension(NID_key_usage, "digitalSignature,keyCertSign")
                .extension(NID_subject_key_identifier, "hash")
                .subject_alt_names({{pki::subject_alt_name::kind::uri, "ward-root-fuzz"}})
                .self_sign(*ca_key);
  if (!ca)
    return {};
  auto leaf = pki::certificate_builder{}
                  .subject_attribute("CN", "node.fuzz")
                  .validity(now, now + std::chrono::days(730))
                  .serial_hex("1F")
                  .extension(NID_basic_constraints, "critical,CA:FALSE")
                  .extension(NID_ext_key_usage, "serverAuth,clientAuth")
                  .subject_alt_names({{pki::subject_alt_name::kind::dns, "node.fuzz"},
                                      {pki::subject_alt_name::kind::ip, "192.0.2.1"},
                                      {pki::subject_alt_name::kind::email, "a@fuzz"}})
                  .sign(*leaf_key, *ca, *ca_key);
  if (!leaf)
    return {};
  std::vector<std::string> corpus;
  auto add = [&](std::expected<std::string, pki::error> bytes) {
    if (bytes && !bytes->empty())
      corpus.push_back(std::move(*bytes));
  };
  add(ca->to_pem());
  add(ca->to_der());
  add(leaf->to_der());
  add(*leaf->to_pem() + *ca->to_pem());
  auto csr = pki::make_csr(*leaf_key, "node.fuzz");
  add(csr);
  if (csr)
    add(der_of_pem(*csr, true));
  add(pki::make_pkcs12(*leaf_key, *leaf, {*ca}, fuzz_password, "node.fuzz"));
  auto p7 = pki::make_pkcs7_chain({*leaf, *ca});
  add(p7);
  if (p7)
    add(der_of_pem(*p7, false));
  add(std::string("DNS:node.fuzz"));
  return corpus;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  exercise(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifdef WARD_LIBFUZZER
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* directory = std::getenv("WARD_FUZZ_WRITE_CORPUS");
  if (!directory)
    return 0;
  std::filesystem::create_directories(directory);
  auto corpus = make_corpus();
  for (std::size_t i = 0; i < corpus.size(); ++i)
    std::ofstream(std::filesystem::path(directory) / ("seed-" + std::to_string(i)),
                  std::ios::binary)
        << corpus[i];
  std::printf("wrote %zu seed inputs to %s\n", corpus.size(), directory);
  std::exit(corpus.empty() ? 1 : 0);
}
#endif

#ifdef WARD_FUZZ_STANDALONE
#include "tests/fuzz/standalone_driver.hpp"
#endif
