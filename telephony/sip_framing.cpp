#include "telephony/sip_framing.hpp"

#include <cctype>
#include <charconv>
#include <string>

namespace ward::telephony {

std::optional<std::size_t> framed_length(std::string_view buffer) {
  auto end = buffer.find("\r\n\r\n");
  if (end == std::string_view::npos)
    return buffer.size() > max_sip_message ? std::nullopt : std::optional<std::size_t>{0};
  auto headers = buffer.substr(0, end + 2);
  std::optional<std::size_t> body;
  std::size_t at = 0;
  while (at < headers.size()) {
    auto line_end = headers.find("\r\n", at);
    auto line = headers.substr(at, line_end - at);
    at = line_end + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
      name.remove_suffix(1);
    std::string lower(name);
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower != "content-length" && lower != "l")
      continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    std::size_t length = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec != std::errc{})
      return std::nullopt;
    body = length;
  }
  // The length is checked on its own first: a Content-Length near 2^64 would otherwise wrap
  // the sum below and frame a message shorter than its own headers.
  if (!body || *body > max_sip_message || end + 4 + *body > max_sip_message)
    return std::nullopt;
  return buffer.size() >= end + 4 + *body ? std::optional<std::size_t>{end + 4 + *body}
                                          : std::optional<std::size_t>{0};
}

std::size_t keep_alive_prefix(std::string_view buffer) {
  auto skip = buffer.find_first_not_of("\r\n");
  return skip == std::string_view::npos ? buffer.size() : skip;
}

} // namespace ward::telephony
