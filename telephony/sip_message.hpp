#pragma once

#include "telephony/error.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ward::telephony {

/// Largest SIP message accepted (one datagram or one framed stream message). RFC 3261 keeps
/// UDP messages under the path MTU; 64 KiB is the largest UDP payload and bounds the parser's
/// work for stream transports too.
inline constexpr std::size_t max_sip_message_size = 64 * 1024;

/// Why a message was refused. Every refusal is a malformed message for the guard
/// (SPEC SIP-4: dropped and counted); the detail is for people, never parsed.
enum class sip_parse_errc : std::uint8_t {
  /// Nothing but line breaks.
  empty,
  /// Larger than max_sip_message_size.
  too_large,
  /// No empty line ends the header section: a truncated datagram or a framing error.
  incomplete,
  /// A NUL byte among the headers. osip works on C strings and would silently drop
  /// everything after it, so the message it saw would not be the message that was sent.
  embedded_nul,
  /// "%00" among the headers. osip unescapes URIs into C strings, so "sip:201%00x@h" would
  /// read as "sip:201@h": two different URIs must not look equal.
  escaped_nul,
  /// libosip2 refused the start line or a header it knows.
  syntax,
  /// Not SIP/2.0, on the start line or in a Via.
  unsupported_version,
  /// The Request-URI is unusable: no host for sip/sips, a bad port, or escaped headers
  /// ("?Route=...", RFC 4475 escruri).
  bad_request_uri,
  /// A status code outside 100..699.
  bad_status_code,
  /// Via, From, To, Call-ID or CSeq missing (Max-Forwards defaults to 70).
  missing_header,
  /// A header osip accepted whose value is out of range or duplicated where one is allowed:
  /// CSeq number, Max-Forwards, Expires, ports, Contact.
  bad_header,
  /// The CSeq method differs from the request method (RFC 4475 mismatch01).
  cseq_mismatch,
  /// Content-Length is not a decimal number (RFC 4475 scalar02: -999).
  bad_content_length,
  /// Content-Length promises more bytes than arrived (RFC 4475 clerr).
  body_truncated,
};

std::string_view to_string(sip_parse_errc code);

struct sip_parse_error {
  sip_parse_errc code = sip_parse_errc::syntax;
  /// For the audit log and the operator; never parsed.
  std::string detail;
};

/// The transport a message arrived on (SPEC SIP-1: UDP, TCP and TLS, each enabled apart).
/// `line`: carried over a cluster line between two nodes (SPEC SIP-6), not a socket.
enum class transport : std::uint8_t { udp, tcp, tls, line };

std::string_view to_string(transport kind);
std::optional<transport> parse_transport(std::string_view text);

/// URI schemes a PBX tells apart; anything else is `other` and kept as text.
enum class uri_scheme : std::uint8_t { sip, sips, tel, other };

std::string_view to_string(uri_scheme scheme);

/// A URI with the parts the registrar and the B2BUA route on.
struct sip_uri {
  /// The Request-URI exactly as written on the request line; for URIs inside headers, osip's
  /// re-serialisation (osip keeps no raw header text).
  std::string text;
  uri_scheme scheme = uri_scheme::other;
  /// Unescaped by osip ("%32%30%31" is "201").
  std::string user;
  /// Without the brackets of an IPv6 reference.
  std::string host;
  /// 0 when the URI names no port.
  std::uint16_t port = 0;
};

/// One header parameter: `;lr` has no value, `;expires=60` has one.
struct sip_param {
  std::string name;
  std::optional<std::string> value;
};

/// One Via header value (RFC 3261 20.42).
struct sip_via {
  /// The whole value as osip re-serialises it; what a response copies back.
  std::string value;
  /// "UDP", "TCP", "TLS", "SCTP", "WS" ... as sent.
  std::string transport;
  /// sent-by host, IPv6 without brackets.
  std::string host;
  /// sent-by port; 0 when absent.
  std::uint16_t port = 0;
  std::string branch;
  /// An rport parameter is present (RFC 3581), with or without a value.
  bool rport = false;
  std::string received;
  /// Every parameter in order, so a response can re-render the value with received/rport.
  std::vector<sip_param> params;
};

/// From, To: a name-addr or addr-spec with its tag.
struct sip_name_addr {
  /// The whole value as osip re-serialises it; what a response copies back.
  std::string value;
  /// Quotes removed and quoted-pairs resolved; empty when there is none.
  std::string display;
  sip_uri uri;
  /// Empty when the header carries no tag.
  std::string tag;
};

/// One Contact value; `*` is the wildcard of a REGISTER that removes every binding.
struct sip_contact {
  bool wildcard = false;
  sip_uri uri;
  /// The expires parameter (seconds), saturated at 2^32-1; nullopt when absent.
  std::optional<std::uint32_t> expires;
};

/// One parsed SIP request or response: what the registrar and the B2BUA need, as plain values
/// that own their memory (nothing points into osip or into the received buffer).
struct sip_message {
  bool is_request = true;
  /// Requests: the method, case as sent (methods are case-sensitive).
  std::string method;
  sip_uri request_uri;
  /// Responses: the status line.
  int status_code = 0;
  std::string reason;
  /// Every Via value in order; the first is the top Via.
  std::vector<sip_via> vias;
  sip_name_addr from;
  sip_name_addr to;
  std::string call_id;
  std::uint32_t cseq = 0;
  std::string cseq_method;
  /// 70 when absent (RFC 3261 8.1.1.6).
  std::uint32_t max_forwards = 70;
  std::vector<sip_contact> contacts;
  /// The Expires header (seconds), saturated at 2^32-1.
  std::optional<std::uint32_t> expires;
  /// Every Authorization value, in order. osip keeps no raw header text: each value is osip's
  /// re-serialisation of the parameters it understood, with the peer's quoting kept, which
  /// is what parse_authorization() reads.
  std::vector<std::string> authorizations;
  /// Every Proxy-Authorization value, in order, as `authorizations` (an INVITE answers a 407).
  std::vector<std::string> proxy_authorizations;
  /// Every WWW-Authenticate and Proxy-Authenticate value of a response, as osip prints
  /// them: the challenges a server (a carrier behind a trunk) answered a request with.
  std::vector<std::string> www_authenticates;
  std::vector<std::string> proxy_authenticates;
  std::string user_agent;
  /// The first Priority header (RFC 3261 20.26), lower-cased; empty when absent. Nodes mark
  /// emergency calls they pass over a line with "emergency"; from phones it is not trusted.
  std::string priority;
  std::string content_type;
  /// Exactly Content-Length bytes (the rest of the datagram when it has none).
  std::string body;
};

/// Parses one SIP message with libosip2 and checks what osip leaves unchecked: version,
/// mandatory headers, scalar ranges, CSeq method, Content-Length against the body, NULs.
/// Bytes after Content-Length are ignored (RFC 3261 18.3: a datagram may carry padding).
/// Thread-safe; osip's one-time initialisation happens on first use.
std::expected<sip_message, sip_parse_error> parse_sip_message(std::string_view data);

/// Parses one URI on its own (a digest uri, a configured target) with the same checks as
/// the URIs of a message: no escaped headers, no NULs, a host for sip and sips, a valid port.
/// `text` of the result is the input.
std::expected<sip_uri, error> parse_uri(std::string_view text);

/// The method of a request from its first line alone, or nullopt for responses and
/// anything that is not a plausible request line. Cheap enough to run on every datagram
/// of a blacklisted source before deciding to drop it without parsing.
std::optional<std::string_view> first_line_method(std::string_view datagram);

/// A response to `request` (RFC 3261 8.2.6): Via values copied in order, the top one with
/// received= (when the sent-by is not the source address) and rport=<port> (when the client
/// asked for it, RFC 3581); From, Call-ID and CSeq copied; To copied with `to_tag` added when
/// the request's To had no tag; then `extra_headers`, "Server: Ward" and Content-Length: 0.
/// An empty `received_address` leaves the top Via as it came. Line breaks in the arguments
/// are dropped so no caller can split a header.
/// With `body`, Content-Type is `content_type` and Content-Length the body's size.
std::string build_response(const sip_message& request, int code, std::string_view reason,
                           const std::vector<std::pair<std::string, std::string>>& extra_headers,
                           std::string_view to_tag, std::string_view received_address,
                           std::uint16_t received_port, std::string_view content_type = {},
                           std::string_view body = {});

/// A request Ward sends as a user agent client (the B2BUA's legs, RFC 3261 8.1.1). The
/// values are written as given, with line breaks dropped.
struct sip_request_fields {
  std::string method;
  std::string request_uri;
  /// The whole Via value, e.g. "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK...;rport".
  std::string via;
  std::string from;
  std::string to;
  std::string call_id;
  std::uint32_t cseq = 1;
  /// Empty: no Contact header.
  std::string contact;
  std::uint32_t max_forwards = 70;
  std::vector<std::pair<std::string, std::string>> extra_headers;
  std::string content_type;
  std::string body;
};

std::string build_request(const sip_request_fields& fields);

} // namespace ward::telephony
