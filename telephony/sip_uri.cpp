#include "telephony/sip_message_internal.hpp"

#include <string>
#include <utility>

namespace ward::telephony {

using namespace detail;

namespace {

/// A digest uri is at most an Authorization header long; beyond that it is hostile.
constexpr std::size_t max_standalone_uri_length = 4096;

std::unexpected<error> refuse_uri(const char* why) {
  return std::unexpected(error{errc::bad_uri, why});
}

uri_scheme classify_scheme(std::string_view scheme) {
  if (iequals(scheme, "sip"))
    return uri_scheme::sip;
  if (iequals(scheme, "sips"))
    return uri_scheme::sips;
  if (iequals(scheme, "tel"))
    return uri_scheme::tel;
  return uri_scheme::other;
}

} // namespace

namespace detail {

std::expected<sip_uri, error> convert_uri(const osip_uri_t* uri, std::string text, uri_role role) {
  if (uri == nullptr || uri->scheme == nullptr)
    return refuse_uri("URI without a scheme");
  // Escaped headers make a URI carry headers into the next request: a Request-URI must not
  // (RFC 4475 escruri) and neither the registrar nor the B2BUA follows them in a header URI,
  // so a phone asking for them (RFC 4475 regbadct and regescrt) gets a 400.
  if (osip_list_size(&uri->url_headers) > 0)
    return refuse_uri("URI with escaped headers");
  sip_uri out;
  out.scheme = classify_scheme(uri->scheme);
  out.user = view(uri->username);
  out.host = view(uri->host);
  auto port = parse_port(view(uri->port));
  if (!port)
    return refuse_uri("URI port out of range");
  out.port = *port;
  if ((out.scheme == uri_scheme::sip || out.scheme == uri_scheme::sips) && out.host.empty())
    return refuse_uri("sip URI without host");
  if (role == uri_role::header && text.empty()) {
    auto serialised = serialise(uri, osip_uri_to_str);
    if (!serialised)
      return refuse_uri("URI osip cannot print");
    text = std::move(*serialised);
  }
  out.text = std::move(text);
  return out;
}

} // namespace detail

std::expected<sip_uri, error> parse_uri(std::string_view text) {
  if (text.empty() || text.size() > max_standalone_uri_length)
    return refuse_uri("URI empty or too long");
  if (text.find('\0') != std::string_view::npos || text.find("%00") != std::string_view::npos)
    return refuse_uri("URI with a NUL");
  init_osip_once();
  arena_scope scope;
  osip_uri_t* uri = nullptr;
  if (osip_uri_init(&uri) != 0)
    return refuse_uri("osip out of memory");
  std::string terminated(text);
  if (osip_uri_parse(uri, terminated.c_str()) != 0)
    return refuse_uri("osip refused the URI");
  return convert_uri(uri, std::move(terminated), uri_role::request_uri);
}

} // namespace ward::telephony
