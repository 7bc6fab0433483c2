#include "telephony/sdp.hpp"

#include "telephony/sdp_internal.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

namespace ward::telephony {

using namespace detail;

namespace {

/// The body parsed again, so that every line a rewrite copies has passed the checks whatever
/// the caller hands in, and checked against `parsed` and `rewrite`: a body that does not
/// match, or a rewrite that would render bad lines, is refused rather than half applied.
std::expected<sdp_session, sdp_error> reparse_for_rewrite(std::string_view original_body,
                                                          const sdp_session& parsed,
                                                          const sdp_rewrite& rewrite) {
  // The cost is a few microseconds against a SIP parse.
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
  return fresh;
}

/// The family of the relay address, once the new o= line's fields are known to be sound.
std::expected<address_family, sdp_error> check_origin_rewrite(const sdp_rewrite& rewrite) {
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
  return *family;
}

/// Whether a rewrite leaves the line out. `media_index` counts the m= lines before it.
bool dropped_by_rewrite(const sdp_line& line, std::size_t media_index, const sdp_rewrite& rewrite) {
  if (line.type == 'c')
    return true;
  if (line.type != 'a')
    return false;
  // The relay takes RTCP on port+1 (RFC 3605 would otherwise point the peer elsewhere), and
  // apart from RTP: without rtcp-mux in the answer, a phone that offered it keeps RTCP off
  // the RTP port (RFC 5761 section 5.1.1), where an SRTP leg would take it for forged RTP.
  auto name = attribute_name(line.value);
  if (name == "rtcp" || line.value == "rtcp-mux" || line.value == "rtcp-mux-only")
    return true;
  if (name == "candidate" || name == "remote-candidates" || name == "end-of-candidates" ||
      name.starts_with("ice-"))
    return true;
  return name == "crypto" && media_index > 0 && !rewrite.media.empty() &&
         rewrite.media[media_index - 1].crypto;
}

/// An m= line on the relay's `port`, with the stream's protocol and a=crypto lines as
/// `change` says (nullptr: as they were); no line end.
void append_media_line(std::string& out, const sdp_media& m, std::uint16_t port,
                       const sdp_media_rewrite* change) {
  out += "m=";
  out += m.type;
  out += ' ';
  out += std::to_string(m.port == 0 ? 0 : port);
  out += ' ';
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
}

} // namespace

std::expected<std::string, sdp_error>
rewrite_sdp(std::string_view original_body, const sdp_session& parsed, const sdp_rewrite& rewrite) {
  auto fresh = reparse_for_rewrite(original_body, parsed, rewrite);
  if (!fresh)
    return std::unexpected(std::move(fresh.error()));
  auto family = check_origin_rewrite(rewrite);
  if (!family)
    return std::unexpected(std::move(family.error()));
  const auto& media = fresh->media;

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

  bool connection_written = false;
  std::size_t media_index = 0;
  std::size_t count = 0;
  auto copied = for_each_line(strip_trailing_breaks(original_body), [&](const sdp_line& line) {
    if (++count <= 2 || dropped_by_rewrite(line, media_index, rewrite))
      return std::optional<sdp_error>();
    // RFC 4566 orders the session part v o s i u e p c b t r z k a: the one c= goes where
    // the first line that follows c= in that order begins (or before the first m=).
    if (!connection_written &&
        std::string_view("vosiuep").find(line.type) == std::string_view::npos) {
      out += connection;
      connection_written = true;
    }
    if (line.type == 'm') {
      append_media_line(out, media[media_index], rewrite.ports[media_index],
                        rewrite.media.empty() ? nullptr : &rewrite.media[media_index]);
      ++media_index;
    } else {
      out += line.type;
      out += '=';
      out += line.value;
    }
    out += "\r\n";
    return std::optional<sdp_error>();
  });
  if (copied)
    return std::unexpected(std::move(*copied));
  if (!connection_written)
    out += connection;
  if (out.size() > max_sdp_size)
    return std::unexpected(fail(sdp_errc::too_large, 0,
                                "the rewritten body has " + std::to_string(out.size()) + " bytes"));
  return out;
}

} // namespace ward::telephony
