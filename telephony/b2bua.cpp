#include "telephony/b2bua.hpp"

#include "core/hex.hpp"
#include "core/net_address.hpp"

#include <algorithm>
#include <charconv>

namespace ward::telephony {
namespace {

using std::chrono::milliseconds;

/// RFC 3261 64*T1: how long a transaction is retried, and how long an ended call's dialogs
/// are remembered so retransmissions are answered rather than refused.
constexpr auto transaction_lifetime = std::chrono::seconds(32);
/// RFC 3261 T2: the longest interval between retransmissions of a non-INVITE request.
constexpr milliseconds t2{4000};

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

std::string host_text(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

/// "ip:port" or "[v6]:port" back into an endpoint.
std::optional<sip_endpoint> parse_source(const std::string& source, transport kind) {
  auto split = split_host_port(source);
  if (!split)
    return std::nullopt;
  return sip_endpoint{kind, std::string(split->host), split->port, {}};
}

std::string leg_text(const sip_endpoint& endpoint) {
  return endpoint.kind == transport::line ? "line:" + endpoint.node
                                          : std::string(to_string(endpoint.kind));
}

/// The media line the call anchors: the first audio stream with a port, else the first
/// stream with a port.
std::optional<std::size_t> anchored_stream(const sdp_session& sdp) {
  std::optional<std::size_t> any;
  for (std::size_t i = 0; i < sdp.media.size(); ++i) {
    if (sdp.media[i].port == 0)
      continue;
    if (sdp.media[i].type == "audio")
      return i;
    if (!any)
      any = i;
  }
  return any;
}

bool is_sdp(const sip_message& message) {
  auto type = std::string_view(message.content_type);
  auto semicolon = type.find(';');
  type = type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  std::string lower(type);
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower == "application/sdp" && !message.body.empty();
}

call_end end_for(int code) {
  switch (code) {
    case 486:
    case 600:
      return call_end::busy;
    case 404:
    case 408:
    case 410:
    case 480:
      return call_end::unavailable;
    case 487:
      return call_end::cancelled;
    default:
      return call_end::rejected;
  }
}

/// RFC 1918 and RFC 6598 IPv4 ranges: addresses a phone behind NAT writes in its SDP.
bool is_private_ipv4(std::string_view address) {
  unsigned a = 0, b = 0;
  auto [p1, e1] = std::from_chars(address.data(), address.data() + address.size(), a);
  if (e1 != std::errc{} || p1 == address.data() + address.size() || *p1 != '.')
    return false;
  auto [p2, e2] = std::from_chars(p1 + 1, address.data() + address.size(), b);
  if (e2 != std::errc{})
    return false;
  return a == 10 || (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168) ||
         (a == 100 && b >= 64 && b <= 127);
}

/// Where a phone's media comes from: the SDP's address, unless the phone is behind NAT
/// (a private SDP address, signalling from another address), when it is the address its
/// signalling came from; the relay latches onto the port (symmetric RTP).
std::string media_address(const std::string& sdp_address, const sip_endpoint& signalling) {
  if (signalling.kind == transport::line || sdp_address == signalling.address)
    return sdp_address;
  return is_private_ipv4(sdp_address) && !is_private_ipv4(signalling.address) ? signalling.address
                                                                              : sdp_address;
}

/// Whether a phone's media comes from the address its SDP names: not behind NAT, so another
/// phone can send to it directly (SPEC MED-3).
bool media_reachable_directly(const std::string& sdp_address, const sip_endpoint& signalling) {
  return signalling.kind != transport::line && !sdp_address.empty() && sdp_address != "0.0.0.0" &&
         sdp_address != "::" && media_address(sdp_address, signalling) == sdp_address;
}

/// Whether a registered phone sends from the address its Contact names, as a phone on the
/// node's own network does; one behind NAT registers a private Contact from a public source.
bool registered_without_nat(const registration_binding& binding) {
  auto uri = parse_uri(binding.contact);
  auto source = parse_source(binding.source, binding.kind);
  return uri && source && !uri->host.empty() && uri->host == source->address;
}

/// SDES keys travel only where nobody can read them (SPEC MED-1).
bool secure_signalling(const sip_endpoint& endpoint) {
  return endpoint.kind == transport::tls || endpoint.kind == transport::line;
}

/// A stream's profile and a=crypto values as the media policy reads them; the views point
/// into `media`.
struct stream_media {
  media::transport_profile profile = media::transport_profile::rtp_avp;
  std::vector<std::string_view> crypto;
};

std::optional<stream_media> stream_media_of(const sdp_media& media) {
  auto profile = media::parse_transport_profile(media.proto);
  if (!profile)
    return std::nullopt;
  stream_media out{*profile, {}};
  for (const auto& attribute : media.attributes)
    if (attribute.starts_with("crypto:"))
      out.crypto.push_back(std::string_view(attribute).substr(7));
  return out;
}

std::string media_text(const std::optional<media_anchor::leg_keys>& keys) {
  if (!keys || keys->outbound.suite == nullptr)
    return "rtp";
  return "srtp:" + std::string(keys->outbound.suite->name);
}

} // namespace

std::string endpoint_text(const sip_endpoint& endpoint) {
  if (endpoint.kind == transport::line)
    return "line:" + endpoint.node;
  return join_host_port(endpoint.address, endpoint.port);
}

std::string_view to_string(call_state state) {
  switch (state) {
    case call_state::calling:
      return "calling";
    case call_state::ringing:
      return "ringing";
    case call_state::answered:
      return "answered";
    case call_state::ended:
      return "ended";
  }
  return "ended";
}

std::string_view to_string(call_end end) {
  switch (end) {
    case call_end::completed:
      return "completed";
    case call_end::busy:
      return "busy";
    case call_end::unavailable:
      return "unavailable";
    case call_end::rejected:
      return "rejected";
    case call_end::cancelled:
      return "cancelled";
    case call_end::no_answer:
      return "no_answer";
    case call_end::timeout:
      return "timeout";
    case call_end::media_failure:
      return "media_failure";
  }
  return "rejected";
}

/// A request this node sent over UDP and retransmits until it is answered (RFC 3261 17.1).
struct b2bua::pending {
  sip_send send;
  std::string method;
  time_point next{};
  milliseconds interval{};
  time_point give_up{};
};

struct b2bua::call {
  std::uint64_t id = 0;
  call_state state = call_state::calling;
  std::string caller;
  std::string callee;
  time_point started{};
  time_point answered_at{};
  time_point ring_deadline{};
  time_point linger_until{};

  // Leg a: the caller's dialog, this node as UAS.
  sip_message invite;
  sip_endpoint a_peer;
  std::string a_tag;
  std::string a_contact;
  std::uint32_t a_cseq_out = 0;
  std::string a_last_response;
  int a_final_code = 0;
  bool a_acked = false;
  time_point a_resend_at{};
  milliseconds a_resend_interval{};
  time_point a_resend_until{};
  std::string a_sdp_id;
  std::uint64_t a_sdp_version = 1;
  std::string a_answer_sdp;

  // Leg b: the callee's dialog, this node as UAC.
  sip_endpoint b_peer;
  std::string b_call_id;
  std::string b_tag;
  std::string b_remote_tag;
  std::string b_request_uri;
  std::string b_remote_target;
  std::string b_from;
  std::string b_to;
  std::string b_branch;
  std::uint32_t b_invite_cseq = 1;
  std::uint32_t b_cseq_out = 1;
  bool b_responded = false;
  bool b_final = false;
  std::string b_ack;
  std::string b_offer_sdp;
  std::string b_sdp_id;
  std::uint64_t b_sdp_version = 1;
  bool cancel_sent = false;

  media_anchor::ports ports;
  bool media_held = false;
  // SPEC MED-1, MED-2: what each leg negotiated.
  media::transport_profile a_profile = media::transport_profile::rtp_avp;
  std::optional<media_anchor::leg_keys> a_keys;
  media::media_security b_policy = media::media_security::best_effort;
  media::offer_plan b_plan;
  std::vector<media::crypto_attribute> b_offered;
  std::optional<media_anchor::leg_keys> b_keys;
  /// SPEC MED-4: 2 when a leg may be SRTP, else 1; 0 for direct media.
  std::size_t media_units = 1;
  // SPEC MED-3: direct media. The caller's offer goes to the callee unchanged and the
  // callee's answer back; `a_offered` are the caller's usable a=crypto lines, which the
  // answer must pick from, and `direct_policy` the policy both phones share.
  bool direct = false;
  media::transport_profile a_offered_profile = media::transport_profile::rtp_avp;
  std::vector<media::crypto_attribute> a_offered;
  media::media_security direct_policy = media::media_security::best_effort;
  std::string direct_media = "rtp";
  /// Where each phone receives media, "address port": a re-INVITE that moves it cannot be
  /// followed by the other phone in a direct call.
  std::string a_media_endpoint;
  std::string b_media_endpoint;
  std::size_t stream = 0;
  std::vector<pending> outstanding;
};

b2bua::b2bua(b2bua_settings settings, media_anchor& media)
    : settings_(std::move(settings)), media_(media) {}

b2bua::~b2bua() = default;

b2bua::call* b2bua::find_by_caller(const std::string& call_id) {
  auto it = by_caller_.find(call_id);
  return it == by_caller_.end() ? nullptr : calls_.at(it->second).get();
}

b2bua::call* b2bua::find_by_callee(const std::string& call_id) {
  auto it = by_callee_.find(call_id);
  return it == by_callee_.end() ? nullptr : calls_.at(it->second).get();
}

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
                                 time_point now) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (code > 100 && code < 300)
    headers.emplace_back("Contact",
                         contact_for(c.a_peer, c.invite.request_uri.scheme == uri_scheme::sips));
  bool received = c.a_peer.kind != transport::line;
  auto text = build_response(c.invite, code, reason, headers,
                             code > 100 ? std::string_view(c.a_tag) : std::string_view(),
                             received ? std::string_view(c.a_peer.address) : std::string_view(),
                             received ? c.a_peer.port : 0, with_sdp ? "application/sdp" : "",
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

void b2bua::track(call& c, const sip_send& send, const std::string& method, time_point now) {
  if (send.to.kind != transport::udp)
    return;
  c.outstanding.push_back(
      pending{send, method, now + settings_.t1, settings_.t1, now + transaction_lifetime});
}

std::vector<sip_send> b2bua::start_call(const sip_message& invite, const sip_endpoint& from,
                                        std::string caller, const call_target& target,
                                        time_point now, const random_source& random,
                                        const call_media_policy& policy) {
  std::vector<sip_send> out;
  bool received = from.kind != transport::line;
  auto refuse = [&](int code, std::string_view reason, std::string warning = {}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!warning.empty())
      headers.emplace_back("Warning", "399 ward \"" + warning + "\"");
    out.push_back({from, build_response(invite, code, reason, headers, hex_token(random, 8),
                                        received ? std::string_view(from.address) : "",
                                        received ? from.port : 0)});
    return out;
  };
  if (invite.max_forwards == 0)
    return refuse(483, "Too Many Hops");
  // Emergency calls are always permitted (SPEC MED-2, TF-5): neither Strict SIPS nor the
  // node's capacity refuses them.
  if (settings_.strict_sips && !policy.emergency &&
      ((from.kind != transport::tls && from.kind != transport::line) ||
       invite.request_uri.scheme != uri_scheme::sips))
    return refuse(403, "Forbidden", "Strict SIPS: calls need TLS and a sips URI");
  if (target.binding && settings_.strict_sips && !policy.emergency &&
      target.binding->kind != transport::tls)
    return refuse(480, "Temporarily Unavailable", "Strict SIPS: the callee is not on TLS");
  if (active_calls() >= settings_.max_calls && !policy.emergency)
    return refuse(503, "Service Unavailable", "call capacity reached");
  if (!is_sdp(invite))
    return refuse(488, "Not Acceptable Here", "an SDP offer is required");
  auto offer = parse_sdp(invite.body);
  if (!offer)
    return refuse(488, "Not Acceptable Here", "the SDP offer is malformed");
  auto stream = anchored_stream(*offer);
  if (!stream)
    return refuse(488, "Not Acceptable Here", "the SDP offer has no active stream");

  sip_endpoint b_peer;
  std::string request_uri;
  if (target.binding) {
    auto parsed = parse_source(target.binding->source, target.binding->kind);
    if (!parsed)
      return refuse(480, "Temporarily Unavailable");
    b_peer = *parsed;
    request_uri = target.binding->contact;
  } else if (!target.node.empty()) {
    b_peer = sip_endpoint{transport::line, {}, 0, target.node};
    request_uri = "sip:" + target.extension + "@" + host_text(settings_.address);
  } else {
    return refuse(480, "Temporarily Unavailable");
  }

  // SPEC MED-2: the caller's offer is answered under the caller's policy, the callee is
  // offered what the callee's policy asks; either failing ends the call before it starts.
  auto caller_media = stream_media_of(offer->media[*stream]);
  if (!caller_media)
    return refuse(488, "Not Acceptable Here", "the offer's media profile is not RTP");
  media::received_offer caller_offer{caller_media->profile, caller_media->crypto};
  auto caller_answer =
      media::answer_for(policy.caller, caller_offer, policy.emergency, secure_signalling(from));
  if (!caller_answer)
    return refuse(488, "Not Acceptable Here",
                  "caller media: " + std::string(media::to_string(caller_answer.error().reason)));
  auto callee_plan = media::offer_for(policy.callee, secure_signalling(b_peer), policy.emergency);
  if (!callee_plan)
    return refuse(488, "Not Acceptable Here",
                  "callee media: " + std::string(media::to_string(callee_plan.error().reason)));

  const auto& media = offer->media[*stream];
  // SPEC MED-3: direct media where it leaves neither phone with weaker media than the relay.
  bool direct = false;
  if (policy.direct_media && !policy.emergency && target.binding &&
      media_reachable_directly(media.connection_address, from) &&
      registered_without_nat(*target.binding)) {
    bool caller_offers_keys =
        !caller_media->crypto.empty() || media::is_secure(caller_media->profile);
    // An SRTP-only offer goes direct under Enforce alone, where the relay would offer the
    // callee SRTP only too; under Best Effort the relay connects a callee without SRTP.
    if (caller_answer->transport == media::media_transport::srtp && callee_plan->include_crypto)
      direct = policy.caller == policy.callee && (policy.caller == media::media_security::enforce ||
                                                  !media::is_secure(caller_media->profile));
    else if (!caller_offers_keys && !callee_plan->include_crypto)
      direct = policy.caller != media::media_security::enforce &&
               policy.callee != media::media_security::enforce;
  }

  // SPEC MED-4: SRTP costs the relay about twice what RTP does, so it counts double; direct
  // media costs the relay nothing.
  bool may_be_srtp =
      caller_answer->transport == media::media_transport::srtp || callee_plan->include_crypto;
  std::size_t units = direct ? 0 : may_be_srtp ? 2 : 1;
  if (media_units_ + units > settings_.media_capacity && !policy.emergency)
    return refuse(503, "Service Unavailable", "media capacity reached");
  media_anchor::ports ports_held;
  if (!direct) {
    auto ports = media_.allocate();
    if (!ports)
      return refuse(503, "Service Unavailable", "no media ports");
    ports_held = *ports;
  }

  auto owned = std::make_unique<call>();
  auto& c = *owned;
  c.id = next_id_++;
  c.caller = std::move(caller);
  c.callee = target.extension;
  c.started = now;
  c.ring_deadline = now + settings_.ring_timeout;
  c.invite = invite;
  c.a_peer = from;
  c.a_tag = hex_token(random, 8);
  if (!invite.contacts.empty() && !invite.contacts.front().wildcard)
    c.a_contact = invite.contacts.front().uri.text;
  c.a_sdp_id = decimal_token(random);
  c.b_peer = b_peer;
  c.b_call_id = hex_token(random, 16) + "@ward";
  c.b_tag = hex_token(random, 8);
  c.b_branch = "z9hG4bK" + hex_token(random, 12);
  c.b_request_uri = request_uri;
  c.b_remote_target = request_uri;
  c.b_sdp_id = decimal_token(random);
  c.ports = ports_held;
  c.media_held = !direct;
  c.stream = *stream;
  c.a_media_endpoint = media.connection_address + " " + std::to_string(media.port);
  c.b_policy = policy.callee;

  if (direct) {
    c.direct = true;
    c.direct_policy = policy.caller;
    c.a_offered_profile = caller_media->profile;
    for (auto line : caller_media->crypto)
      if (auto parsed = media::parse_crypto(line); parsed && parsed->suite != nullptr)
        c.a_offered.push_back(*parsed);
    c.b_offer_sdp = invite.body;
  } else {
    // Keys before the peer: an SRTP leg must never be relayed, or latched, as plain RTP.
    c.a_profile = caller_answer->profile;
    if (caller_answer->transport == media::media_transport::srtp && caller_answer->accepted) {
      c.a_keys = media_anchor::leg_keys{
          *caller_answer->accepted, media::make_answer_crypto(*caller_answer->accepted, random)};
      media_.set_crypto(c.ports.id, true, c.a_keys);
    }
    media_.set_peer(c.ports.id, true, media_address(media.connection_address, from), media.port);
    c.b_plan = *callee_plan;
    if (callee_plan->include_crypto)
      c.b_offered = media::make_offer_crypto(media::srtp_options{}, random);
    auto body = anchored_offer(c, invite.body, *offer);
    if (!body) {
      media_.release(c.ports.id);
      return refuse(488, "Not Acceptable Here", "the SDP offer cannot be anchored");
    }
    c.b_offer_sdp = std::move(*body);
  }

  auto host = host_text(settings_.address);
  std::string display;
  if (!invite.from.display.empty()) {
    display = "\"";
    for (char ch : invite.from.display)
      if (ch != '"' && ch != '\\')
        display += ch;
    display += "\" ";
  }
  c.b_from = display + "<sip:" + c.caller + "@" + host + ">;tag=" + c.b_tag;
  c.b_to = "<sip:" + c.callee + "@" + host + ">";

  sip_request_fields fields;
  fields.method = "INVITE";
  fields.request_uri = c.b_request_uri;
  fields.via = via_for(c.b_peer, c.b_branch);
  fields.from = c.b_from;
  fields.to = c.b_to;
  fields.call_id = c.b_call_id;
  fields.cseq = c.b_invite_cseq;
  fields.contact = contact_for(c.b_peer, c.b_request_uri.starts_with("sips:"));
  fields.max_forwards = invite.max_forwards - 1;
  fields.extra_headers = {{"Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"}};
  // The node at the other end of a line keeps the call's emergency exceptions on its leg.
  if (policy.emergency)
    fields.extra_headers.emplace_back("Priority", "emergency");
  fields.content_type = "application/sdp";
  fields.body = c.b_offer_sdp;

  out.push_back({from, answer_caller(c, 100, "Trying", false, now)});
  sip_send to_callee{c.b_peer, build_request(fields)};
  track(c, to_callee, "INVITE", now);
  out.push_back(std::move(to_callee));

  by_caller_[invite.call_id] = c.id;
  by_callee_[c.b_call_id] = c.id;
  c.media_units = units;
  media_units_ += units;
  if (direct)
    ++direct_calls_started_;
  calls_.emplace(c.id, std::move(owned));
  ++active_;
  return out;
}

std::optional<std::string> b2bua::anchored_offer(const call& c, const std::string& body,
                                                 const sdp_session& offer) const {
  sdp_rewrite rewrite;
  rewrite.address = media_.address();
  rewrite.session_id = c.b_sdp_id;
  rewrite.version = c.b_sdp_version;
  rewrite.ports.assign(offer.media.size(), 0);
  rewrite.ports[c.stream] = c.ports.port_b;
  // The caller's keys never reach the callee: every stream loses its a=crypto lines, and
  // the anchored one carries the node's own offer for the callee's leg.
  rewrite.media.assign(offer.media.size(),
                       sdp_media_rewrite{std::nullopt, std::vector<std::string>{}});
  rewrite.media[c.stream].proto = std::string(media::to_string(c.b_plan.profile));
  for (const auto& attribute : c.b_offered)
    rewrite.media[c.stream].crypto->push_back(media::format_crypto(attribute));
  auto rewritten = rewrite_sdp(body, offer, rewrite);
  if (!rewritten)
    return std::nullopt;
  return std::move(*rewritten);
}

std::string b2bua::ack_callee(const call& c, const std::string& request_uri,
                              const std::string& branch) const {
  sip_request_fields ack;
  ack.method = "ACK";
  ack.request_uri = request_uri;
  ack.via = via_for(c.b_peer, branch);
  ack.from = c.b_from;
  ack.to = c.b_to + (c.b_remote_tag.empty() ? "" : ";tag=" + c.b_remote_tag);
  ack.call_id = c.b_call_id;
  ack.cseq = c.b_invite_cseq;
  return build_request(ack);
}

sip_send b2bua::cancel_callee(call& c, time_point now) {
  // CANCEL repeats the INVITE's branch, Request-URI, From, To and CSeq number (RFC 3261 9.1).
  sip_request_fields cancel;
  cancel.method = "CANCEL";
  cancel.request_uri = c.b_request_uri;
  cancel.via = via_for(c.b_peer, c.b_branch);
  cancel.from = c.b_from;
  cancel.to = c.b_to;
  cancel.call_id = c.b_call_id;
  cancel.cseq = c.b_invite_cseq;
  c.cancel_sent = true;
  sip_send to_callee{c.b_peer, build_request(cancel)};
  track(c, to_callee, "CANCEL", now);
  return to_callee;
}

sip_send b2bua::bye_to(call& c, bool to_caller, const random_source& random) {
  sip_request_fields fields;
  fields.method = "BYE";
  if (to_caller) {
    fields.request_uri =
        c.a_contact.empty() ? "sip:" + c.caller + "@" + host_text(c.a_peer.address) : c.a_contact;
    fields.via = via_for(c.a_peer, "z9hG4bK" + hex_token(random, 12));
    fields.from = c.invite.to.value + ";tag=" + c.a_tag;
    fields.to = c.invite.from.value;
    fields.call_id = c.invite.call_id;
    fields.cseq = ++c.a_cseq_out;
    return {c.a_peer, build_request(fields)};
  }
  fields.request_uri = c.b_remote_target;
  fields.via = via_for(c.b_peer, "z9hG4bK" + hex_token(random, 12));
  fields.from = c.b_from;
  fields.to = c.b_to + (c.b_remote_tag.empty() ? "" : ";tag=" + c.b_remote_tag);
  fields.call_id = c.b_call_id;
  fields.cseq = ++c.b_cseq_out;
  return {c.b_peer, build_request(fields)};
}

void b2bua::finish(call& c, call_end end, time_point now) {
  if (c.state == call_state::ended)
    return;
  --active_;
  media_units_ -= c.media_units;
  if (c.media_held) {
    media_.release(c.ports.id);
    c.media_held = false;
  }
  c.state = call_state::ended;
  c.linger_until = now + transaction_lifetime;
  ended_.emplace_back(view_of(c), end);
}

call_view b2bua::view_of(const call& c) const {
  call_view view;
  view.id = c.id;
  view.caller = c.caller;
  view.callee = c.callee;
  view.state = c.state;
  view.caller_leg = leg_text(c.a_peer);
  view.callee_leg = leg_text(c.b_peer);
  view.started = c.started;
  view.answered = c.answered_at;
  view.direct = c.direct;
  view.caller_relay_port = c.ports.port_a;
  view.callee_relay_port = c.ports.port_b;
  view.caller_media = c.direct ? c.direct_media : media_text(c.a_keys);
  view.callee_media = c.direct ? c.direct_media : media_text(c.b_keys);
  return view;
}

std::optional<std::string> b2bua::direct_answer(call& c, const sip_message& response) {
  auto answer = parse_sdp(response.body);
  if (!answer || c.stream >= answer->media.size() || answer->media[c.stream].port == 0)
    return std::nullopt;
  const auto& media = answer->media[c.stream];
  auto callee_media = stream_media_of(media);
  // The caller sends straight to this address: it must be where the callee receives.
  if (!callee_media || !media_reachable_directly(media.connection_address, c.b_peer))
    return std::nullopt;
  media::offer_plan plan{.profile = c.a_offered_profile, .include_crypto = !c.a_offered.empty()};
  media::received_offer received{callee_media->profile, callee_media->crypto};
  auto accepted = media::accept_answer(c.direct_policy, plan, c.a_offered, received);
  if (!accepted)
    return std::nullopt;
  c.direct_media = accepted->transport == media::media_transport::srtp && accepted->accepted
                       ? "srtp:" + std::string(accepted->accepted->suite->name)
                       : "rtp";
  c.b_media_endpoint = media.connection_address + " " + std::to_string(media.port);
  return response.body;
}

std::optional<std::string> b2bua::bridge_answer(call& c, const sip_message& response) {
  if (c.direct)
    return direct_answer(c, response);
  auto answer = parse_sdp(response.body);
  if (!answer || c.stream >= answer->media.size() || answer->media[c.stream].port == 0)
    return std::nullopt;
  const auto& media = answer->media[c.stream];
  auto callee_media = stream_media_of(media);
  if (!callee_media)
    return std::nullopt;
  media::received_offer received{callee_media->profile, callee_media->crypto};
  auto accepted = media::accept_answer(c.b_policy, c.b_plan, c.b_offered, received);
  if (!accepted)
    return std::nullopt;
  std::optional<media_anchor::leg_keys> keys;
  if (accepted->transport == media::media_transport::srtp && accepted->accepted) {
    auto offered =
        std::ranges::find(c.b_offered, accepted->accepted->tag, &media::crypto_attribute::tag);
    if (offered == c.b_offered.end())
      return std::nullopt;
    keys = media_anchor::leg_keys{*accepted->accepted, *offered};
  }
  sdp_rewrite rewrite;
  rewrite.address = media_.address();
  rewrite.session_id = c.a_sdp_id;
  rewrite.version = ++c.a_sdp_version;
  rewrite.ports.assign(answer->media.size(), 0);
  rewrite.ports[c.stream] = c.ports.port_a;
  rewrite.media.assign(answer->media.size(),
                       sdp_media_rewrite{std::nullopt, std::vector<std::string>{}});
  rewrite.media[c.stream].proto = std::string(media::to_string(c.a_profile));
  if (c.a_keys)
    rewrite.media[c.stream].crypto->push_back(media::format_crypto(c.a_keys->outbound));
  auto body = rewrite_sdp(response.body, *answer, rewrite);
  if (!body)
    return std::nullopt;
  std::string text = std::move(*body);
  if (keys != c.b_keys) {
    c.b_keys = keys;
    media_.set_crypto(c.ports.id, false, c.b_keys);
  }
  media_.set_peer(c.ports.id, false, media_address(media.connection_address, c.b_peer), media.port);
  // Both legs settled on RTP: the call costs what a plain call does (SPEC MED-4).
  if (!c.a_keys && !c.b_keys && c.media_units == 2) {
    c.media_units = 1;
    --media_units_;
  }
  return text;
}

std::vector<sip_send> b2bua::on_callee_response(call& c, const sip_message& response,
                                                time_point now, const random_source& random) {
  std::vector<sip_send> out;
  std::erase_if(c.outstanding, [&](const pending& p) {
    return p.method == response.cseq_method &&
           (p.method != "INVITE" || response.status_code >= 100);
  });
  if (response.cseq_method != "INVITE" || response.cseq != c.b_invite_cseq)
    return out;
  int code = response.status_code;
  c.b_responded = true;
  if (code < 200) {
    if (c.state != call_state::calling && code == 100)
      return out;
    if (c.state == call_state::ended || c.b_final || code == 100)
      return out;
    c.state = call_state::ringing;
    bool early_media = false;
    if (is_sdp(response))
      if (auto body = bridge_answer(c, response)) {
        c.a_answer_sdp = std::move(*body);
        early_media = true;
      }
    auto reason = code == 180 ? std::string_view("Ringing") : std::string_view(response.reason);
    out.push_back({c.a_peer, answer_caller(c, code, reason, early_media, now)});
    return out;
  }
  if (code < 300) {
    if (c.b_final) {
      // A retransmitted 2xx: its ACK went missing.
      if (!c.b_ack.empty())
        out.push_back({c.b_peer, c.b_ack});
      return out;
    }
    c.b_final = true;
    c.b_remote_tag = response.to.tag;
    if (!response.contacts.empty() && !response.contacts.front().wildcard)
      c.b_remote_target = response.contacts.front().uri.text;
    // A 2xx is acknowledged in a transaction of its own, at the callee's Contact.
    c.b_ack = ack_callee(c, c.b_remote_target, "z9hG4bK" + hex_token(random, 12));
    out.push_back({c.b_peer, c.b_ack});
    if (c.state == call_state::ended) {
      // Answered after the caller gave up: the callee's dialog is ended at once.
      out.push_back(bye_to(c, false, random));
      return out;
    }
    // The node's answer to the caller, once the callee's answer meets the callee's policy.
    auto body = is_sdp(response) ? bridge_answer(c, response) : std::nullopt;
    if (!body) {
      auto bye = bye_to(c, false, random);
      track(c, bye, "BYE", now);
      out.push_back(std::move(bye));
      out.push_back({c.a_peer, answer_caller(c, 488, "Not Acceptable Here", false, now)});
      finish(c, call_end::media_failure, now);
      return out;
    }
    c.a_answer_sdp = std::move(*body);
    c.state = call_state::answered;
    c.answered_at = now;
    out.push_back({c.a_peer, answer_caller(c, 200, "OK", true, now)});
    return out;
  }
  // A final failure: the ACK reuses the INVITE's branch (RFC 3261 17.1.1.3).
  if (!c.b_final) {
    c.b_final = true;
    c.b_remote_tag = response.to.tag;
    c.b_ack = ack_callee(c, c.b_request_uri, c.b_branch);
  }
  out.push_back({c.b_peer, c.b_ack});
  if (c.state == call_state::ended)
    return out;
  // The callee's own challenges and redirects are not the caller's business.
  int forwarded = code;
  std::string_view reason = response.reason;
  if (code < 400 || code == 401 || code == 407) {
    forwarded = 480;
    reason = "Temporarily Unavailable";
  }
  if (c.cancel_sent) {
    forwarded = 487;
    reason = "Request Terminated";
  }
  out.push_back({c.a_peer, answer_caller(c, forwarded, reason, false, now)});
  finish(c, end_for(forwarded), now);
  return out;
}

std::vector<sip_send> b2bua::on_request_in_dialog(call& c, bool from_caller,
                                                  const sip_message& request,
                                                  const sip_endpoint& from, time_point now,
                                                  const random_source& random) {
  std::vector<sip_send> out;
  bool received = from.kind != transport::line;
  auto reply = [&](int code, std::string_view reason, std::string_view content_type = {},
                   std::string_view body = {}) {
    out.push_back({from, build_response(request, code, reason, {}, {},
                                        received ? std::string_view(from.address) : "",
                                        received ? from.port : 0, content_type, body)});
  };
  const auto& method = request.method;
  if (method == "ACK") {
    if (from_caller)
      c.a_acked = true;
    return out;
  }
  if (c.state == call_state::ended) {
    if (method == "BYE" || method == "CANCEL")
      reply(200, "OK");
    else
      reply(481, "Call/Transaction Does Not Exist");
    return out;
  }
  if (method == "CANCEL") {
    if (!from_caller || request.vias.empty() || c.invite.vias.empty() ||
        request.vias.front().branch != c.invite.vias.front().branch) {
      reply(481, "Call/Transaction Does Not Exist");
      return out;
    }
    reply(200, "OK");
    if (c.a_final_code != 0)
      return out;
    out.push_back(cancel_callee(c, now));
    out.push_back({c.a_peer, answer_caller(c, 487, "Request Terminated", false, now)});
    finish(c, call_end::cancelled, now);
    return out;
  }
  if (method == "BYE") {
    reply(200, "OK");
    if (from_caller && c.state != call_state::answered) {
      // A BYE before the answer is how some phones give up; the callee is cancelled.
      if (!c.b_final) {
        out.push_back(cancel_callee(c, now));
      }
      finish(c, call_end::cancelled, now);
      return out;
    }
    auto bye = bye_to(c, !from_caller, random);
    track(c, bye, "BYE", now);
    out.push_back(std::move(bye));
    finish(c, call_end::completed, now);
    return out;
  }
  if (method == "INVITE") {
    // A re-INVITE (hold, a new media address): this node answers for its own anchor, so the
    // other leg never notices; the relay follows the new address.
    if (is_sdp(request)) {
      auto offer = parse_sdp(request.body);
      if (!offer || c.stream >= offer->media.size()) {
        reply(488, "Not Acceptable Here");
        return out;
      }
      const auto& media = offer->media[c.stream];
      if (c.direct) {
        // The other phone sends straight to this one and would not follow a move (SPEC
        // MED-3): refused, and the call keeps its media.
        const auto& known = from_caller ? c.a_media_endpoint : c.b_media_endpoint;
        if (media.connection_address + " " + std::to_string(media.port) != known) {
          reply(488, "Not Acceptable Here");
          return out;
        }
      } else {
        media_.set_peer(c.ports.id, from_caller, media_address(media.connection_address, from),
                        media.port);
      }
    }
    const auto& body = from_caller ? c.a_answer_sdp : c.b_offer_sdp;
    std::vector<std::pair<std::string, std::string>> headers{
        {"Contact", contact_for(from, request.request_uri.scheme == uri_scheme::sips)}};
    out.push_back({from, build_response(request, 200, "OK", headers, {},
                                        received ? std::string_view(from.address) : "",
                                        received ? from.port : 0, "application/sdp", body)});
    return out;
  }
  if (method == "OPTIONS" || method == "INFO" || method == "UPDATE") {
    reply(200, "OK");
    return out;
  }
  reply(501, "Not Implemented");
  return out;
}

std::optional<std::vector<sip_send>> b2bua::handle(const sip_message& message,
                                                   const sip_endpoint& from, time_point now,
                                                   const random_source& random) {
  if (!message.is_request) {
    if (auto* c = find_by_callee(message.call_id); c != nullptr && from == c->b_peer)
      return on_callee_response(*c, message, now, random);
    if (auto* c = find_by_caller(message.call_id); c != nullptr && from == c->a_peer) {
      std::erase_if(c->outstanding,
                    [&](const pending& p) { return p.method == message.cseq_method; });
      return std::vector<sip_send>{};
    }
    return std::nullopt;
  }
  if (auto* c = find_by_callee(message.call_id); c != nullptr) {
    // Only the callee, inside its dialog, speaks on this Call-ID.
    if (!(from == c->b_peer) || message.from.tag != c->b_remote_tag || message.to.tag != c->b_tag)
      return std::nullopt;
    return on_request_in_dialog(*c, false, message, from, now, random);
  }
  auto* c = find_by_caller(message.call_id);
  // The caller's dialog is spoken in from the caller's address (its port may change when a
  // phone reconnects over TCP), and with the caller's tag.
  if (c == nullptr || message.from.tag != c->invite.from.tag || from.kind != c->a_peer.kind ||
      from.address != c->a_peer.address || from.node != c->a_peer.node)
    return std::nullopt;
  bool same_transaction = !message.vias.empty() && !c->invite.vias.empty() &&
                          message.vias.front().branch == c->invite.vias.front().branch;
  if (message.method == "INVITE" && message.to.tag.empty()) {
    // A retransmission of the INVITE: the last answer again.
    if (!same_transaction)
      return std::nullopt;
    return std::vector<sip_send>{{from, c->a_last_response}};
  }
  if (message.method == "CANCEL" || (message.method == "ACK" && message.to.tag == c->a_tag))
    return on_request_in_dialog(*c, true, message, from, now, random);
  if (message.to.tag != c->a_tag)
    return std::nullopt;
  return on_request_in_dialog(*c, true, message, from, now, random);
}

std::vector<sip_send> b2bua::tick(time_point now, const random_source& random) {
  std::vector<sip_send> out;
  std::vector<std::uint64_t> gone;
  for (auto& [id, owned] : calls_) {
    auto& c = *owned;
    for (auto it = c.outstanding.begin(); it != c.outstanding.end();) {
      if (now >= it->give_up) {
        bool invite = it->method == "INVITE";
        it = c.outstanding.erase(it);
        if (invite && c.state != call_state::ended && c.a_final_code == 0) {
          out.push_back({c.a_peer, answer_caller(c, 408, "Request Timeout", false, now)});
          finish(c, call_end::timeout, now);
        }
        continue;
      }
      if (now >= it->next) {
        out.push_back(it->send);
        it->interval = it->method == "INVITE" ? it->interval * 2 : std::min(it->interval * 2, t2);
        it->next = now + it->interval;
      }
      ++it;
    }
    // The final answer waits for its ACK on every transport (RFC 3261 13.3.1.4); only UDP
    // repeats it.
    bool reliable = c.a_peer.kind != transport::udp;
    if (c.a_final_code != 0 && !c.a_acked &&
        (reliable ? now >= c.a_resend_until : now >= c.a_resend_at)) {
      if (now >= c.a_resend_until) {
        c.a_acked = true;
        if (c.a_final_code < 300 && c.state == call_state::answered) {
          // RFC 3261 13.3.1.4: no ACK for the 2xx, so the call is ended on both sides.
          out.push_back(bye_to(c, true, random));
          out.push_back(bye_to(c, false, random));
          finish(c, call_end::timeout, now);
        }
      } else {
        out.push_back({c.a_peer, c.a_last_response});
        c.a_resend_interval = std::min(c.a_resend_interval * 2, t2);
        c.a_resend_at = now + c.a_resend_interval;
      }
    }
    if ((c.state == call_state::calling || c.state == call_state::ringing) &&
        now >= c.ring_deadline) {
      if (!c.b_final)
        out.push_back(cancel_callee(c, now));
      out.push_back({c.a_peer, answer_caller(c, 480, "Temporarily Unavailable", false, now)});
      finish(c, call_end::no_answer, now);
    }
    if (!c.b_responded && c.state == call_state::calling && c.b_peer.kind != transport::udp &&
        now - c.started >= transaction_lifetime) {
      out.push_back({c.a_peer, answer_caller(c, 408, "Request Timeout", false, now)});
      finish(c, call_end::timeout, now);
    }
    if (c.state == call_state::ended && now >= c.linger_until)
      gone.push_back(id);
  }
  for (auto id : gone) {
    auto it = calls_.find(id);
    by_caller_.erase(it->second->invite.call_id);
    by_callee_.erase(it->second->b_call_id);
    calls_.erase(it);
  }
  return out;
}

std::vector<call_view> b2bua::calls() const {
  std::vector<call_view> out;
  for (const auto& [_, c] : calls_) {
    if (c->state != call_state::ended)
      out.push_back(view_of(*c));
  }
  return out;
}

std::size_t b2bua::active_calls() const {
  return active_;
}

std::vector<std::pair<call_view, call_end>> b2bua::drain_ended() {
  std::vector<std::pair<call_view, call_end>> out;
  out.swap(ended_);
  return out;
}

} // namespace ward::telephony
