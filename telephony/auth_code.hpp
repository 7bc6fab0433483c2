#pragma once

#include "core/random.hpp"
#include "core/typed_error.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ward::telephony {

/// Whose rights an authorization code grants (SPEC TF-5).
enum class auth_code_owner_kind : std::uint8_t { user, rights_template };

/// An authorization code as it is kept: never the digits, only a keyed hash of them.
///
/// The hash is HMAC-SHA256 under the cluster's authorization-code key over a salt of its own
/// and the digits. A keyed hash rather than a slow one: the SIP worker checks a dialled code
/// against every stored one while it handles calls, in microseconds; guessing is bounded
/// online by the SIP guard (a wrong code counts like a wrong password) and offline by the
/// key, which is sealed with the directory and never leaves the cluster's stores.
struct auth_code_entry {
  auth_code_owner_kind kind = auth_code_owner_kind::user;
  /// The user or template name.
  std::string owner;
  /// 16 random bytes, hex.
  std::string salt;
  /// HMAC-SHA256(key, salt || digits), hex.
  std::string digest;
  bool operator==(const auth_code_entry&) const = default;
};

/// "user:alice" or "template:sales".
std::string owner_text(const auth_code_entry& entry);

enum class auth_code_errc : std::uint8_t { bad_code, bad_key };

std::string_view to_string(auth_code_errc code);

using auth_code_error = typed_error<auth_code_errc>;

inline constexpr std::size_t min_auth_code_digits = 4;
inline constexpr std::size_t max_auth_code_digits = 12;
inline constexpr std::size_t max_auth_codes = 1000;

/// 4 to 12 digits, not all the same digit and not a run (1234, 9876): the detail names why.
std::expected<void, auth_code_error> check_auth_code_digits(std::string_view digits);

/// 32 random bytes, hex: the key a cluster's codes are hashed under.
std::string make_auth_code_key(const random_source& random);

/// The entry that keeps `digits` for `owner`, with a fresh salt. bad_key when `key` is not
/// 64 hex digits.
std::expected<auth_code_entry, auth_code_error>
make_auth_code(auth_code_owner_kind kind, std::string owner, std::string_view digits,
               std::string_view key, const random_source& random);

/// The entry whose code `digits` is; every entry is compared in constant time, so how long it
/// takes does not tell how close a guess was.
const auth_code_entry* find_auth_code(std::span<const auth_code_entry> entries,
                                      std::string_view key, std::string_view digits);

} // namespace ward::telephony
