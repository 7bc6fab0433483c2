#include "telephony/auth_code.hpp"

#include "core/enum_names.hpp"
#include "core/hex.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <vector>

namespace ward::telephony {
namespace {

constexpr auto errc_names = name_table(enum_name{auth_code_errc::bad_code, "bad_code"},
                                       enum_name{auth_code_errc::bad_key, "bad_key"});

/// `hex` decoded, or nothing when it is not whole bytes of hex.
std::optional<std::vector<unsigned char>> bytes_of(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  std::vector<unsigned char> out(hex.size() / 2);
  if (!from_hex(hex, out))
    return std::nullopt;
  return out;
}

/// HMAC-SHA256(key, salt || digits); empty when the key or salt do not decode.
std::optional<std::array<unsigned char, 32>>
digest_of(std::string_view key_hex, std::string_view salt_hex, std::string_view digits) {
  auto key = bytes_of(key_hex);
  auto salt = bytes_of(salt_hex);
  if (!key || key->size() != 32 || !salt)
    return std::nullopt;
  std::vector<unsigned char> message(salt->begin(), salt->end());
  message.insert(message.end(), digits.begin(), digits.end());
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()), message.data(), message.size(),
           out.data(), &length) == nullptr ||
      length != out.size())
    return std::nullopt;
  return out;
}

std::unexpected<auth_code_error> fail(auth_code_errc code, std::string detail) {
  return std::unexpected(auth_code_error{code, std::move(detail)});
}

} // namespace

std::string_view to_string(auth_code_errc code) {
  return name_of(errc_names, code);
}

std::string owner_text(const auth_code_entry& entry) {
  return (entry.kind == auth_code_owner_kind::user ? "user:" : "template:") + entry.owner;
}

std::expected<void, auth_code_error> check_auth_code_digits(std::string_view digits) {
  if (digits.size() < min_auth_code_digits || digits.size() > max_auth_code_digits ||
      !std::ranges::all_of(digits, [](char c) { return c >= '0' && c <= '9'; }))
    return fail(auth_code_errc::bad_code, "code: 4 to 12 digits");
  const bool same = std::ranges::all_of(digits, [&](char c) { return c == digits.front(); });
  bool rising = true, falling = true;
  for (std::size_t i = 1; i < digits.size(); ++i) {
    rising = rising && digits[i] == digits[i - 1] + 1;
    falling = falling && digits[i] == digits[i - 1] - 1;
  }
  if (same || rising || falling)
    return fail(auth_code_errc::bad_code,
                "code: a repeated digit or a run of digits is the first thing tried");
  return {};
}

std::string make_auth_code_key(const random_source& random) {
  std::array<std::byte, 32> key{};
  random(key);
  return to_hex(std::span<const std::byte>(key));
}

std::expected<auth_code_entry, auth_code_error>
make_auth_code(auth_code_owner_kind kind, std::string owner, std::string_view digits,
               std::string_view key, const random_source& random) {
  if (auto checked = check_auth_code_digits(digits); !checked)
    return std::unexpected(checked.error());
  std::array<std::byte, 16> salt_bytes{};
  random(salt_bytes);
  auto salt = to_hex(std::span<const std::byte>(salt_bytes));
  auto digest = digest_of(key, salt, digits);
  if (!digest)
    return fail(auth_code_errc::bad_key, "the authorization-code key is not 32 bytes of hex");
  return auth_code_entry{kind, std::move(owner), std::move(salt), to_hex(*digest)};
}

const auth_code_entry* find_auth_code(std::span<const auth_code_entry> entries,
                                      std::string_view key, std::string_view digits) {
  const auth_code_entry* found = nullptr;
  for (const auto& entry : entries) {
    auto digest = digest_of(key, entry.salt, digits);
    auto stored = bytes_of(entry.digest);
    if (!digest || !stored || stored->size() != digest->size())
      continue;
    if (CRYPTO_memcmp(digest->data(), stored->data(), digest->size()) == 0 && !found)
      found = &entry;
  }
  return found;
}

} // namespace ward::telephony
