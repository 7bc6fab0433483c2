#pragma once

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
};

constexpr std::string_view to_string(errc code) {
  switch (code) {
    case errc::wrong_format:
      return "wrong_format";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::key_mismatch:
      return "key_mismatch";
    case errc::io_error:
      return "io_error";
    case errc::crypto_failure:
      return "crypto_failure";
  }
  return "unknown";
}

struct error {
  errc code;
  std::string detail;
};

/// Drains OpenSSL's error queue into one line, so failures name OpenSSL's own reason and
/// the queue does not leak into the next operation.
std::string drain_openssl_errors();

/// An error carrying `what` plus whatever OpenSSL queued.
error openssl_failure(errc code, std::string_view what);

} // namespace ward::pki
