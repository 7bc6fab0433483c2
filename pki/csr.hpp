#pragma once

#include "pki/certificate_builder.hpp"
#include "pki/error.hpp"
#include "pki/private_key.hpp"

#include <expected>
#include <string>
#include <string_view>

namespace ward::pki {

/// What Ward takes from a PKCS#10 certificate signing request. Requested extensions are
/// deliberately absent: the CA decides a certificate's content, the requester only proves
/// that it holds the key (SPEC PKI-5).
struct csr_info {
  /// The subject's common name, empty when it has none.
  std::string common_name;
  /// The whole subject as a one-line RFC 2253 string.
  std::string subject;
  pki::public_key public_key;
  int key_bits = 0;
};

/// A PKCS#10 request for `key` with subject CN = `common_name` (1 to 64 characters),
/// self-signed with SHA-256, as PEM. The private key stays where it is (SPEC PKI-5).
std::expected<std::string, error> make_csr(const private_key& key, const std::string& common_name);

/// Parses a PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER request and
/// verifies its self-signature: errc::wrong_format for bytes that are no request,
/// errc::bad_signature when the signature does not match the key it carries.
std::expected<csr_info, error> parse_csr(std::string_view pem_or_der);

} // namespace ward::pki
