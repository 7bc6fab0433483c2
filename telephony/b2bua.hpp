#pragma once

#include "core/random.hpp"
#include "media/media_policy.hpp"
#include "media/sdes.hpp"
#include "telephony/error.hpp"
#include "telephony/registrar.hpp"
#include "telephony/sdp.hpp"
#include "telephony/sip_message.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ward::telephony {

namespace detail {
struct b2bua_call;
} // namespace detail

/// Where a SIP message came from or goes to: a socket peer, or a node over a cluster line.
struct sip_endpoint {
  transport kind = transport::udp;
  /// Numeric IP address (IPv6 without brackets); empty for lines.
  std::string address;
  std::uint16_t port = 0;
  /// The node at the other end of a line; empty for sockets.
  std::string node;
  bool operator==(const sip_endpoint&) const = default;
};

/// "ip:port" with IPv6 in brackets, as bindings record their source.
std::string endpoint_text(const sip_endpoint& endpoint);

/// One message the B2BUA wants sent.
struct sip_send {
  sip_endpoint to;
  std::string text;
};

/// The media anchor of a call (SPEC MED-3): two relay legs, `a` towards the caller and `b`
/// towards the callee. The node implements it over its RTP relay; tests with a fake.
class media_anchor {
public:
  struct ports {
    std::uint64_t id = 0;
    std::uint16_t port_a = 0;
    std::uint16_t port_b = 0;
  };
  virtual ~media_anchor() = default;
  /// The address the relay listens on, for the SDP the B2BUA writes.
  virtual std::string address() const = 0;
  /// Ports for a new call, or `errc::media_unavailable` when the relay has none left.
  virtual std::expected<ports, error> allocate() = 0;
  /// Where the peer of leg a (`caller` true) or leg b receives media.
  virtual void set_peer(std::uint64_t id, bool caller, const std::string& address,
                        std::uint16_t port) = 0;
  virtual void release(std::uint64_t id) = 0;
  /// The SRTP keys of one leg (SPEC MED-1, MED-3): `inbound` unprotects what the leg's phone
  /// sends, `outbound` protects what the node sends it. Without keys the leg is plain RTP.
  struct leg_keys {
    media::crypto_attribute inbound;
    media::crypto_attribute outbound;
    bool operator==(const leg_keys&) const = default;
  };
  virtual void set_crypto(std::uint64_t id, bool caller, const std::optional<leg_keys>& keys) = 0;
};

/// The media security each leg of a call must meet (SPEC MED-2), from the system setting
/// with its per-extension and per-line overrides.
struct call_media_policy {
  media::media_security caller = media::media_security::best_effort;
  media::media_security callee = media::media_security::best_effort;
  /// Emergency calls take whatever media works (SPEC MED-2).
  bool emergency = false;
  /// SPEC MED-3: the node lets this call's media flow between the phones rather than through
  /// its relay: direct media is switched on, both phones are registered on this node, and
  /// neither is a remote worker. The B2BUA still decides per call from the offer, see
  /// start_call.
  bool direct_media = false;
  /// SPEC MED-1: the SRTP options of each leg, as its media security is chosen.
  media::srtp_profile caller_srtp;
  media::srtp_profile callee_srtp;
};

/// The carrier side of a call through a SIP trunk (SPEC TF-9).
struct trunk_leg {
  /// The trunk's name, for its channel count, the call record and the status.
  std::string name;
  /// The carrier's SIP server.
  sip_endpoint peer;
  /// sip:<number>@<carrier domain>, with ;transport= for TCP and TLS.
  std::string request_uri;
  /// The user part of the From the carrier sees: the presented number.
  std::string caller_id;
  /// Digest credentials the carrier may challenge the INVITE for; empty = none.
  std::string username;
  std::string password;
};

/// Where a dialled number goes (SPEC SIP-6, through the dial plan of SPEC TF-1).
struct call_target {
  /// The extension called, or the outside number for a trunk call.
  std::string extension;
  /// Set when the callee is registered on this node: its newest binding.
  std::optional<registration_binding> binding;
  /// Set when the callee is registered on another node: that node's name.
  std::string node;
  /// Set for an outside call: the trunk it leaves through.
  std::optional<trunk_leg> trunk;
};

/// The state of one call as the status API shows it (SPEC MON-5, MED-4).
enum class call_state : std::uint8_t { calling, ringing, answered, ended };

std::string_view to_string(call_state state);

struct call_view {
  std::uint64_t id = 0;
  std::string caller;
  std::string callee;
  call_state state = call_state::calling;
  /// How each leg reached this node: a transport, or "line:<node>".
  std::string caller_leg;
  std::string callee_leg;
  /// Media per leg: "srtp:<suite>" or "rtp".
  std::string caller_media = "rtp";
  std::string callee_media = "rtp";
  /// SPEC MED-3, MED-4: media flows directly between the phones (both legs), not through the
  /// node's relay; the relay ports are then 0.
  bool direct = false;
  /// The relay ports the caller's and the callee's phones send media to.
  std::uint16_t caller_relay_port = 0;
  std::uint16_t callee_relay_port = 0;
  std::chrono::system_clock::time_point started{};
  std::chrono::system_clock::time_point answered{};
  /// The trunk of a call to or from the outside (SPEC TF-9); empty for internal calls.
  std::string trunk;
  /// The call came in from `trunk` (rather than going out through it).
  bool from_trunk = false;
  /// What the caller dialled: the Request-URI user of its INVITE, or what the dial plan
  /// shows of it (an authorization code's digits never, SPEC TF-5).
  std::string dialled;
  /// SPEC TF-5: placed with an authorization code (the SMDR account code flag).
  bool account_code = false;
  /// The Call-ID of the caller's leg.
  std::string call_id;
};

/// How a call ended, for metrics and the call record (SPEC TF-8 will take these).
enum class call_end : std::uint8_t {
  completed,
  busy,
  unavailable,
  rejected,
  cancelled,
  no_answer,
  timeout,
  media_failure,
};

std::string_view to_string(call_end end);

struct b2bua_settings {
  /// This node's name: Via, Contact and the SDP origin name it.
  std::string node;
  /// The address and ports phones reach this node on, for Via and Contact.
  std::string address;
  std::uint16_t udp_port = 5060;
  std::uint16_t tcp_port = 5060;
  std::uint16_t tls_port = 5061;
  /// SPEC SIP-1: calls only from TLS with a sips Request-URI, and only to phones on TLS.
  bool strict_sips = false;
  /// How long the callee may ring before the call is given up (480 to the caller).
  std::chrono::seconds ring_timeout{120};
  /// RFC 3261 T1: the first retransmission interval over UDP.
  std::chrono::milliseconds t1{500};
  std::size_t max_calls = 10'000;
  /// SPEC MED-4: the media the node can relay, in units of one plain RTP call; a call with an
  /// SRTP leg costs two. Calls beyond it are refused with 503.
  std::size_t media_capacity = 10'000;
};

/// The B2BUA of one node (SPEC SIP-6): every call is two dialogs, the caller's (leg a, this
/// node as UAS) and the callee's (leg b, this node as UAC), with media anchored on the node.
/// Pure: messages come in parsed with where they came from, and go out as `sip_send`; time
/// and randomness are arguments. Not thread-safe: the SIP worker owns it.
class b2bua {
public:
  using time_point = std::chrono::system_clock::time_point;

  b2bua(b2bua_settings settings, media_anchor& media);
  ~b2bua();
  b2bua(const b2bua&) = delete;
  b2bua& operator=(const b2bua&) = delete;

  /// Starts a call for an INVITE outside any dialog whose caller is already authorized and
  /// whose target the dial plan chose. Answers the caller itself when the call cannot start
  /// (488 without a usable offer, 503 when full or without media ports).
  /// Each leg's media follows `policy`: SDES keys travel only on TLS or a line, and a leg
  /// that cannot meet Enforce ends the call with 488.
  /// Direct media (SPEC MED-3), when `policy.direct_media` allows it, only where it gives
  /// neither phone weaker media than the relay would, nor a call the relay would connect
  /// refused: both phones on TLS under the same policy with keys in the offer (under Best
  /// Effort an RTP/AVP offer with a=crypto, which a callee without SRTP can still take; under
  /// Enforce any), whose keys then go to the callee over TLS; or a plain RTP offer without
  /// keys to a callee that would not be offered SRTP.
  /// Phones behind NAT, calls across lines and emergency calls are always relayed. A direct
  /// call's answer must meet both phones' policies, or the call ends with 488.
  std::vector<sip_send> start_call(const sip_message& invite, const sip_endpoint& from,
                                   std::string caller, const call_target& target, time_point now,
                                   const random_source& random,
                                   const call_media_policy& policy = {});

  /// A message that may belong to a call: a retransmitted INVITE, an ACK, BYE or CANCEL from
  /// either side, a response to one of this node's requests. nullopt when it belongs to no
  /// call (the caller answers 481 to requests inside a dialog it does not know).
  std::optional<std::vector<sip_send>> handle(const sip_message& message, const sip_endpoint& from,
                                              time_point now, const random_source& random);

  /// Retransmissions over UDP and timeouts (ring, no answer, no ACK); every ~100 ms.
  std::vector<sip_send> tick(time_point now, const random_source& random);

  /// SPEC SIP-1: the policy can change while the node runs.
  void set_strict_sips(bool on) { settings_.strict_sips = on; }

  std::vector<call_view> calls() const;
  std::size_t active_calls() const;
  /// Calls not yet ended that use `trunk`, either way (SPEC TF-9 channel limit).
  std::size_t calls_on_trunk(std::string_view trunk) const;
  /// Marks a call as arriving from `trunk` (SPEC TF-9), once start_call accepted it: the
  /// call counts against the trunk's channels and its records name the trunk.
  void set_caller_trunk(std::string_view caller_call_id, std::string trunk);
  /// What the call's views and records show as dialled, and whether an authorization code
  /// placed it (SPEC TF-5).
  void set_dial_details(std::string_view caller_call_id, std::string shown, bool account_code);
  /// SPEC MED-4: media units in use and available (an SRTP call counts two).
  std::size_t media_units() const { return media_units_; }
  std::size_t media_capacity() const { return settings_.media_capacity; }
  /// SPEC MED-3: calls started with direct media since the node started.
  std::uint64_t direct_calls_started() const { return direct_calls_started_; }
  /// Calls ended since the last drain, with how they ended.
  std::vector<std::pair<call_view, call_end>> drain_ended();

private:
  using call = detail::b2bua_call;

  call* find_by_caller(const std::string& call_id);
  call* find_by_callee(const std::string& call_id);
  std::string via_for(const sip_endpoint& to, const std::string& branch) const;
  std::string contact_for(const sip_endpoint& to, bool sips) const;
  /// `warning`, when given, goes to the caller as a Warning header (RFC 3261 20.43, code
  /// 304 "media type not available") saying why its call has no media.
  std::string answer_caller(call& c, int code, std::string_view reason, bool with_sdp,
                            time_point now, std::string_view warning = {});
  /// The callee's SDP answer checked against the callee's policy, its media address and
  /// keys given to the relay, and the answer for the caller; nullopt when it cannot be used.
  std::optional<std::string> bridge_answer(call& c, const sip_message& response);
  std::vector<sip_send> on_callee_response(call& c, const sip_message& response, time_point now,
                                           const random_source& random);
  std::vector<sip_send> on_request_in_dialog(call& c, bool from_caller, const sip_message& request,
                                             const sip_endpoint& from, time_point now,
                                             const random_source& random);
  sip_send bye_to(call& c, bool to_caller, const random_source& random);
  sip_send cancel_callee(call& c, time_point now);
  /// The caller's offer rewritten for the callee's leg: the relay's address and port b, the
  /// node's own keys under the callee's plan; nullopt when it cannot be rewritten.
  std::optional<std::string> anchored_offer(const call& c, const std::string& body,
                                            const sdp_session& offer) const;
  /// The callee's answer in a direct call, checked against the policy both phones share;
  /// the body goes to the caller unchanged. nullopt when it cannot be used.
  std::optional<std::string> direct_answer(call& c, const sip_message& response);
  /// The INVITE of leg b as it stands (CSeq, branch, offer), with `authorization` (a
  /// header name and value answering the callee's challenge) when given.
  std::string
  callee_invite(const call& c,
                const std::optional<std::pair<std::string, std::string>>& authorization) const;
  /// A carrier's 401/407 to a trunk call answered once with the trunk's credentials
  /// (SPEC TF-9): the INVITE again with a new CSeq and branch. nullopt when it cannot be.
  std::optional<sip_send> answer_callee_challenge(call& c, const sip_message& response,
                                                  time_point now, const random_source& random);
  /// The ACK for the callee's final answer: to `request_uri` in the transaction `branch`.
  std::string ack_callee(const call& c, const std::string& request_uri,
                         const std::string& branch) const;
  void finish(call& c, call_end end, time_point now);
  call_view view_of(const call& c) const;
  /// Keeps a request sent over UDP for retransmission until it is answered.
  void track(call& c, const sip_send& send, const std::string& method, time_point now);

  b2bua_settings settings_;
  media_anchor& media_;
  std::uint64_t next_id_ = 1;
  std::size_t active_ = 0;
  std::size_t media_units_ = 0;
  std::uint64_t direct_calls_started_ = 0;
  std::map<std::uint64_t, std::unique_ptr<call>> calls_;
  std::unordered_map<std::string, std::uint64_t> by_caller_;
  std::unordered_map<std::string, std::uint64_t> by_callee_;
  std::vector<std::pair<call_view, call_end>> ended_;
  /// Calls up per trunk, kept as calls start and finish: the channel limit is checked on
  /// every outside call, and the calls map also holds ended calls for 32 s.
  std::map<std::string, std::size_t, std::less<>> trunk_calls_;
};

} // namespace ward::telephony
