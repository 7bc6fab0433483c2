#include "telephony/sip_message.hpp"

#include "core/net_address.hpp"
#include "telephony/sip_message_internal.hpp"

#include <algorithm>
#include <string>

namespace ward::telephony {
namespace {

using detail::iequals;

/// True when both are IP literals of the same address, whatever their spelling.
bool same_ip(std::string_view a, std::string_view b) {
  auto a_address = parse_ip_address(a);
  auto b_address = parse_ip_address(b);
  return a_address && b_address && *a_address == *b_address;
}

void append_clean(std::string& out, std::string_view text) {
  for (char c : text)
    if (c != '\r' && c != '\n')
      out += c;
}

void append_top_via(std::string& out, const sip_via& via, std::string_view received_address,
                    std::uint16_t received_port) {
  // RFC 3261 18.2.1: received= when the sent-by is a name or another address; RFC 3581: with
  // rport the received parameter is always added and rport gets the source port.
  bool add_received =
      !received_address.empty() && (via.rport || !same_ip(via.host, received_address));
  bool fill_rport = via.rport && !received_address.empty() && received_port != 0;
  bool stale_received = !via.received.empty();
  if (!add_received && !fill_rport && !stale_received) {
    out += via.value;
    return;
  }
  out += "SIP/2.0/";
  out += via.transport;
  out += ' ';
  bool ipv6 = via.host.find(':') != std::string::npos;
  if (ipv6)
    out += '[';
  out += via.host;
  if (ipv6)
    out += ']';
  if (via.port != 0) {
    out += ':';
    out += std::to_string(via.port);
  }
  for (const auto& param : via.params) {
    // A received parameter in a request is the client's invention; only ours goes back.
    if (iequals(param.name, "received"))
      continue;
    out += ';';
    out += param.name;
    if (iequals(param.name, "rport") && fill_rport) {
      out += '=';
      out += std::to_string(received_port);
    } else if (param.value) {
      out += '=';
      out += *param.value;
    }
  }
  if (add_received) {
    out += ";received=";
    append_clean(out, received_address);
  }
}

} // namespace

std::string build_response(const sip_message& request, int code, std::string_view reason,
                           const std::vector<std::pair<std::string, std::string>>& extra_headers,
                           std::string_view to_tag, std::string_view received_address,
                           std::uint16_t received_port, std::string_view content_type,
                           std::string_view body) {
  std::string out;
  std::size_t estimate = 128 + reason.size() + request.from.value.size() + request.to.value.size() +
                         request.call_id.size() + to_tag.size();
  for (const auto& via : request.vias)
    estimate += via.value.size() + 48;
  for (const auto& [name, value] : extra_headers)
    estimate += name.size() + value.size() + 4;
  out.reserve(estimate);

  out += "SIP/2.0 ";
  out += std::to_string(std::clamp(code, 100, 699));
  out += ' ';
  append_clean(out, reason);
  out += "\r\n";
  bool top = true;
  for (const auto& via : request.vias) {
    out += "Via: ";
    if (top)
      append_top_via(out, via, received_address, received_port);
    else
      out += via.value;
    out += "\r\n";
    top = false;
  }
  out += "From: ";
  out += request.from.value;
  out += "\r\nTo: ";
  out += request.to.value;
  if (request.to.tag.empty() && !to_tag.empty()) {
    out += ";tag=";
    append_clean(out, to_tag);
  }
  out += "\r\nCall-ID: ";
  out += request.call_id;
  out += "\r\nCSeq: ";
  out += std::to_string(request.cseq);
  out += ' ';
  out += request.cseq_method;
  out += "\r\n";
  for (const auto& [name, value] : extra_headers) {
    append_clean(out, name);
    out += ": ";
    append_clean(out, value);
    out += "\r\n";
  }
  out += "Server: Ward\r\n";
  if (!body.empty()) {
    out += "Content-Type: ";
    append_clean(out, content_type);
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
  return out;
}

std::string build_request(const sip_request_fields& fields) {
  std::string out;
  out.reserve(512 + fields.body.size());
  auto header = [&out](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    append_clean(out, value);
    out += "\r\n";
  };
  append_clean(out, fields.method);
  out += ' ';
  append_clean(out, fields.request_uri);
  out += " SIP/2.0\r\n";
  header("Via", fields.via);
  header("Max-Forwards", std::to_string(fields.max_forwards));
  header("From", fields.from);
  header("To", fields.to);
  header("Call-ID", fields.call_id);
  header("CSeq", std::to_string(fields.cseq) + " " + fields.method);
  if (!fields.contact.empty())
    header("Contact", fields.contact);
  for (const auto& [name, value] : fields.extra_headers)
    header(name, value);
  out += "User-Agent: Ward\r\n";
  if (!fields.body.empty())
    header("Content-Type", fields.content_type);
  header("Content-Length", std::to_string(fields.body.size()));
  out += "\r\n";
  out += fields.body;
  return out;
}

} // namespace ward::telephony
