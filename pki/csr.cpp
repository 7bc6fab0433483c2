#include "pki/csr.hpp"

#include "pki/openssl_output.hpp"
#include "pki/openssl_ptr.hpp"
#include "pki/x509_name.hpp"

#include <openssl/pem.h>

namespace ward::pki {
namespace {

using x509_req_ptr = std::unique_ptr<X509_REQ, openssl_deleter<X509_REQ_free>>;

x509_req_ptr read_request(std::string_view bytes) {
  if (bytes.find("-----BEGIN") != std::string_view::npos) {
    auto bio = read_only_bio(bytes.data(), bytes.size());
    return x509_req_ptr(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr)
                            : nullptr);
  }
  auto* cursor = reinterpret_cast<const unsigned char*>(bytes.data());
  x509_req_ptr request(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(bytes.size())));
  // Trailing bytes mean the input is something else that merely starts like a request.
  if (request && cursor != reinterpret_cast<const unsigned char*>(bytes.data() + bytes.size()))
    return nullptr;
  return request;
}

} // namespace

std::expected<std::string, error> make_csr(const private_key& key, const std::string& common_name) {
  if (common_name.empty() || common_name.size() > 64)
    return std::unexpected(error{errc::invalid_argument, "common name must be 1 to 64 characters"});
  x509_req_ptr request(X509_REQ_new());
  if (!request || X509_REQ_set_version(request.get(), X509_REQ_VERSION_1) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot create request"));
  X509_NAME* name = X509_REQ_get_subject_name(request.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1)
    return std::unexpected(openssl_failure(errc::invalid_argument, "bad common name"));
  if (X509_REQ_set_pubkey(request.get(), key.native()) != 1 ||
      X509_REQ_sign(request.get(), key.native(), EVP_sha256()) <= 0)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot sign request"));
  auto pem = write_to_string(
      [&request](BIO* bio) { return PEM_write_bio_X509_REQ(bio, request.get()) == 1; });
  if (!pem)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot encode request"));
  return *pem;
}

std::expected<csr_info, error> parse_csr(std::string_view pem_or_der) {
  auto request = read_request(pem_or_der);
  if (!request)
    return std::unexpected(
        openssl_failure(errc::wrong_format, "not a PKCS#10 certificate signing request"));
  EVP_PKEY* key = X509_REQ_get0_pubkey(request.get());
  if (!key)
    return std::unexpected(
        openssl_failure(errc::wrong_format, "the request's public key cannot be read"));
  if (X509_REQ_verify(request.get(), key) != 1)
    return std::unexpected(openssl_failure(
        errc::bad_signature, "the request's signature does not match its public key"));
  if (EVP_PKEY_up_ref(key) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
  pki::public_key public_key(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
  const X509_NAME* subject = X509_REQ_get_subject_name(request.get());
  return csr_info{common_name_of(subject), name_to_string(subject), public_key, public_key.bits()};
}

} // namespace ward::pki
