#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

/// Largest SDP body accepted. Real offers are under 2 KiB (an audio+video WebRTC offer with
/// ICE candidates stays under 8 KiB); the bound caps the parser's allocations.
inline constexpr std::size_t max_sdp_size = 16 * 1024;

/// Most m= lines in one body. A call needs one or two streams; the B2BUA allocates a relay
/// port pair per m= line, so the bound also caps what one offer can make the node reserve.
inline constexpr std::size_t max_sdp_media = 16;

/// Why an SDP body was refused. The B2BUA answers a refused offer with 488 Not Acceptable
/// Here; the detail (line number and reason, never the peer's text) is for people, never parsed.
enum class sdp_errc : std::uint8_t {
  /// Nothing but line breaks.
  empty,
  /// Larger than max_sdp_size, or a rewrite that would grow beyond it.
  too_large,
  /// A line that is not "x=value" with x a lowercase letter, a NUL or lone CR inside a line,
  /// an empty line before the end, a type letter RFC 4566 does not define (section 5: such a
  /// description must be ignored as a whole), or a session-only type (s, t, r, z, u, e, p)
  /// inside a media section.
  bad_line,
  /// v= missing, not the first line, repeated, or not exactly "v=0".
  bad_version,
  /// o= missing, not the second line, repeated, or not "<user> <digits> <digits> IN IP4|IP6
  /// <address>"; or a rewrite's origin user or session id that would render a bad o= line.
  bad_origin,
  /// c= not "IN IP4|IP6 <numeric address>" of the family it names, given twice in one
  /// section, multicast or with a TTL/address count; or a rewrite address that is not a
  /// numeric unicast address.
  bad_connection,
  /// m= malformed: not "<media> <port>[/<count>] <proto> <fmt>...", port not 0..65535,
  /// count not 1..65535, no formats; or, for a rewrite, a port list that does not have one
  /// port per m= line, a body that is not the one parsed, or a port count above 1 (the
  /// relay anchors one port pair per m= line).
  bad_media,
  /// A media line with port != 0 has no c= at media or session level.
  no_connection,
  /// More than max_sdp_media m= lines.
  too_many_media,
  /// Two direction attributes (sendrecv, sendonly, recvonly, inactive) in one section: the
  /// B2BUA acts on the direction (hold), so a contradictory body is refused, not guessed at.
  bad_attribute,
};

std::string_view to_string(sdp_errc code);

struct sdp_error {
  sdp_errc code = sdp_errc::bad_line;
  /// For the audit log and the operator; never parsed.
  std::string detail;
};

/// One m= section.
struct sdp_media {
  /// audio, video, image, application ... as sent.
  std::string type;
  /// 0 is a rejected or disabled stream (RFC 3264 section 6).
  std::uint16_t port = 0;
  /// The "/<count>" of the m= line; 1 when absent.
  std::uint16_t port_count = 1;
  /// RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF, udptl ... as sent.
  std::string proto;
  /// Payload types for RTP, other tokens for other protocols; at least one.
  std::vector<std::string> formats;
  /// The effective connection address: the media-level c= else the session-level one;
  /// numeric, without "IN IP4". Empty only for a port 0 stream without any c=. "0.0.0.0" is
  /// RFC 2543 hold, which a caller may want to treat as inactive.
  std::string connection_address;
  /// The effective direction: the media-level attribute, else the session-level one, else
  /// "sendrecv" (RFC 3264 section 5.1).
  std::string direction = "sendrecv";
  /// Every a= value of this media section in order, without "a=".
  std::vector<std::string> attributes;
};

/// What the B2BUA needs of one offer or answer (RFC 4566, RFC 3264).
struct sdp_session {
  std::string origin_user;
  /// Digits, kept as text: RFC 4566 bounds neither it nor its length.
  std::string session_id;
  std::uint64_t origin_version = 0;
  /// Numeric or a host name, as sent; RFC 4566 allows both and nothing routes on it.
  std::string origin_address;
  /// The session-level c= address; empty when every media has its own c=.
  std::string session_connection;
  /// Every session-level a= value in order, without "a=".
  std::vector<std::string> session_attributes;
  std::vector<sdp_media> media;
};

/// Parses an SDP offer or answer. LF and CRLF line ends are accepted, trailing line breaks
/// ignored. Strict where the B2BUA acts on a field (v=, o=, c=, m=, direction) and on
/// line syntax; other lines (s=, t=, b=, a=rtpmap ...) are kept uninterpreted, and s= and
/// t= are not required since nothing here needs them. Bounded by max_sdp_size and
/// max_sdp_media; never throws on malformed input.
std::expected<sdp_session, sdp_error> parse_sdp(std::string_view body);

/// How rewrite_sdp anchors a body on this node's relay.
/// What changes in one stream besides its port (SPEC MED-1, MED-2: SDES per leg).
struct sdp_media_rewrite {
  /// Replaces the m= line's protocol ("RTP/AVP", "RTP/SAVP") when set.
  std::optional<std::string> proto;
  /// When set, the stream's a=crypto lines are replaced by these values (what follows
  /// "a=crypto:"), written right after the m= line; empty drops them all.
  std::optional<std::vector<std::string>> crypto;
};

struct sdp_rewrite {
  /// The node's relay address: numeric IPv4 or IPv6, which picks IP4 or IP6.
  std::string address;
  /// One per m= line. Media whose original port is 0 stay 0; a 0 here rejects a stream.
  std::vector<std::uint16_t> ports;
  /// At most 64 visible characters, no spaces.
  std::string origin_user = "ward";
  /// Stable per call leg; 1 to 32 digits.
  std::string session_id;
  /// Incremented by the caller per new offer on that leg (RFC 3264 section 8).
  std::uint64_t version = 1;
  /// Empty, or one per m= line.
  std::vector<sdp_media_rewrite> media;
};

/// Re-renders `original_body` (already parsed as `parsed`) with o= replaced, every c=
/// replaced by one session-level c= for `address` (media-level c= lines dropped), each m=
/// port replaced, a=rtcp, a=rtcp-mux and a=rtcp-mux-only lines dropped (the relay takes RTCP
/// on port+1, apart from RTP), ICE attributes dropped (the
/// media is anchored on the relay, so the far end's candidates would lead around it), the
/// protocol and a=crypto lines of each stream replaced as `media` says, everything else
/// (a=rtpmap, a=fmtp, direction, b= ...) kept in order; CRLF line ends.
/// The body is parsed again and compared with `parsed`, so a body that does not match it,
/// or does not parse, is refused rather than half rewritten; the result always parses.
std::expected<std::string, sdp_error>
rewrite_sdp(std::string_view original_body, const sdp_session& parsed, const sdp_rewrite& rewrite);

} // namespace ward::telephony
