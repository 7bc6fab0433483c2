#pragma once

// What the parts of the SIP parser share: osip's set-up and the helpers for its lists and
// strings (sip_osip.cpp), scalar checks and the conversion of osip's URIs (sip_uri.cpp) and
// headers (sip_headers.cpp) into sip_message values, which parse_sip_message (sip_message.cpp)
// puts together. Internal to telephony/; everything else uses sip_message.hpp.

#include "telephony/sip_message.hpp"

#include <osipparser2/osip_parser.h>

#include <algorithm>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ward::telephony::detail {

// ---- osip plumbing -----------------------------------------------------------------------

/// parser_init() fills osip's process-wide header tables; parsing only reads them afterwards,
/// so one initialisation makes concurrent parsing safe. osip's trace writes every refusal to
/// stdout unless a trace function is installed: a scanner could otherwise fill the logs at
/// line rate. Refusals reach the audit trail as typed errors instead. The allocator hooks are
/// process-wide too; they route to the calling thread's arena only inside a parse.
void init_osip_once();

/// Everything osip allocates within the scope is released when it ends: osip objects must
/// not outlive it (the parser copies what it keeps into std::string first).
class arena_scope {
public:
  arena_scope();
  ~arena_scope();
  arena_scope(const arena_scope&) = delete;
  arena_scope& operator=(const arena_scope&) = delete;
};

/// Takes ownership of a string osip allocated.
inline std::string take_osip_string(char* text) {
  if (text == nullptr)
    return {};
  std::string out(text);
  osip_free(text);
  return out;
}

template <class Header, class ToStr>
std::optional<std::string> serialise(const Header* header, ToStr to_str) {
  char* text = nullptr;
  if (to_str(header, &text) != 0 || text == nullptr) {
    if (text != nullptr)
      osip_free(text);
    return std::nullopt;
  }
  return take_osip_string(text);
}

inline std::string_view view(const char* text) {
  return text == nullptr ? std::string_view{} : std::string_view(text);
}

/// Visits the elements of an osip list in order (osip_list_get is O(n) per call).
template <class T, class F> void for_each(const osip_list_t& list, F&& visit) {
  osip_list_iterator_t it;
  for (void* element = osip_list_get_first(&list, &it); osip_list_iterator_has_elem(it);
       element = osip_list_get_next(&it))
    visit(static_cast<T*>(element));
}

/// A generic parameter looked up by name (case-insensitive); `;lr` is present with an empty
/// value.
struct param_lookup {
  bool present = false;
  std::string_view value;
};

param_lookup find_param(const osip_list_t& params, std::string_view name);

// ---- scalars -----------------------------------------------------------------------------

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

/// Decimal digits only (no sign, no space), saturating at `limit`; nullopt for anything else.
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t limit);

/// A port: 1..65535; absent (empty) is 0.
std::optional<std::uint16_t> parse_port(std::string_view text);

inline sip_parse_error fail(sip_parse_errc code, std::string detail) {
  return {code, std::move(detail)};
}

// ---- conversion --------------------------------------------------------------------------

enum class uri_role : std::uint8_t { request_uri, header };

/// The URI as a sip_uri; `text` is kept as the URI's text, or for a header URI without text
/// osip's re-serialisation.
std::expected<sip_uri, error> convert_uri(const osip_uri_t* uri, std::string text, uri_role role);

/// Every header after the start line (Via to Content-Type) into `out`, as parse_sip_message
/// checks them; the first refusal, or nullopt.
std::optional<sip_parse_error> read_headers(const osip_message_t& message, sip_message& out);

} // namespace ward::telephony::detail
