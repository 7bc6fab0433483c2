#pragma once

#include "core/enum_names.hpp"
#include "core/typed_error.hpp"

#include <string>
#include <string_view>

namespace ward::pki {

/// Why a PKI operation failed. Every parser and builder reports one of these instead of
/// crashing, whatever bytes it was handed.
enum class errc {
  /// The input is not in the format it claims to be (not PEM, not DER, truncated).
  wrong_format,
  /// A parameter is outside what Ward accepts (key size, validity, names).
  invalid_argument,
  /// A private key does not belong to the certificate it is paired with.
  key_mismatch,
  /// Reading or writing a file failed.
  io_error,
  /// OpenSSL refused an operation that should have worked.
  crypto_failure,
  /// A PKCS#12 password is wrong (or the file was altered: its MAC cannot tell the two
  /// apart).
  bad_password,
  /// A key is shorter than Ward accepts for this purpose (RSA-1024 without the legacy flag,
  /// a CA or node key below 2048 bits).
  weak_key,
  /// A digest is weaker than Ward accepts for this purpose (SHA-1 without the legacy flag).
  weak_hash,
  /// A signature does not verify (a CSR's self-signature, a link of a chain).
  bad_signature,
  /// A certificate offered as a signing certificate may not sign certificates.
  not_a_ca,
  /// A certificate is outside its validity period (expired or not yet valid).
  expired,
  /// A certificate's serial is on the CA's revocation list (SPEC PKI-12).
  revoked,
};

inline constexpr auto errc_names = name_table(
    enum_name{errc::wrong_format, "wrong_format"},
    enum_name{errc::invalid_argument, "invalid_argument"},
    enum_name{errc::key_mismatch, "key_mismatch"}, enum_name{errc::io_error, "io_error"},
    enum_name{errc::crypto_failure, "crypto_failure"},
    enum_name{errc::bad_password, "bad_password"}, enum_name{errc::weak_key, "weak_key"},
    enum_name{errc::weak_hash, "weak_hash"}, enum_name{errc::bad_signature, "bad_signature"},
    enum_name{errc::not_a_ca, "not_a_ca"}, enum_name{errc::expired, "expired"},
    enum_name{errc::revoked, "revoked"});

constexpr std::string_view to_string(errc code) {
  return name_of(errc_names, code);
}

using error = typed_error<errc>;

/// Drains OpenSSL's error queue into one line, so failures name OpenSSL's own reason and
/// the queue does not leak into the next operation.
std::string drain_openssl_errors();

/// An error carrying `what` plus whatever OpenSSL queued.
error openssl_failure(errc code, std::string_view what);

} // namespace ward::pki
