#include "telephony/sip_message.hpp"

#include "core/enum_names.hpp"

#include "telephony/sip_digest.hpp"
#include "telephony/sip_message_internal.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

namespace ward::telephony {

using namespace detail;

namespace {

/// Offset just past the empty line that ends the header section, or npos. Line ends are
/// CRLF, CR or LF as osip accepts them; the start line and folded lines are never empty.
std::size_t header_section_end(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\r' || text[i] == '\n')
      return i + ((text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1);
    auto eol = text.find_first_of("\r\n", i);
    if (eol == std::string_view::npos)
      return std::string_view::npos;
    i = eol + ((text[eol] == '\r' && eol + 1 < text.size() && text[eol + 1] == '\n') ? 2 : 1);
  }
  return std::string_view::npos;
}

std::string_view skip_leading_line_breaks(std::string_view text) {
  auto first = text.find_first_not_of("\r\n");
  return first == std::string_view::npos ? std::string_view{} : text.substr(first);
}

std::string_view first_line(std::string_view text) {
  return text.substr(0, std::min(text.find_first_of("\r\n"), text.size()));
}

/// A message whose header section is complete and free of NULs, as osip may be handed it.
struct framed_message {
  /// Without the line breaks some clients send before the start line.
  std::string_view text;
  /// Offset of the body in `text`.
  std::size_t body_start = 0;
};

std::expected<framed_message, sip_parse_error> frame(std::string_view data) {
  if (data.size() > max_sip_message_size)
    return std::unexpected(fail(sip_parse_errc::too_large, std::to_string(data.size()) + " bytes"));
  auto text = skip_leading_line_breaks(data);
  if (text.empty())
    return std::unexpected(fail(sip_parse_errc::empty, {}));
  auto body_start = header_section_end(text);
  if (body_start == std::string_view::npos)
    return std::unexpected(fail(sip_parse_errc::incomplete, "no empty line after the headers"));
  auto headers = text.substr(0, body_start);
  if (headers.find('\0') != std::string_view::npos)
    return std::unexpected(fail(sip_parse_errc::embedded_nul, {}));
  if (headers.find("%00") != std::string_view::npos)
    return std::unexpected(fail(sip_parse_errc::escaped_nul, {}));
  return framed_message{text, body_start};
}

/// The request line's method and Request-URI, or the status line's code and reason.
std::optional<sip_parse_error> read_start_line(const osip_message_t& m, std::string_view text,
                                               sip_message& out) {
  // osip only logs a version other than 2.0 (RFC 4475 badvers); SIP-Version is
  // case-insensitive (RFC 3261 7.1).
  if (!iequals(view(m.sip_version), "SIP/2.0"))
    return fail(sip_parse_errc::unsupported_version, std::string(view(m.sip_version)));
  out.is_request = m.sip_method != nullptr;
  if (!out.is_request) {
    // osip reads the code with sscanf("%d"): 4294967301 (RFC 4475 bigcode) wraps to 5.
    if (m.status_code < 100 || m.status_code > 699)
      return fail(sip_parse_errc::bad_status_code, std::to_string(m.status_code));
    out.status_code = m.status_code;
    out.reason = view(m.reason_phrase);
    return std::nullopt;
  }
  out.method = m.sip_method;
  // osip accepted "METHOD SP Request-URI SP SIP/2.0": the URI text is what lies between the
  // two spaces, byte for byte what the client hashed into its digest uri.
  auto line = first_line(text);
  auto first_space = line.find(' ');
  auto second_space = line.find(' ', first_space + 1);
  if (first_space == std::string_view::npos || second_space == std::string_view::npos)
    return fail(sip_parse_errc::syntax, "request line");
  auto uri = convert_uri(m.req_uri,
                         std::string(line.substr(first_space + 1, second_space - first_space - 1)),
                         uri_role::request_uri);
  if (!uri)
    return fail(sip_parse_errc::bad_request_uri, uri.error().detail);
  out.request_uri = std::move(*uri);
  return std::nullopt;
}

/// Exactly Content-Length bytes of what follows the headers, or all of it without one.
std::optional<sip_parse_error> read_body(const osip_message_t& m, const framed_message& framed,
                                         sip_message& out) {
  auto available = framed.text.size() - framed.body_start;
  std::size_t body_length = available;
  if (m.content_length != nullptr && m.content_length->value != nullptr) {
    auto declared =
        parse_decimal(m.content_length->value, std::numeric_limits<std::uint32_t>::max());
    if (!declared)
      return fail(sip_parse_errc::bad_content_length, m.content_length->value);
    if (*declared > available)
      return fail(sip_parse_errc::body_truncated, std::to_string(*declared) + " declared, " +
                                                      std::to_string(available) + " received");
    body_length = static_cast<std::size_t>(*declared);
  }
  out.body.assign(framed.text.substr(framed.body_start, body_length));
  return std::nullopt;
}

} // namespace

std::string_view to_string(sip_parse_errc code) {
  switch (code) {
    case sip_parse_errc::empty:
      return "empty";
    case sip_parse_errc::too_large:
      return "too_large";
    case sip_parse_errc::incomplete:
      return "incomplete";
    case sip_parse_errc::embedded_nul:
      return "embedded_nul";
    case sip_parse_errc::escaped_nul:
      return "escaped_nul";
    case sip_parse_errc::syntax:
      return "syntax";
    case sip_parse_errc::unsupported_version:
      return "unsupported_version";
    case sip_parse_errc::bad_request_uri:
      return "bad_request_uri";
    case sip_parse_errc::bad_status_code:
      return "bad_status_code";
    case sip_parse_errc::missing_header:
      return "missing_header";
    case sip_parse_errc::bad_header:
      return "bad_header";
    case sip_parse_errc::cseq_mismatch:
      return "cseq_mismatch";
    case sip_parse_errc::bad_content_length:
      return "bad_content_length";
    case sip_parse_errc::body_truncated:
      return "body_truncated";
  }
  return "syntax";
}

constexpr auto transport_names =
    name_table(enum_name{transport::udp, "udp"}, enum_name{transport::tcp, "tcp"},
               enum_name{transport::tls, "tls"}, enum_name{transport::line, "line"});

std::string_view to_string(transport kind) {
  return name_of(transport_names, kind, "udp");
}

std::optional<transport> parse_transport(std::string_view text) {
  return parse_name(transport_names, text);
}

std::string_view to_string(uri_scheme scheme) {
  switch (scheme) {
    case uri_scheme::sip:
      return "sip";
    case uri_scheme::sips:
      return "sips";
    case uri_scheme::tel:
      return "tel";
    case uri_scheme::other:
      return "other";
  }
  return "other";
}

std::expected<sip_message, sip_parse_error> parse_sip_message(std::string_view data) {
  auto framed = frame(data);
  if (!framed)
    return std::unexpected(std::move(framed.error()));

  init_osip_once();
  // osip's objects live in the arena and vanish with it; nothing below keeps a pointer.
  arena_scope scope;
  osip_message_t* parsed = nullptr;
  if (osip_message_init(&parsed) != 0)
    return std::unexpected(fail(sip_parse_errc::syntax, "osip out of memory"));
  if (int rc = osip_message_parse(parsed, framed->text.data(), framed->text.size()); rc != 0)
    return std::unexpected(fail(sip_parse_errc::syntax, "osip error " + std::to_string(rc)));

  sip_message out;
  if (auto bad = read_start_line(*parsed, framed->text, out))
    return std::unexpected(std::move(*bad));
  if (auto bad = read_headers(*parsed, out))
    return std::unexpected(std::move(*bad));
  if (auto bad = read_body(*parsed, *framed, out))
    return std::unexpected(std::move(*bad));
  return out;
}

std::optional<std::string_view> first_line_method(std::string_view datagram) {
  auto line = first_line(skip_leading_line_breaks(datagram));
  auto space = line.find(' ');
  if (space == 0 || space == std::string_view::npos)
    return std::nullopt;
  auto method = line.substr(0, space);
  if (!std::all_of(method.begin(), method.end(), is_sip_token_char))
    return std::nullopt;
  constexpr std::string_view version = " SIP/2.0";
  if (line.size() < space + version.size() + 1 ||
      !iequals(line.substr(line.size() - version.size()), version))
    return std::nullopt;
  return method;
}

} // namespace ward::telephony
