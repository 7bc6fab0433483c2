#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace ward::telephony {

/// The largest SIP message accepted on any transport: a UDP datagram's maximum, and the
/// bound on a stream message's headers plus body.
inline constexpr std::size_t max_sip_message = 65'536;

/// The length of the first whole SIP message at the start of `buffer` (RFC 3261 18.3: over
/// a stream, Content-Length frames the body); 0 while incomplete; nullopt when the framing
/// is broken (no or a bad Content-Length, oversized).
std::optional<std::size_t> framed_length(std::string_view buffer);

/// How many bytes of CRLF keep-alives (RFC 5626 section 4.4.1) start `buffer`: they sit
/// between messages on a stream and are not messages.
std::size_t keep_alive_prefix(std::string_view buffer);

} // namespace ward::telephony
