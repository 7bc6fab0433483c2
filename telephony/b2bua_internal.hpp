#pragma once

// The B2BUA's call state and the helpers its parts share: b2bua.cpp (the call table,
// dispatch and timers), b2bua_invite.cpp (starting a call), b2bua_dialogs.cpp (requests
// inside a dialog, the callee's responses), b2bua_messages.cpp (the requests and responses
// the B2BUA writes) and b2bua_media.cpp (offers, answers and the media policy of each leg).
// Internal to telephony/; everything else uses b2bua.hpp.

#include "telephony/b2bua.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ward::telephony::detail {

/// RFC 3261 64*T1: how long a transaction is retried, and how long an ended call's dialogs
/// are remembered so retransmissions are answered rather than refused.
inline constexpr auto transaction_lifetime = std::chrono::seconds(32);
/// RFC 3261 T2: the longest interval between retransmissions of a non-INVITE request.
inline constexpr std::chrono::milliseconds t2{4000};

/// A request this node sent over UDP and retransmits until it is answered (RFC 3261 17.1).
struct pending_request {
  sip_send send;
  std::string method;
  std::chrono::system_clock::time_point next{};
  std::chrono::milliseconds interval{};
  std::chrono::system_clock::time_point give_up{};
};

/// One call: its two dialogs and its media.
struct b2bua_call {
  using time_point = std::chrono::system_clock::time_point;
  using milliseconds = std::chrono::milliseconds;

  std::uint64_t id = 0;
  call_state state = call_state::calling;
  std::string caller;
  std::string callee;
  /// SPEC TF-9: the trunk the call leaves or arrives through; empty for internal calls.
  std::string trunk;
  bool from_trunk = false;
  /// Set by set_dial_details; empty = the INVITE's Request-URI user.
  std::string dialled_shown;
  bool account_code = false;
  /// SPEC TF-9: what the carrier's digest challenge is answered with, once per call.
  std::string b_username;
  std::string b_password;
  bool b_challenge_answered = false;
  /// The call is an emergency call: its INVITEs to the callee say so (Priority).
  bool b_emergency = false;
  time_point started{};
  time_point answered_at{};
  time_point ring_deadline{};
  time_point linger_until{};

  // Leg a: the caller's dialog, this node as UAS.
  sip_message invite;
  sip_endpoint a_peer;
  std::string a_tag;
  std::string a_contact;
  std::uint32_t a_cseq_out = 0;
  std::string a_last_response;
  int a_final_code = 0;
  bool a_acked = false;
  time_point a_resend_at{};
  milliseconds a_resend_interval{};
  time_point a_resend_until{};
  std::string a_sdp_id;
  std::uint64_t a_sdp_version = 1;
  std::string a_answer_sdp;

  // Leg b: the callee's dialog, this node as UAC.
  sip_endpoint b_peer;
  std::string b_call_id;
  std::string b_tag;
  std::string b_remote_tag;
  std::string b_request_uri;
  std::string b_remote_target;
  std::string b_from;
  std::string b_to;
  std::string b_branch;
  std::uint32_t b_invite_cseq = 1;
  std::uint32_t b_cseq_out = 1;
  bool b_responded = false;
  bool b_final = false;
  std::string b_ack;
  std::string b_offer_sdp;
  std::string b_sdp_id;
  std::uint64_t b_sdp_version = 1;
  bool cancel_sent = false;

  media_anchor::ports ports;
  bool media_held = false;
  // SPEC MED-1, MED-2: what each leg negotiated.
  media::transport_profile a_profile = media::transport_profile::rtp_avp;
  std::optional<media_anchor::leg_keys> a_keys;
  media::media_security b_policy = media::media_security::best_effort;
  media::offer_plan b_plan;
  std::vector<media::crypto_attribute> b_offered;
  std::optional<media_anchor::leg_keys> b_keys;
  /// SPEC MED-4: 2 when a leg may be SRTP, else 1; 0 for direct media.
  std::size_t media_units = 1;
  // SPEC MED-3: direct media. The caller's offer goes to the callee unchanged and the
  // callee's answer back; `a_offered` are the caller's usable a=crypto lines, which the
  // answer must pick from, and `direct_policy` the policy both phones share.
  bool direct = false;
  media::transport_profile a_offered_profile = media::transport_profile::rtp_avp;
  std::vector<media::crypto_attribute> a_offered;
  media::media_security direct_policy = media::media_security::best_effort;
  std::string direct_media = "rtp";
  /// Where each phone receives media, "address port": a re-INVITE that moves it cannot be
  /// followed by the other phone in a direct call.
  std::string a_media_endpoint;
  std::string b_media_endpoint;
  std::size_t stream = 0;
  std::vector<pending_request> outstanding;
  /// Why the callee's answer could not be bridged, for the caller (SPEC MED-1).
  std::string media_refusal;
};

// ---- messages (b2bua_messages.cpp) -------------------------------------------------------

std::string hex_token(const random_source& random, std::size_t bytes);
std::string decimal_token(const random_source& random);
/// The branch of a new client transaction (RFC 3261 8.1.1.7).
std::string new_branch(const random_source& random);
/// An address as a URI host: IPv6 in brackets.
std::string host_text(const std::string& address);
/// "ip:port" or "[v6]:port" back into an endpoint.
std::optional<sip_endpoint> parse_source(const std::string& source, transport kind);

/// A response to `request`, which came from `from`: the top Via gets received= and rport
/// from a socket's address; a line has none, so the far node's Via goes back as it came.
std::string response_to(const sip_message& request, const sip_endpoint& from, int code,
                        std::string_view reason,
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        std::string_view to_tag = {}, std::string_view content_type = {},
                        std::string_view body = {});

/// A request on the callee's leg as its INVITE set it up: the dialog's From, To (without the
/// callee's tag) and Call-ID, the INVITE's CSeq number; `via` names the transaction.
sip_request_fields callee_request(const b2bua_call& c, std::string method, std::string request_uri,
                                  std::string via);
/// The callee's To with the tag its answer gave, once there is one.
std::string callee_to(const b2bua_call& c);

// ---- media (b2bua_media.cpp) -------------------------------------------------------------

/// Whether the message carries an SDP body.
bool is_sdp(const sip_message& message);

/// The media line the call anchors: the first audio stream with a port, else the first
/// stream with a port.
std::optional<std::size_t> anchored_stream(const sdp_session& sdp);

/// Where a phone's media comes from: the SDP's address, unless the phone is behind NAT
/// (a private SDP address, signalling from another address), when it is the address its
/// signalling came from; the relay latches onto the port (symmetric RTP).
std::string media_address(const std::string& sdp_address, const sip_endpoint& signalling);

/// "address port": where a phone receives media, as a direct call remembers it.
std::string media_endpoint(const sdp_media& media);

/// A stream's profile and a=crypto values as the media policy reads them; the views point
/// into the sdp_media they were read from.
struct stream_media {
  media::transport_profile profile = media::transport_profile::rtp_avp;
  std::vector<std::string_view> crypto;
};

/// What start_call settles about a call's media before the call exists (SPEC MED-2..MED-4).
struct media_plan {
  /// The caller's offer on the anchored stream.
  stream_media caller;
  /// The answer to the caller under the caller's policy.
  media::answer_decision caller_answer;
  /// What the callee is offered under the callee's policy.
  media::offer_plan callee_plan;
  /// SPEC MED-3: the phones send media to each other, not through the relay.
  bool direct = false;
  /// SPEC MED-4: what the call costs the relay.
  std::size_t units = 1;
};

/// The media plan of a call whose caller offers `offered` (SPEC MED-2, MED-3), or the
/// warning of the 488 that refuses it.
std::expected<media_plan, std::string>
plan_media(const call_media_policy& policy, const call_target& target, const sdp_media& offered,
           const sip_endpoint& caller, const sip_endpoint& callee);

/// A direct call (SPEC MED-3): the caller's offer goes to the callee unchanged, and the
/// callee's answer must pick from the caller's usable keys.
void set_up_direct(b2bua_call& c, const media_plan& plan, const std::string& offer_body,
                   const call_media_policy& policy);

} // namespace ward::telephony::detail
