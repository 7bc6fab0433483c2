#include "telephony/sip_message_internal.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace ward::telephony {

using namespace detail;

namespace {

/// Display names come from osip with their quotes and quoted-pairs; callers want the text.
std::string unquote_display(std::string_view display) {
  if (display.size() < 2 || display.front() != '"' || display.back() != '"')
    return std::string(display);
  std::string out;
  out.reserve(display.size() - 2);
  auto inner = display.substr(1, display.size() - 2);
  for (std::size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '\\' && i + 1 < inner.size())
      ++i;
    out += inner[i];
  }
  return out;
}

std::expected<sip_name_addr, sip_parse_error> convert_name_addr(const osip_from_t* header,
                                                                std::string_view name) {
  if (header == nullptr)
    return std::unexpected(fail(sip_parse_errc::missing_header, std::string(name)));
  if (header->url == nullptr)
    return std::unexpected(fail(sip_parse_errc::bad_header, std::string(name) + " without URI"));
  sip_name_addr out;
  auto value = serialise(header, osip_from_to_str);
  if (!value)
    return std::unexpected(fail(sip_parse_errc::bad_header, std::string(name)));
  out.value = std::move(*value);
  out.display = unquote_display(view(header->displayname));
  auto uri = convert_uri(header->url, {}, uri_role::header);
  if (!uri)
    return std::unexpected(
        fail(sip_parse_errc::bad_header, std::string(name) + ": " + uri.error().detail));
  out.uri = std::move(*uri);
  auto tag = find_param(header->gen_params, "tag");
  out.tag = tag.value;
  return out;
}

std::expected<sip_via, sip_parse_error> convert_via(const osip_via_t* via) {
  if (via == nullptr || via->host == nullptr || via->protocol == nullptr)
    return std::unexpected(fail(sip_parse_errc::bad_header, "Via without transport or host"));
  if (!iequals(view(via->version), "2.0"))
    return std::unexpected(fail(sip_parse_errc::unsupported_version, "Via is not SIP/2.0"));
  sip_via out;
  auto value = serialise(via, osip_via_to_str);
  if (!value)
    return std::unexpected(fail(sip_parse_errc::bad_header, "Via osip cannot print"));
  out.value = std::move(*value);
  out.transport = via->protocol;
  out.host = via->host;
  auto port = parse_port(view(via->port));
  if (!port || out.host.empty() || out.transport.empty())
    return std::unexpected(fail(sip_parse_errc::bad_header, "Via sent-by out of range"));
  out.port = *port;
  for_each<osip_generic_param_t>(via->via_params, [&](osip_generic_param_t* param) {
    if (param->gname == nullptr)
      return;
    sip_param p{param->gname, std::nullopt};
    if (param->gvalue != nullptr)
      p.value = param->gvalue;
    if (iequals(p.name, "branch") && out.branch.empty())
      out.branch = p.value.value_or("");
    else if (iequals(p.name, "rport"))
      out.rport = true;
    else if (iequals(p.name, "received") && out.received.empty())
      out.received = p.value.value_or("");
    out.params.push_back(std::move(p));
  });
  return out;
}

std::expected<sip_contact, sip_parse_error> convert_contact(const osip_contact_t* contact) {
  sip_contact out;
  if (contact->url == nullptr) {
    // osip files "*" (and, sloppily, anything starting with "*") as a display name.
    if (view(contact->displayname) == "*" && osip_list_size(&contact->gen_params) == 0) {
      out.wildcard = true;
      return out;
    }
    return std::unexpected(fail(sip_parse_errc::bad_header, "Contact without URI"));
  }
  auto uri = convert_uri(contact->url, {}, uri_role::header);
  if (!uri)
    return std::unexpected(fail(sip_parse_errc::bad_header, "Contact: " + uri.error().detail));
  out.uri = std::move(*uri);
  auto expires = find_param(contact->gen_params, "expires");
  if (expires.present) {
    // RFC 3261 20.19 bounds expiry at 2^32-1; larger values saturate (RFC 4475 scalarlg
    // allows treating them as the default, and the registrar caps them anyway).
    auto seconds = parse_decimal(expires.value, std::numeric_limits<std::uint32_t>::max());
    if (!seconds)
      return std::unexpected(fail(sip_parse_errc::bad_header, "Contact expires is not a number"));
    out.expires = static_cast<std::uint32_t>(*seconds);
  }
  return out;
}

/// Max-Forwards, Expires, User-Agent and Priority are not among the headers osip parses; they sit
/// in its list of other headers with lower-cased names.
std::optional<sip_parse_error> read_other_headers(const osip_message_t& message, sip_message& out) {
  std::optional<sip_parse_error> error;
  bool max_forwards_seen = false;
  bool user_agent_seen = false;
  for_each<osip_header_t>(message.headers, [&](osip_header_t* header) {
    if (error || header->hname == nullptr)
      return;
    std::string_view name(header->hname);
    std::string_view value = view(header->hvalue);
    if (name == "max-forwards") {
      auto hops = parse_decimal(value, 1000);
      if (max_forwards_seen || !hops || *hops > 255)
        error = fail(sip_parse_errc::bad_header, "Max-Forwards not a single number up to 255");
      else
        out.max_forwards = static_cast<std::uint32_t>(*hops);
      max_forwards_seen = true;
    } else if (name == "expires") {
      auto seconds = parse_decimal(value, std::numeric_limits<std::uint32_t>::max());
      if (out.expires || !seconds)
        error = fail(sip_parse_errc::bad_header, "Expires not a single number");
      else
        out.expires = static_cast<std::uint32_t>(*seconds);
    } else if (name == "user-agent" && !user_agent_seen) {
      out.user_agent = value;
      user_agent_seen = true;
    } else if (name == "priority" && out.priority.empty()) {
      out.priority = value;
      std::ranges::transform(out.priority, out.priority.begin(),
                             [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
  });
  return error;
}

/// Converts every element of an osip list into `out` in order; the first refusal stops it.
template <class T, class Value, class Convert>
std::optional<sip_parse_error> convert_all(const osip_list_t& list, std::vector<Value>& out,
                                           Convert convert) {
  out.reserve(static_cast<std::size_t>(osip_list_size(&list)));
  std::optional<sip_parse_error> error;
  for_each<T>(list, [&](T* element) {
    if (error)
      return;
    auto converted = convert(element);
    if (!converted)
      error = std::move(converted.error());
    else
      out.push_back(std::move(*converted));
  });
  return error;
}

/// Authorization values osip cannot print are left out, as if the phone had sent none.
template <class T>
void serialise_authorizations(const osip_list_t& list, std::vector<std::string>& out) {
  for_each<T>(list, [&](T* authorization) {
    if (auto value = serialise(authorization, osip_authorization_to_str))
      out.push_back(std::move(*value));
  });
}

/// From, To, Call-ID and CSeq: what names the dialog and the transaction.
std::optional<sip_parse_error> read_dialog_headers(const osip_message_t& m, sip_message& out) {
  auto from = convert_name_addr(m.from, "From");
  if (!from)
    return std::move(from.error());
  out.from = std::move(*from);
  auto to = convert_name_addr(m.to, "To");
  if (!to)
    return std::move(to.error());
  out.to = std::move(*to);

  if (m.call_id == nullptr || m.call_id->number == nullptr || *m.call_id->number == '\0')
    return fail(sip_parse_errc::missing_header, "Call-ID");
  auto call_id = serialise(m.call_id, osip_call_id_to_str);
  if (!call_id)
    return fail(sip_parse_errc::bad_header, "Call-ID");
  out.call_id = std::move(*call_id);

  if (m.cseq == nullptr || m.cseq->number == nullptr || m.cseq->method == nullptr)
    return fail(sip_parse_errc::missing_header, "CSeq");
  // RFC 3261 8.1.1.5: the sequence number is below 2^31 (RFC 4475 scalarlg sends 2^65).
  auto cseq = parse_decimal(m.cseq->number, std::uint64_t{1} << 32);
  if (!cseq || *cseq >= (std::uint64_t{1} << 31))
    return fail(sip_parse_errc::bad_header, "CSeq number out of range");
  out.cseq = static_cast<std::uint32_t>(*cseq);
  out.cseq_method = m.cseq->method;
  if (out.is_request && out.cseq_method != out.method)
    return fail(sip_parse_errc::cseq_mismatch, out.cseq_method + " vs " + out.method);
  return std::nullopt;
}

} // namespace

namespace detail {

std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t limit) {
  if (text.empty())
    return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (limit - digit) / 10 ? limit : value * 10 + digit;
  }
  return value;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty())
    return std::uint16_t{0};
  auto value = parse_decimal(text, 1u << 20);
  if (!value || *value == 0 || *value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(*value);
}

std::optional<sip_parse_error> read_headers(const osip_message_t& m, sip_message& out) {
  if (osip_list_size(&m.vias) == 0)
    return fail(sip_parse_errc::missing_header, "Via");
  if (auto bad = convert_all<osip_via_t>(m.vias, out.vias, convert_via))
    return bad;
  if (auto bad = read_dialog_headers(m, out))
    return bad;
  if (auto bad = read_other_headers(m, out))
    return bad;
  if (auto bad = convert_all<osip_contact_t>(m.contacts, out.contacts, convert_contact))
    return bad;
  serialise_authorizations<osip_authorization_t>(m.authorizations, out.authorizations);
  serialise_authorizations<osip_proxy_authorization_t>(m.proxy_authorizations,
                                                       out.proxy_authorizations);
  for_each<osip_www_authenticate_t>(m.www_authenticates, [&](osip_www_authenticate_t* header) {
    if (auto value = serialise(header, osip_www_authenticate_to_str))
      out.www_authenticates.push_back(std::move(*value));
  });
  for_each<osip_proxy_authenticate_t>(
      m.proxy_authenticates, [&](osip_proxy_authenticate_t* header) {
        if (auto value = serialise(header, osip_www_authenticate_to_str))
          out.proxy_authenticates.push_back(std::move(*value));
      });
  if (m.content_type != nullptr)
    if (auto value = serialise(m.content_type, osip_content_type_to_str))
      out.content_type = std::move(*value);
  return std::nullopt;
}

} // namespace detail
} // namespace ward::telephony
