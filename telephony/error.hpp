#pragma once

#include "core/enum_names.hpp"
#include "core/typed_error.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace ward::telephony {

/// Why a telephony operation outside message parsing failed (message and SDP parsing have
/// their own `sip_parse_errc` and `sdp_errc`). Callers decide on the code; `detail` is for
/// people (logs, an administrator's error message) and never decides anything.
enum class errc {
  /// A setting or policy is outside what Ward accepts (ranges, patterns, bounds); `detail`
  /// names the setting and why.
  invalid_config,
  /// A SIP URI that is not well-formed or that Ward refuses (escaped headers, NULs, no host).
  bad_uri,
  /// An Authorization header that is not a complete, unambiguous Digest response.
  bad_authorization,
  /// Not a numeric IP address or address block where one is required.
  bad_address,
  /// A stored telephony record that cannot be decoded (damaged or from a newer version).
  damaged_record,
  /// No media relay ports or capacity left for a call.
  media_unavailable,
  /// A change names something that does not exist (a template, an ARS table, a trunk).
  not_found,
};

inline constexpr auto errc_names = name_table(
    enum_name{errc::invalid_config, "invalid_config"}, enum_name{errc::bad_uri, "bad_uri"},
    enum_name{errc::bad_authorization, "bad_authorization"},
    enum_name{errc::bad_address, "bad_address"}, enum_name{errc::damaged_record, "damaged_record"},
    enum_name{errc::media_unavailable, "media_unavailable"},
    enum_name{errc::not_found, "not_found"});

constexpr std::string_view to_string(errc code) {
  return name_of(errc_names, code);
}

using error = typed_error<errc>;

/// An error of `code` whose detail is `detail` prefixed with `context` and ": ", for an
/// error passed up through a caller that adds where it happened.
inline error with_context(std::string_view context, error inner) {
  inner.detail = std::string(context) + ": " + std::move(inner.detail);
  return inner;
}

} // namespace ward::telephony
