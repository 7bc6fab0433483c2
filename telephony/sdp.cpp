#include "telephony/sdp.hpp"

#include "core/net_address.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

namespace ward::telephony {
namespace {

/// One "x=value" line; `value` points into the body.
struct sdp_line {
  char type = 0;
  std::string_view value;
  /// 1-based, for error details.
  std::size_t number = 0;
};

sdp_error fail(sdp_errc code, std::size_t line_number, std::string_view reason) {
  std::string detail;
  if (line_number != 0) {
    detail = "line ";
    detail += std::to_string(line_number);
    detail += ": ";
  }
  detail += reason;
  return {code, std::move(detail)};
}

/// Hands out the lines of a body one at a time, so neither parsing nor rewriting keeps a
/// list of them: a hostile body of 5000 one-letter lines costs no allocation here.
class line_reader {
public:
  /// `text` must not end in a line break (trailing ones are stripped beforehand, so an empty
  /// line is always a line in the middle).
  explicit line_reader(std::string_view text) : rest_(text), done_(text.empty()) {}

  /// The next line, nullopt after the last one, or why the next line is malformed.
  std::expected<std::optional<sdp_line>, sdp_error> next() {
    if (done_)
      return std::nullopt;
    ++number_;
    auto end = rest_.find('\n');
    auto text = rest_.substr(0, end);
    if (end == std::string_view::npos)
      done_ = true;
    else
      rest_.remove_prefix(end + 1);
    if (!text.empty() && text.back() == '\r')
      text.remove_suffix(1);
    if (text.empty())
      return std::unexpected(fail(sdp_errc::bad_line, number_, "empty line"));
    if (text.size() < 2 || text[0] < 'a' || text[0] > 'z' || text[1] != '=')
      return std::unexpected(fail(sdp_errc::bad_line, number_, "not x=value"));
    // A CR left inside a line would end it for the next parser, and a NUL would end it for
    // any C string API: what the peer sent and what a later reader sees must be the same.
    if (text.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos)
      return std::unexpected(fail(sdp_errc::bad_line, number_, "CR or NUL inside a line"));
    return sdp_line{text[0], text.substr(2), number_};
  }

private:
  std::string_view rest_;
  std::size_t number_ = 0;
  bool done_ = false;
};

/// The fields of a line separated by single spaces, as RFC 4566 section 5 writes them; an
/// empty field (two spaces, a leading or trailing space) is kept so callers refuse it.
/// At most `limit` fields are split off; the last one holds the rest of the line.
std::vector<std::string_view> split_fields(std::string_view value, std::size_t limit) {
  std::vector<std::string_view> fields;
  while (fields.size() + 1 < limit) {
    auto space = value.find(' ');
    if (space == std::string_view::npos)
      break;
    fields.push_back(value.substr(0, space));
    value.remove_prefix(space + 1);
  }
  fields.push_back(value);
  return fields;
}

/// Visible ASCII without spaces: what RFC 4566 calls a token, and more, but nothing that
/// could split a field or a line.
bool is_visible_word(std::string_view text) {
  if (text.empty())
    return false;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x21 || byte > 0x7e)
      return false;
  }
  return true;
}

bool is_digits(std::string_view text) {
  if (text.empty())
    return false;
  for (char c : text)
    if (c < '0' || c > '9')
      return false;
  return true;
}

/// A decimal of 1 to 20 digits no larger than `max`.
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t max) {
  if (!is_digits(text) || text.size() > 20)
    return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
      return std::nullopt;
    value = value * 10 + digit;
  }
  if (value > max)
    return std::nullopt;
  return value;
}

enum class address_family : std::uint8_t { ip4, ip6 };

std::string_view address_type(address_family family) {
  return family == address_family::ip4 ? "IP4" : "IP6";
}

enum class address_check : std::uint8_t { unicast, unspecified, multicast, not_numeric };

/// Whether `text` is a numeric address of `family`. parse_ip_address refuses what SDP refuses
/// here: host names, IPv4 with fewer than four parts or leading zeros, "/ttl" suffixes and
/// IPv6 zone identifiers.
address_check check_address(std::string_view text, address_family family) {
  auto address = parse_ip_address(text);
  const auto wanted = family == address_family::ip4 ? ip_family::v4 : ip_family::v6;
  if (!address || address->family != wanted)
    return address_check::not_numeric;
  if (is_multicast(*address))
    return address_check::multicast;
  if (is_unspecified(*address))
    return address_check::unspecified;
  return address_check::unicast;
}

std::optional<address_family> parse_address_type(std::string_view text) {
  if (text == "IP4")
    return address_family::ip4;
  if (text == "IP6")
    return address_family::ip6;
  return std::nullopt;
}

/// c=IN IP4|IP6 <address> (RFC 4566 section 5.7), unicast only: the relay sends to one
/// address, and a multicast group or TTL in an offer to a PBX is an attack or a mistake.
/// The unspecified address is RFC 2543 hold and stays allowed.
std::expected<std::string, sdp_error> parse_connection(const sdp_line& line) {
  auto fields = split_fields(line.value, 4);
  if (fields.size() != 3 || fields[0] != "IN")
    return std::unexpected(fail(sdp_errc::bad_connection, line.number, "not IN IP4|IP6 address"));
  auto family = parse_address_type(fields[1]);
  if (!family)
    return std::unexpected(fail(sdp_errc::bad_connection, line.number, "not IP4 or IP6"));
  if (fields[2].find('/') != std::string_view::npos)
    return std::unexpected(
        fail(sdp_errc::bad_connection, line.number, "multicast TTL or address count"));
  switch (check_address(fields[2], *family)) {
    case address_check::unicast:
    case address_check::unspecified:
      return std::string(fields[2]);
    case address_check::multicast:
      return std::unexpected(fail(sdp_errc::bad_connection, line.number, "multicast address"));
    case address_check::not_numeric:
      break;
  }
  return std::unexpected(
      fail(sdp_errc::bad_connection, line.number, "not a numeric address of the type it names"));
}

/// o=<username> <sess-id> <sess-version> IN IP4|IP6 <unicast-address> (RFC 4566 section 5.2).
std::optional<sdp_error> parse_origin(const sdp_line& line, sdp_session& out) {
  auto fields = split_fields(line.value, 7);
  auto bad = [&](std::string_view reason) {
    return std::optional(fail(sdp_errc::bad_origin, line.number, reason));
  };
  if (fields.size() != 6)
    return bad("not six fields");
  if (!is_visible_word(fields[0]))
    return bad("bad username");
  if (!is_digits(fields[1]))
    return bad("session id is not a number");
  auto version = parse_decimal(fields[2], std::numeric_limits<std::uint64_t>::max());
  if (!version)
    return bad("session version is not a 64-bit number");
  if (fields[3] != "IN" || !parse_address_type(fields[4]))
    return bad("not IN IP4|IP6");
  if (!is_visible_word(fields[5]))
    return bad("bad address");
  out.origin_user = fields[0];
  out.session_id = fields[1];
  out.origin_version = *version;
  out.origin_address = fields[5];
  return std::nullopt;
}

/// m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 4566 section 5.14).
std::expected<sdp_media, sdp_error> parse_media(const sdp_line& line) {
  auto bad = [&](std::string_view reason) {
    return std::unexpected(fail(sdp_errc::bad_media, line.number, reason));
  };
  auto head = split_fields(line.value, 4);
  if (head.size() != 4)
    return bad("fewer than four fields");
  sdp_media out;
  if (!is_visible_word(head[0]))
    return bad("bad media type");
  out.type = head[0];
  auto port_text = head[1];
  auto slash = port_text.find('/');
  auto port = parse_decimal(port_text.substr(0, slash), 65535);
  if (!port)
    return bad("port is not 0..65535");
  out.port = static_cast<std::uint16_t>(*port);
  if (slash != std::string_view::npos) {
    auto count = parse_decimal(port_text.substr(slash + 1), 65535);
    if (!count || *count == 0)
      return bad("port count is not 1..65535");
    out.port_count = static_cast<std::uint16_t>(*count);
  }
  if (!is_visible_word(head[2]))
    return bad("bad transport protocol");
  out.proto = head[2];
  // The line is at most max_sdp_size long, so the format list is bounded too.
  for (auto format : split_fields(head[3], std::numeric_limits<std::size_t>::max())) {
    if (!is_visible_word(format))
      return bad("empty or bad format");
    out.formats.emplace_back(format);
  }
  return out;
}

/// The name of an attribute value: "rtpmap" for "rtpmap:0 PCMU/8000".
std::string_view attribute_name(std::string_view value) {
  return value.substr(0, value.find(':'));
}

bool is_direction(std::string_view value) {
  return value == "sendrecv" || value == "sendonly" || value == "recvonly" || value == "inactive";
}

/// The body without trailing line breaks, which some stacks add after the last line.
std::string_view strip_trailing_breaks(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r'))
    body.remove_suffix(1);
  return body;
}

/// What the parser remembers of a media section until the body ends.
struct media_state {
  std::size_t line_number = 0;
  bool has_connection = false;
  bool has_direction = false;
};

} // namespace

std::string_view to_string(sdp_errc code) {
  switch (code) {
    case sdp_errc::empty:
      return "empty";
    case sdp_errc::too_large:
      return "too_large";
    case sdp_errc::bad_line:
      return "bad_line";
    case sdp_errc::bad_version:
      return "bad_version";
    case sdp_errc::bad_origin:
      return "bad_origin";
    case sdp_errc::bad_connection:
      return "bad_connection";
    case sdp_errc::bad_media:
      return "bad_media";
    case sdp_errc::no_connection:
      return "no_connection";
    case sdp_errc::too_many_media:
      return "too_many_media";
    case sdp_errc::bad_attribute:
      return "bad_attribute";
  }
  return "bad_line";
}

std::expected<sdp_session, sdp_error> parse_sdp(std::string_view body) {
  if (body.size() > max_sdp_size)
    return std::unexpected(fail(sdp_errc::too_large, 0, std::to_string(body.size()) + " bytes"));
  auto text = strip_trailing_breaks(body);
  if (text.empty())
    return std::unexpected(fail(sdp_errc::empty, 0, {}));

  sdp_session out;
  std::array<media_state, max_sdp_media> states{};
  bool session_has_connection = false;
  std::string_view session_direction;
  line_reader reader(text);
  std::size_t count = 0;
  for (;;) {
    auto next = reader.next();
    if (!next)
      return std::unexpected(std::move(next.error()));
    if (!*next)
      break;
    const sdp_line& line = **next;
    ++count;
    // RFC 4566 section 5: "v=0" first, o= second; everything else is looser in practice.
    if (count == 1) {
      if (line.type != 'v')
        return std::unexpected(fail(sdp_errc::bad_version, line.number, "v= is not first"));
      if (line.value != "0")
        return std::unexpected(fail(sdp_errc::bad_version, line.number, "version is not 0"));
      continue;
    }
    if (count == 2) {
      if (line.type != 'o')
        return std::unexpected(fail(sdp_errc::bad_origin, line.number, "o= is not second"));
      if (auto error = parse_origin(line, out))
        return std::unexpected(std::move(*error));
      continue;
    }
    bool in_media = !out.media.empty();
    switch (line.type) {
      case 'v':
        return std::unexpected(fail(sdp_errc::bad_version, line.number, "v= repeated"));
      case 'o':
        return std::unexpected(fail(sdp_errc::bad_origin, line.number, "o= repeated"));
      case 'm': {
        if (out.media.size() == max_sdp_media)
          return std::unexpected(fail(sdp_errc::too_many_media, line.number,
                                      "more than " + std::to_string(max_sdp_media)));
        auto media = parse_media(line);
        if (!media)
          return std::unexpected(std::move(media.error()));
        states[out.media.size()].line_number = line.number;
        out.media.push_back(std::move(*media));
        break;
      }
      case 'c': {
        bool& seen =
            in_media ? states[out.media.size() - 1].has_connection : session_has_connection;
        if (seen)
          return std::unexpected(
              fail(sdp_errc::bad_connection, line.number, "second c= in one section"));
        auto address = parse_connection(line);
        if (!address)
          return std::unexpected(std::move(address.error()));
        (in_media ? out.media.back().connection_address : out.session_connection) =
            std::move(*address);
        seen = true;
        break;
      }
      case 'a':
        if (is_direction(line.value)) {
          if (in_media) {
            auto& state = states[out.media.size() - 1];
            if (state.has_direction)
              return std::unexpected(
                  fail(sdp_errc::bad_attribute, line.number, "second direction in one section"));
            state.has_direction = true;
            out.media.back().direction = line.value;
          } else {
            if (!session_direction.empty())
              return std::unexpected(
                  fail(sdp_errc::bad_attribute, line.number, "second session-level direction"));
            session_direction = line.value;
          }
        }
        (in_media ? out.media.back().attributes : out.session_attributes).emplace_back(line.value);
        break;
      case 'i':
      case 'b':
      case 'k':
        break;
      case 's':
      case 't':
      case 'r':
      case 'z':
      case 'u':
      case 'e':
      case 'p':
        if (in_media)
          return std::unexpected(
              fail(sdp_errc::bad_line, line.number, "session-level line inside a media section"));
        break;
      default:
        return std::unexpected(
            fail(sdp_errc::bad_line, line.number, "type letter RFC 4566 does not define"));
    }
  }
  if (count < 2)
    return std::unexpected(fail(sdp_errc::bad_origin, 0, "o= missing"));
  for (std::size_t i = 0; i < out.media.size(); ++i) {
    auto& media = out.media[i];
    if (!states[i].has_connection) {
      // RFC 4566 section 5.7: every media needs a c=, its own or the session's. A rejected
      // stream (port 0) carries no media, so none is needed there.
      if (out.session_connection.empty() && media.port != 0)
        return std::unexpected(
            fail(sdp_errc::no_connection, states[i].line_number, "m= with a port but no c="));
      media.connection_address = out.session_connection;
    }
    if (!states[i].has_direction && !session_direction.empty())
      media.direction = session_direction;
  }
  return out;
}

std::expected<std::string, sdp_error>
rewrite_sdp(std::string_view original_body, const sdp_session& parsed, const sdp_rewrite& rewrite) {
  // Parsed again so that every line copied below has passed the checks, whatever the caller
  // hands in; the cost is a few microseconds against a SIP parse.
  auto fresh = parse_sdp(original_body);
  if (!fresh)
    return std::unexpected(std::move(fresh.error()));
  const auto& media = fresh->media;
  if (media.size() != parsed.media.size())
    return std::unexpected(fail(sdp_errc::bad_media, 0, "the body is not the one parsed"));
  for (std::size_t i = 0; i < media.size(); ++i)
    if (media[i].port != parsed.media[i].port || media[i].type != parsed.media[i].type)
      return std::unexpected(fail(sdp_errc::bad_media, 0, "the body is not the one parsed"));
  if (rewrite.ports.size() != media.size())
    return std::unexpected(fail(sdp_errc::bad_media, 0,
                                std::to_string(rewrite.ports.size()) + " relay ports for " +
                                    std::to_string(media.size()) + " m= lines"));
  for (const auto& m : media)
    if (m.port != 0 && m.port_count != 1)
      return std::unexpected(
          fail(sdp_errc::bad_media, 0, "a port count above 1 cannot be relayed"));

  if (!rewrite.media.empty() && rewrite.media.size() != media.size())
    return std::unexpected(fail(sdp_errc::bad_media, 0,
                                std::to_string(rewrite.media.size()) + " stream rewrites for " +
                                    std::to_string(media.size()) + " m= lines"));
  for (const auto& change : rewrite.media) {
    if (change.proto && (!is_visible_word(*change.proto) || change.proto->size() > 32))
      return std::unexpected(fail(sdp_errc::bad_media, 0, "bad protocol for the rewrite"));
    if (change.crypto)
      for (const auto& value : *change.crypto)
        if (value.empty() || value.size() > 512 || value.find_first_of("\r\n") != std::string::npos)
          return std::unexpected(fail(sdp_errc::bad_attribute, 0, "bad a=crypto for the rewrite"));
  }

  std::optional<address_family> family;
  for (auto candidate : {address_family::ip4, address_family::ip6})
    if (check_address(rewrite.address, candidate) == address_check::unicast)
      family = candidate;
  if (!family)
    return std::unexpected(
        fail(sdp_errc::bad_connection, 0, "the relay address is not a numeric unicast address"));
  if (!is_visible_word(rewrite.origin_user) || rewrite.origin_user.size() > 64)
    return std::unexpected(fail(sdp_errc::bad_origin, 0, "bad origin user for the rewrite"));
  if (!is_digits(rewrite.session_id) || rewrite.session_id.size() > 32)
    return std::unexpected(fail(sdp_errc::bad_origin, 0, "the session id is not 1 to 32 digits"));

  std::string connection = "c=IN ";
  connection += address_type(*family);
  connection += ' ';
  connection += rewrite.address;
  connection += "\r\n";

  std::string out;
  // CRLF for LF and the new o= and c= lines; overflow is checked at the end.
  out.reserve(std::min(original_body.size() * 2 + 256, max_sdp_size + 256));
  out += "v=0\r\no=";
  out += rewrite.origin_user;
  out += ' ';
  out += rewrite.session_id;
  out += ' ';
  out += std::to_string(rewrite.version);
  out += " IN ";
  out += address_type(*family);
  out += ' ';
  out += rewrite.address;
  out += "\r\n";

  line_reader reader(strip_trailing_breaks(original_body));
  bool connection_written = false;
  std::size_t media_index = 0;
  std::size_t count = 0;
  for (;;) {
    auto next = reader.next();
    if (!next)
      return std::unexpected(std::move(next.error()));
    if (!*next)
      break;
    const sdp_line& line = **next;
    if (++count <= 2 || line.type == 'c')
      continue;
    // The relay takes RTCP on port+1 (RFC 3605 would otherwise point the peer elsewhere), and
    // apart from RTP: without rtcp-mux in the answer, a phone that offered it keeps RTCP off
    // the RTP port (RFC 5761 section 5.1.1), where an SRTP leg would take it for forged RTP.
    if (line.type == 'a' && (attribute_name(line.value) == "rtcp" || line.value == "rtcp-mux" ||
                             line.value == "rtcp-mux-only"))
      continue;
    if (line.type == 'a') {
      auto name = attribute_name(line.value);
      if (name == "candidate" || name == "remote-candidates" || name == "end-of-candidates" ||
          name.starts_with("ice-"))
        continue;
      if (name == "crypto" && media_index > 0 && !rewrite.media.empty() &&
          rewrite.media[media_index - 1].crypto)
        continue;
    }
    // RFC 4566 orders the session part v o s i u e p c b t r z k a: the one c= goes where
    // the first line that follows c= in that order begins (or before the first m=).
    if (!connection_written &&
        std::string_view("vosiuep").find(line.type) == std::string_view::npos) {
      out += connection;
      connection_written = true;
    }
    if (line.type == 'm') {
      const auto& m = media[media_index];
      out += "m=";
      out += m.type;
      out += ' ';
      out += std::to_string(m.port == 0 ? 0 : rewrite.ports[media_index]);
      out += ' ';
      const sdp_media_rewrite* change =
          rewrite.media.empty() ? nullptr : &rewrite.media[media_index];
      out += change != nullptr && change->proto ? *change->proto : m.proto;
      for (const auto& format : m.formats) {
        out += ' ';
        out += format;
      }
      if (change != nullptr && change->crypto)
        for (const auto& value : *change->crypto) {
          out += "\r\na=crypto:";
          out += value;
        }
      ++media_index;
    } else {
      out += line.type;
      out += '=';
      out += line.value;
    }
    out += "\r\n";
  }
  if (!connection_written)
    out += connection;
  if (out.size() > max_sdp_size)
    return std::unexpected(fail(sdp_errc::too_large, 0,
                                "the rewritten body has " + std::to_string(out.size()) + " bytes"));
  return out;
}

} // namespace ward::telephony
