#pragma once

#include "core/random.hpp"
#include "media/srtp_suites.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ward::media {

/// Why an a=crypto line was not taken. Lines that are well formed but ask for something Ward
/// does not do are skipped, as RFC 4568 section 7.1.2 has an answerer skip them; malformed
/// lines are refused.
enum class sdes_errc : std::uint8_t {
  // Skipped: well formed, not supported.
  /// A suite missing from the suite table (AES_256_CM_..., F8, AEAD).
  unknown_suite,
  /// Several keys, KDR other than 0, FEC_KEY, or a session parameter Ward does not know.
  unsupported_parameter,
  // Refused: malformed.
  /// Longer than max_crypto_line_length.
  too_long,
  /// Not "crypto:" followed by tag, suite and key parameters.
  bad_syntax,
  /// The tag is not 1 to 9 digits.
  bad_tag,
  /// The key method is not "inline:".
  bad_key_method,
  /// The key is not base64.
  bad_base64,
  /// The key is not the suite's master key plus salt length.
  bad_key_length,
  /// The lifetime is neither a decimal nor 2^n, is 0, or exceeds SRTP's 2^48 packets.
  bad_lifetime,
  /// The MKI is not value:length with a length of 1 to 128 that holds the value.
  bad_mki,
  /// A known session parameter with a bad value, or given twice.
  bad_session_parameter,
};

std::string_view to_string(sdes_errc code);

/// True for the codes that mean "skip this line", false for malformed lines.
bool is_unsupported(sdes_errc code);

struct sdes_error {
  sdes_errc code;
};

/// The longest a=crypto value Ward reads: real lines are under 200 bytes.
inline constexpr std::size_t max_crypto_line_length = 1024;

/// A master key identifier (RFC 3711 section 3.1).
struct mki_parameter {
  std::uint64_t value = 0;
  /// Bytes the MKI takes in each packet, 1 to 128.
  std::uint32_t length = 0;
  bool operator==(const mki_parameter&) const = default;
};

/// One a=crypto attribute (RFC 4568 section 9.1) for a suite of the table.
struct crypto_attribute {
  std::uint32_t tag = 1;
  const suite_info* suite = nullptr;
  /// Master key then master salt; the first suite->key_and_salt_length() bytes are used.
  std::array<std::byte, max_key_and_salt_length> key_and_salt{};
  /// Packets the key may protect; absent means SRTP's maximum.
  std::optional<std::uint64_t> lifetime;
  /// Ward's sessions use no MKI, so an answerer skips lines that carry one.
  std::optional<mki_parameter> mki;
  /// RTCP encryption is on unless UNENCRYPTED_SRTCP says otherwise (RFC 4568 section 6.3.2),
  /// so a parsed line can differ from srtp_options' defaults.
  srtp_options options{.rtp_encryption = true, .rtp_authentication = true, .rtcp_encryption = true};
  /// WSH: the replay window the sender asks for, at least 64.
  std::optional<std::uint32_t> window_size_hint;

  std::span<const std::byte> key() const {
    return {key_and_salt.data(), suite != nullptr ? suite->key_and_salt_length() : 0};
  }
  bool operator==(const crypto_attribute&) const = default;
};

/// Parses an a=crypto value; "a=crypto:" or "crypto:" in front of it and a trailing CRLF are
/// accepted. Bounded by max_crypto_line_length.
std::expected<crypto_attribute, sdes_error> parse_crypto(std::string_view line);

/// The value of an a=crypto line for `attribute` (without "a=crypto:"), with the session
/// parameters that turn off what `attribute.options` turns off.
std::string format_crypto(const crypto_attribute& attribute);

/// A new attribute for `suite` with a fresh master key and salt from `random`, which must be
/// a CSPRNG outside tests.
crypto_attribute make_crypto(std::uint32_t tag, const suite_info& suite,
                             const srtp_options& options, const random_source& random);

/// Standard base64 with padding, as RFC 4568 inline keys use it.
std::string base64_encode(std::span<const std::byte> data);

} // namespace ward::media
