#pragma once

#include "media/sdes.hpp"
#include "media/srtp_profile.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ward::media {

/// Media security of a leg (SPEC MED-2), set per system with per-line and per-extension
/// override.
enum class media_security : std::uint8_t {
  /// RTP only: SRTP is neither offered nor accepted.
  disabled,
  /// SRTP and RTP are offered, SRTP preferred; either is accepted.
  best_effort,
  /// RTP is refused on the leg (488), except for emergency calls.
  enforce,
};

std::string_view to_string(media_security security);
std::optional<media_security> parse_media_security(std::string_view text);

/// The transport protocol of an m= line.
enum class transport_profile : std::uint8_t { rtp_avp, rtp_avpf, rtp_savp, rtp_savpf };

/// "RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF".
std::string_view to_string(transport_profile profile);
std::optional<transport_profile> parse_transport_profile(std::string_view text);
bool is_secure(transport_profile profile);

/// What flows on a leg once negotiated.
enum class media_transport : std::uint8_t { rtp, srtp };

std::string_view to_string(media_transport transport);

/// How Ward offers media on a leg. Best Effort's double offer uses the representation most
/// phones and SBCs understand: an RTP/AVP m= line carrying a=crypto lines. The far end answers
/// with a=crypto to select SRTP or without to stay on RTP. RFC 5939 capability negotiation
/// (a=tcap/a=pcfg) is not generated: few phones implement it, and those that do also accept
/// the AVP-with-crypto form.
struct offer_plan {
  transport_profile profile = transport_profile::rtp_avp;
  /// Whether the m= line carries a=crypto lines (one per suite of the table, tags 1, 2...,
  /// see make_offer_crypto).
  bool include_crypto = false;
  /// Enforce was waived because the call is an emergency call.
  bool emergency_exception = false;
  bool operator==(const offer_plan&) const = default;
};

/// Why a leg cannot have media that meets its policy.
enum class refusal_reason : std::uint8_t {
  /// Enforce, and the far end offered RTP only.
  srtp_required,
  /// Enforce, or an SRTP-only offer, over signalling that is neither TLS nor a line: SDES keys
  /// would travel in clear text.
  insecure_signalling,
  /// The far end offered SRTP only, and Ward does not do SRTP on this leg (Disabled).
  srtp_not_allowed,
  /// The far end offered SRTP only with no a=crypto line Ward can use.
  no_acceptable_crypto,
};

std::string_view to_string(refusal_reason reason);

/// A refused offer: the SIP status to answer with (488 Not Acceptable Here) and why.
struct refusal {
  int sip_status = 488;
  refusal_reason reason = refusal_reason::srtp_required;
  bool operator==(const refusal&) const = default;
};

/// The offer of a leg under `policy`. SDES keys are offered only when `signalling_secure`
/// (TLS or a line). Enforce over insecure signalling cannot be met: refused unless
/// `emergency`, which falls back to RTP. An emergency call under Enforce over secure
/// signalling offers Best Effort so that a far end without SRTP still connects.
std::expected<offer_plan, refusal> offer_for(media_security policy, bool signalling_secure,
                                             bool emergency = false);

/// The a=crypto attributes of an offer: every suite of the table in preference order, tags
/// from 1, each with a fresh key from `random`.
std::vector<crypto_attribute> make_offer_crypto(const srtp_options& options,
                                                const random_source& random);

/// The far end's media description as the SDP layer hands it over: the m= line profile and
/// its a=crypto values.
struct received_offer {
  transport_profile profile = transport_profile::rtp_avp;
  std::span<const std::string_view> crypto_lines;
};

/// The answer to a received offer.
struct answer_decision {
  media_transport transport = media_transport::rtp;
  /// The profile of the answer's m= line: the offer's, as RFC 3264 requires.
  transport_profile profile = transport_profile::rtp_avp;
  /// The far end's a=crypto line Ward takes (its key protects what Ward receives). The answer
  /// carries the same tag, suite and session parameters with Ward's own key.
  std::optional<crypto_attribute> accepted;
  /// a=crypto lines passed over: unknown suites, unsupported parameters, an MKI, no RTP
  /// protection at all, or malformed. For logs.
  std::uint32_t skipped_crypto_lines = 0;
  /// Enforce was waived because the call is an emergency call.
  bool emergency_exception = false;
};

/// Answers `offer` under `policy` and the leg's SRTP options `profile` (SPEC MED-1, MED-2):
/// only a=crypto lines that give at least the protection `profile` asks for are taken. An RTP/AVP
/// offer with a=crypto is a double offer: SRTP is taken when the policy and signalling allow it,
/// else RTP. An SRTP profile can only be answered with SRTP. The first usable a=crypto line in the
/// offer's order wins, per RFC 4568's offerer preference. Emergency calls take whatever media
/// works: RTP when Enforce cannot be met, and SRTP under Disabled when the far end offers only SRTP
/// and signalling is secure.
std::expected<answer_decision, refusal> answer_for(media_security policy,
                                                   const received_offer& offer, bool emergency,
                                                   bool signalling_secure,
                                                   const srtp_profile& profile = {});

/// Checks the far end's answer to Ward's offer `plan` with the a=crypto attributes `offered`.
/// SRTP is in use when the answer carries exactly one a=crypto line naming an offered tag with
/// the same suite and session parameters; its key protects what Ward receives. An answer
/// without a=crypto means RTP, which Enforce refuses (unless the plan waived Enforce for an
/// emergency call) and which an SRTP profile cannot carry. Any other a=crypto content is
/// refused: a far end that garbles keys must not silently fall back to RTP. Refusals here end
/// the call rather than answer it; sip_status stays 488 for the log.
std::expected<answer_decision, refusal> accept_answer(media_security policy, const offer_plan& plan,
                                                      std::span<const crypto_attribute> offered,
                                                      const received_offer& answer);

/// The a=crypto attribute of Ward's answer to `accepted`: same tag, suite and session
/// parameters, a fresh key from `random`.
crypto_attribute make_answer_crypto(const crypto_attribute& accepted, const random_source& random);

} // namespace ward::media
