#pragma once

#include "core/typed_error.hpp"
#include "media/sdes.hpp"
#include "media/srtp_suites.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace ward::media {

/// The RTP authentication an SRTP leg uses (SPEC MED-1): the HMAC-SHA1 tag length, or none
/// (UNAUTHENTICATED_SRTP). SRTCP is always authenticated with an 80-bit tag.
enum class rtp_authentication : std::uint8_t { hmac_sha1_80, hmac_sha1_32, off };

/// The SRTP options of a leg (SPEC MED-1), set per system with per-line and per-extension
/// override like the media security level. Ward offers exactly this first, and the same with
/// the other SRTCP encryption as a further a=crypto line, because phones differ in which
/// they take; what a far end offers is answered only when it gives at least this protection.
struct srtp_profile {
  bool rtp_encryption = true;
  rtp_authentication authentication = rtp_authentication::hmac_sha1_80;
  /// Off by default: several phones cannot decrypt SRTCP.
  bool rtcp_encryption = false;
  bool operator==(const srtp_profile&) const = default;
};

/// Why a text is not SRTP options.
enum class srtp_profile_errc : std::uint8_t {
  /// No key at all.
  empty,
  /// An item that is not key=value.
  not_key_value,
  unknown_key,
  repeated_key,
  bad_value,
  /// RTP encryption and authentication both off.
  protects_nothing,
};

std::string_view to_string(srtp_profile_errc code);

using srtp_profile_error = typed_error<srtp_profile_errc>;

/// "rtp_encryption=on,rtp_authentication=80,rtcp_encryption=off": every key, in this order.
std::string to_string(const srtp_profile& profile);

/// Reads "key=value" pairs separated by commas (keys rtp_encryption on|off,
/// rtp_authentication 80|32|off, rtcp_encryption on|off), each key at most once, applied to
/// `base`: keys left out keep base's value. Refuses unknown keys or values, and a profile
/// with neither RTP encryption nor authentication (it would protect nothing). The error's
/// detail names what is wrong.
std::expected<srtp_profile, srtp_profile_error> parse_srtp_profile(std::string_view text,
                                                                   const srtp_profile& base = {});

/// The suite a profile uses: HMAC_SHA1_32 for 32-bit tags, HMAC_SHA1_80 otherwise.
const suite_info& suite_of(const srtp_profile& profile);

/// Ward's a=crypto lines for a leg under `profile`: tag 1 exactly as configured, tag 2 the
/// same with the other SRTCP encryption; fresh keys from `random`.
std::vector<crypto_attribute> make_profile_offer(const srtp_profile& profile,
                                                 const random_source& random);

/// Whether a far end's a=crypto line gives at least the protection `profile` asks for: RTP
/// encryption when it is on, RTP authentication unless it is off, an 80-bit tag when 80 is
/// asked, SRTCP encryption when it is on.
bool satisfies(const crypto_attribute& attribute, const srtp_profile& profile);

} // namespace ward::media
