#pragma once

// The envelope of the JSON records the security database stores (settings, certificate
// state): a "format" field that must be 1, and any missing or mistyped field reported as
// a damaged record instead of escaping as a nlohmann exception.

#include "security/error.hpp"

#include <nlohmann/json.hpp>

#include <expected>
#include <string>
#include <string_view>

namespace ward::security {

/// `decode` applied to the document in `text`. `unknown_format` is the whole message for a
/// format other than 1; `damaged` prefixes the message of any JSON error.
template <class Decode>
auto decode_json_record(std::string_view text, std::string_view unknown_format,
                        std::string_view damaged, Decode decode)
    -> decltype(decode(std::declval<const nlohmann::json&>())) {
  try {
    auto document = nlohmann::json::parse(text);
    if (document.at("format").get<int>() != 1)
      return std::unexpected(error{errc::damaged_record, std::string(unknown_format)});
    return decode(document);
  } catch (const nlohmann::json::exception& e) {
    return std::unexpected(error{errc::damaged_record, std::string(damaged) + ": " + e.what()});
  }
}

} // namespace ward::security
