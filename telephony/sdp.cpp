#include "telephony/sdp.hpp"

#include "core/net_address.hpp"
#include "telephony/sdp_internal.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <utility>

namespace ward::telephony {
namespace detail {

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

std::expected<std::optional<sdp_line>, sdp_error> line_reader::next() {
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

std::string_view address_type(address_family family) {
  return family == address_family::ip4 ? "IP4" : "IP6";
}

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

std::string_view attribute_name(std::string_view value) {
  return value.substr(0, value.find(':'));
}

std::string_view strip_trailing_breaks(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r'))
    body.remove_suffix(1);
  return body;
}

} // namespace detail

using namespace detail;

namespace {

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

bool is_direction(std::string_view value) {
  return value == "sendrecv" || value == "sendonly" || value == "recvonly" || value == "inactive";
}

/// What the parser remembers of a media section until the body ends.
struct media_state {
  std::size_t line_number = 0;
  bool has_connection = false;
  bool has_direction = false;
};

/// Reads a body one line at a time into an sdp_session; `finish` applies what only the
/// whole body settles (session-level c= and direction).
class session_parser {
public:
  std::optional<sdp_error> read(const sdp_line& line) {
    ++count_;
    // RFC 4566 section 5: "v=0" first, o= second; everything else is looser in practice.
    if (count_ == 1) {
      if (line.type != 'v')
        return fail(sdp_errc::bad_version, line.number, "v= is not first");
      if (line.value != "0")
        return fail(sdp_errc::bad_version, line.number, "version is not 0");
      return std::nullopt;
    }
    if (count_ == 2) {
      if (line.type != 'o')
        return fail(sdp_errc::bad_origin, line.number, "o= is not second");
      return parse_origin(line, out_);
    }
    switch (line.type) {
      case 'v':
        return fail(sdp_errc::bad_version, line.number, "v= repeated");
      case 'o':
        return fail(sdp_errc::bad_origin, line.number, "o= repeated");
      case 'm':
        return read_media(line);
      case 'c':
        return read_connection(line);
      case 'a':
        return read_attribute(line);
      case 'i':
      case 'b':
      case 'k':
        return std::nullopt;
      case 's':
      case 't':
      case 'r':
      case 'z':
      case 'u':
      case 'e':
      case 'p':
        if (in_media())
          return fail(sdp_errc::bad_line, line.number, "session-level line inside a media section");
        return std::nullopt;
      default:
        return fail(sdp_errc::bad_line, line.number, "type letter RFC 4566 does not define");
    }
  }

  std::expected<sdp_session, sdp_error> finish() && {
    if (count_ < 2)
      return std::unexpected(fail(sdp_errc::bad_origin, 0, "o= missing"));
    for (std::size_t i = 0; i < out_.media.size(); ++i) {
      auto& media = out_.media[i];
      if (!states_[i].has_connection) {
        // RFC 4566 section 5.7: every media needs a c=, its own or the session's. A rejected
        // stream (port 0) carries no media, so none is needed there.
        if (out_.session_connection.empty() && media.port != 0)
          return std::unexpected(
              fail(sdp_errc::no_connection, states_[i].line_number, "m= with a port but no c="));
        media.connection_address = out_.session_connection;
      }
      if (!states_[i].has_direction && !session_direction_.empty())
        media.direction = session_direction_;
    }
    return std::move(out_);
  }

private:
  bool in_media() const { return !out_.media.empty(); }

  std::optional<sdp_error> read_media(const sdp_line& line) {
    if (out_.media.size() == max_sdp_media)
      return fail(sdp_errc::too_many_media, line.number,
                  "more than " + std::to_string(max_sdp_media));
    auto media = parse_media(line);
    if (!media)
      return std::move(media.error());
    states_[out_.media.size()].line_number = line.number;
    out_.media.push_back(std::move(*media));
    return std::nullopt;
  }

  std::optional<sdp_error> read_connection(const sdp_line& line) {
    bool& seen =
        in_media() ? states_[out_.media.size() - 1].has_connection : session_has_connection_;
    if (seen)
      return fail(sdp_errc::bad_connection, line.number, "second c= in one section");
    auto address = parse_connection(line);
    if (!address)
      return std::move(address.error());
    (in_media() ? out_.media.back().connection_address : out_.session_connection) =
        std::move(*address);
    seen = true;
    return std::nullopt;
  }

  std::optional<sdp_error> read_attribute(const sdp_line& line) {
    if (is_direction(line.value)) {
      if (in_media()) {
        auto& state = states_[out_.media.size() - 1];
        if (state.has_direction)
          return fail(sdp_errc::bad_attribute, line.number, "second direction in one section");
        state.has_direction = true;
        out_.media.back().direction = line.value;
      } else {
        if (!session_direction_.empty())
          return fail(sdp_errc::bad_attribute, line.number, "second session-level direction");
        session_direction_ = line.value;
      }
    }
    (in_media() ? out_.media.back().attributes : out_.session_attributes).emplace_back(line.value);
    return std::nullopt;
  }

  sdp_session out_;
  std::array<media_state, max_sdp_media> states_{};
  bool session_has_connection_ = false;
  std::string_view session_direction_;
  std::size_t count_ = 0;
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
  session_parser parser;
  if (auto error = for_each_line(text, [&](const sdp_line& line) { return parser.read(line); }))
    return std::unexpected(std::move(*error));
  return std::move(parser).finish();
}

} // namespace ward::telephony
