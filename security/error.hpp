#pragma once

#include <string>
#include <string_view>

namespace ward::security {

/// Why the security library's own machinery failed: the sealed stores, the record codecs
/// and password hashing. The outcome of an administrative operation is a `security_error`
/// instead (security_database.hpp), which maps one-to-one onto gRPC codes and may carry one
/// of these as its message. Callers decide on the code; `detail` is for people and never
/// decides anything.
enum class errc {
  /// The node key file exists but is not a key (wrong size).
  damaged_key,
  /// The underlying store could not be read, written or synced; nothing changed.
  storage_failure,
  /// A sealed record is truncated, was not sealed by Ward, or fails authentication
  /// (tampered with, moved to another name, or sealed under another key).
  unsealing_failed,
  /// A stored record does not decode (damaged, or an unknown format version).
  damaged_record,
  /// A record cannot be encoded (the CA's material cannot be exported).
  encoding_failed,
  /// Argon2id could not run: libsodium did not initialise, or the memory cost could not
  /// be allocated.
  hashing_failed,
};

constexpr std::string_view to_string(errc code) {
  switch (code) {
    case errc::damaged_key:
      return "damaged_key";
    case errc::storage_failure:
      return "storage_failure";
    case errc::unsealing_failed:
      return "unsealing_failed";
    case errc::damaged_record:
      return "damaged_record";
    case errc::encoding_failed:
      return "encoding_failed";
    case errc::hashing_failed:
      return "hashing_failed";
  }
  return "unknown";
}

struct error {
  errc code;
  std::string detail;
};

} // namespace ward::security
