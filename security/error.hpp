#pragma once

#include "core/enum_names.hpp"
#include "core/typed_error.hpp"

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

inline constexpr auto errc_names = name_table(enum_name{errc::damaged_key, "damaged_key"},
                                              enum_name{errc::storage_failure, "storage_failure"},
                                              enum_name{errc::unsealing_failed, "unsealing_failed"},
                                              enum_name{errc::damaged_record, "damaged_record"},
                                              enum_name{errc::encoding_failed, "encoding_failed"},
                                              enum_name{errc::hashing_failed, "hashing_failed"});

constexpr std::string_view to_string(errc code) {
  return name_of(errc_names, code);
}

using error = typed_error<errc>;

} // namespace ward::security
