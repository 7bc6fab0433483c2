#pragma once

// The SDP line syntax that parse_sdp (sdp.cpp) and rewrite_sdp (sdp_rewrite.cpp) share.
// Internal to telephony/; everything else uses sdp.hpp.

#include "telephony/sdp.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>
#include <utility>

namespace ward::telephony::detail {

/// One "x=value" line; `value` points into the body.
struct sdp_line {
  char type = 0;
  std::string_view value;
  /// 1-based, for error details.
  std::size_t number = 0;
};

/// An error with "line N: " in front of `reason` when `line_number` is not 0.
sdp_error fail(sdp_errc code, std::size_t line_number, std::string_view reason);

/// Hands out the lines of a body one at a time, so neither parsing nor rewriting keeps a
/// list of them: a hostile body of 5000 one-letter lines costs no allocation here.
class line_reader {
public:
  /// `text` must not end in a line break (trailing ones are stripped beforehand, so an empty
  /// line is always a line in the middle).
  explicit line_reader(std::string_view text) : rest_(text), done_(text.empty()) {}

  /// The next line, nullopt after the last one, or why the next line is malformed.
  std::expected<std::optional<sdp_line>, sdp_error> next();

private:
  std::string_view rest_;
  std::size_t number_ = 0;
  bool done_ = false;
};

/// Calls `visit` with every line of `text` in order; stops at the first malformed line or
/// the first error `visit` returns.
template <class Visit>
std::optional<sdp_error> for_each_line(std::string_view text, Visit&& visit) {
  line_reader reader(text);
  for (;;) {
    auto next = reader.next();
    if (!next)
      return std::move(next.error());
    if (!*next)
      return std::nullopt;
    if (auto error = visit(**next))
      return error;
  }
}

/// Visible ASCII without spaces: what RFC 4566 calls a token, and more, but nothing that
/// could split a field or a line.
bool is_visible_word(std::string_view text);

bool is_digits(std::string_view text);

enum class address_family : std::uint8_t { ip4, ip6 };

std::string_view address_type(address_family family);

enum class address_check : std::uint8_t { unicast, unspecified, multicast, not_numeric };

/// Whether `text` is a numeric address of `family`. parse_ip_address refuses what SDP refuses
/// here: host names, IPv4 with fewer than four parts or leading zeros, "/ttl" suffixes and
/// IPv6 zone identifiers.
address_check check_address(std::string_view text, address_family family);

/// The name of an attribute value: "rtpmap" for "rtpmap:0 PCMU/8000".
std::string_view attribute_name(std::string_view value);

/// The body without trailing line breaks, which some stacks add after the last line.
std::string_view strip_trailing_breaks(std::string_view body);

} // namespace ward::telephony::detail
