#include "telephony/b2bua_internal.hpp"

#include "core/hex.hpp"
#include "core/net_address.hpp"

#include <algorithm>
#include <array>

namespace ward::telephony {

using namespace detail;

namespace detail {

std::string hex_token(const random_source& random, std::size_t bytes) {
  std::array<std::byte, 32> raw{};
  bytes = std::min(bytes, raw.size());
  random(std::span(raw.data(), bytes));
  return to_hex(std::span<const std::byte>(raw.data(), bytes));
}

std::string decimal_token(const random_source& random) {
  std::array<std::byte, 6> raw{};
  random(raw);
  std::uint64_t value = 0;
  for (auto b : raw)
    value = (value << 8) | std::to_integer<std::uint64_t>(b);
  return std::to_string(value);
}

std::string new_branch(const random_source& random) {
  return "z9hG4bK" + hex_token(random, 12);
}

std::string host_text(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

std::optional<sip_endpoint> parse_source(const std::string& source, transport kind) {
  auto split = split_host_port(source);
  if (!split)
    return std::nullopt;
  return sip_endpoint{kind, std::string(split->host), split->port, {}};
}

std::string response_to(const sip_message& request, const sip_endpoint& from, int code,
                        std::string_view reason,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view to_tag, std::string_view content_type,
                        std::string_view body) {
  bool received = from.kind != transport::line;
  return build_response(request, code, reason, headers, to_tag,
                        received ? std::string_view(from.address) : std::string_view(),
                        received ? from.port : 0, content_type, body);
}

sip_request_fields callee_request(const b2bua_call& c, std::string method, std::string request_uri,
                                  std::string via) {
  sip_request_fields fields;
  fields.method = std::move(method);
  fields.request_uri = std::move(request_uri);
  fields.via = std::move(via);
  fields.from = c.b_from;
  fields.to = c.b_to;
  fields.call_id = c.b_call_id;
  fields.cseq = c.b_invite_cseq;
  return fields;
}

std::string callee_to(const b2bua_call& c) {
  return c.b_to + (c.b_remote_tag.empty() ? "" : ";tag=" + c.b_remote_tag);
}

} // namespace detail

std::string b2bua::via_for(const sip_endpoint& to, const std::string& branch) const {
  std::string via = "SIP/2.0/";
  std::uint16_t port = settings_.udp_port;
  switch (to.kind) {
    case transport::udp:
      via += "UDP ";
      break;
    case transport::tcp:
      via += "TCP ";
      port = settings_.tcp_port;
      break;
    case transport::tls:
    case transport::line:
      via += "TLS ";
      port = settings_.tls_port;
      break;
  }
  via += join_host_port(settings_.address, port) + ";branch=" + branch;
  if (to.kind == transport::udp)
    via += ";rport";
  return via;
}

std::string b2bua::contact_for(const sip_endpoint& to, bool sips) const {
  auto host = host_text(settings_.address);
  switch (to.kind) {
    case transport::udp:
      return "<sip:ward@" + host + ":" + std::to_string(settings_.udp_port) + ">";
    case transport::tcp:
      return "<sip:ward@" + host + ":" + std::to_string(settings_.tcp_port) + ";transport=tcp>";
    case transport::tls:
    case transport::line:
      // RFC 3261 12.1.1: a sips Contact only when the dialog was set up with sips; phones that
      // called a sip: URI over TLS expect sip:...;transport=tls back.
      if (sips)
        return "<sips:ward@" + host + ":" + std::to_string(settings_.tls_port) + ">";
      return "<sip:ward@" + host + ":" + std::to_string(settings_.tls_port) + ";transport=tls>";
  }
  return {};
}

std::string b2bua::answer_caller(call& c, int code, std::string_view reason, bool with_sdp,
                                 time_point now, std::string_view warning) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!warning.empty()) {
    std::string text;
    for (char ch : warning)
      text += ch == '"' || ch == '\\' ? '\'' : ch;
    headers.emplace_back("Warning", "304 " + host_text(settings_.address) + " \"" + text + "\"");
  }
  if (code > 100 && code < 300)
    headers.emplace_back("Contact",
                         contact_for(c.a_peer, c.invite.request_uri.scheme == uri_scheme::sips));
  auto text = response_to(c.invite, c.a_peer, code, reason, headers,
                          code > 100 ? std::string_view(c.a_tag) : std::string_view(),
                          with_sdp ? "application/sdp" : "",
                          with_sdp ? std::string_view(c.a_answer_sdp) : std::string_view());
  c.a_last_response = text;
  if (code >= 200 && c.a_final_code == 0) {
    c.a_final_code = code;
    // RFC 3261 13.3.1.4 and 17.2.1: over UDP the final answer is repeated until the ACK.
    c.a_resend_interval = settings_.t1;
    c.a_resend_at = now + settings_.t1;
    c.a_resend_until = now + transaction_lifetime;
  }
  return text;
}

std::string b2bua::ack_callee(const call& c, const std::string& request_uri,
                              const std::string& branch) const {
  auto ack = callee_request(c, "ACK", request_uri, via_for(c.b_peer, branch));
  ack.to = callee_to(c);
  return build_request(ack);
}

sip_send b2bua::cancel_callee(call& c, time_point now) {
  // CANCEL repeats the INVITE's branch, Request-URI, From, To and CSeq number (RFC 3261 9.1).
  auto cancel = callee_request(c, "CANCEL", c.b_request_uri, via_for(c.b_peer, c.b_branch));
  c.cancel_sent = true;
  sip_send to_callee{c.b_peer, build_request(cancel)};
  track(c, to_callee, "CANCEL", now);
  return to_callee;
}

sip_send b2bua::bye_to(call& c, bool to_caller, const random_source& random) {
  if (to_caller) {
    sip_request_fields fields;
    fields.method = "BYE";
    fields.request_uri =
        c.a_contact.empty() ? "sip:" + c.caller + "@" + host_text(c.a_peer.address) : c.a_contact;
    fields.via = via_for(c.a_peer, new_branch(random));
    fields.from = c.invite.to.value + ";tag=" + c.a_tag;
    fields.to = c.invite.from.value;
    fields.call_id = c.invite.call_id;
    fields.cseq = ++c.a_cseq_out;
    return {c.a_peer, build_request(fields)};
  }
  auto fields = callee_request(c, "BYE", c.b_remote_target, via_for(c.b_peer, new_branch(random)));
  fields.to = callee_to(c);
  fields.cseq = ++c.b_cseq_out;
  return {c.b_peer, build_request(fields)};
}

} // namespace ward::telephony
