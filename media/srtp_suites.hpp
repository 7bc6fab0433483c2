#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

// libsrtp2's policy type, declared here so that SDP code using the table does not need
// libsrtp2's headers.
struct srtp_crypto_policy_t;

namespace ward::media {

/// The security services of one SRTP stream (SPEC MED-1). The defaults are what Ward offers:
/// RTCP encryption is off by default because several phones cannot decrypt SRTCP, while RTCP
/// authentication has no switch since SRTCP requires it (RFC 3711 section 3.4).
struct srtp_options {
  bool rtp_encryption = true;
  bool rtp_authentication = true;
  bool rtcp_encryption = false;
  bool operator==(const srtp_options&) const = default;
};

/// An SRTP crypto suite as negotiated by SDES (RFC 4568 section 6.2).
struct suite_info {
  /// The name in an a=crypto line.
  std::string_view name;
  std::size_t master_key_length;
  std::size_t master_salt_length;
  /// Authentication tag appended to an SRTP packet.
  std::size_t rtp_tag_length;
  /// Authentication tag appended to an SRTCP packet: 80 bits for every suite, as RFC 4568
  /// section 6.2 fixes it even for the _32 suite.
  std::size_t rtcp_tag_length;
  /// libsrtp2 policy for SRTP with encryption and authentication both on.
  void (*set_rtp_policy)(srtp_crypto_policy_t*);
  /// ...with encryption off (UNENCRYPTED_SRTP): null cipher, same authentication.
  void (*set_rtp_policy_unencrypted)(srtp_crypto_policy_t*);
  /// ...with authentication off (UNAUTHENTICATED_SRTP).
  void (*set_rtp_policy_unauthenticated)(srtp_crypto_policy_t*);
  /// libsrtp2 policy for SRTCP with encryption on, and off (UNENCRYPTED_SRTCP).
  void (*set_rtcp_policy)(srtp_crypto_policy_t*);
  void (*set_rtcp_policy_unencrypted)(srtp_crypto_policy_t*);

  std::size_t key_and_salt_length() const { return master_key_length + master_salt_length; }
};

/// Longest master key || salt of any suite in the table.
inline constexpr std::size_t max_key_and_salt_length = 30;

/// Every suite Ward supports, in the order Ward prefers and offers them.
std::span<const suite_info> all_suites();

/// The suite called `name` in SDP, or nullptr when Ward does not support it.
const suite_info* find_suite(std::string_view name);

/// Fills libsrtp2's RTP and RTCP crypto policies for `suite` with `options` applied. With
/// both RTP services off the RTP policy is null cipher and null authentication: callers that
/// negotiate keys refuse that combination, since it protects nothing.
void apply_policy(const suite_info& suite, const srtp_options& options, srtp_crypto_policy_t& rtp,
                  srtp_crypto_policy_t& rtcp);

} // namespace ward::media
