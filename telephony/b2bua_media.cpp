#include "telephony/b2bua_internal.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ward::telephony {

using namespace detail;

namespace {

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

/// SPEC MED-3: direct media where it leaves neither phone with weaker media than the relay.
bool direct_media_allowed(const call_media_policy& policy, const call_target& target,
                          const sdp_media& offered, const sip_endpoint& caller,
                          const media_plan& plan) {
  if (!policy.direct_media || policy.emergency || !target.binding ||
      !media_reachable_directly(offered.connection_address, caller) ||
      !registered_without_nat(*target.binding))
    return false;
  bool caller_offers_keys = !plan.caller.crypto.empty() || media::is_secure(plan.caller.profile);
  // An SRTP-only offer goes direct under Enforce alone, where the relay would offer the
  // callee SRTP only too; under Best Effort the relay connects a callee without SRTP.
  if (plan.caller_answer.transport == media::media_transport::srtp &&
      plan.callee_plan.include_crypto)
    return policy.caller == policy.callee && (policy.caller == media::media_security::enforce ||
                                              !media::is_secure(plan.caller.profile));
  if (!caller_offers_keys && !plan.callee_plan.include_crypto)
    return policy.caller != media::media_security::enforce &&
           policy.callee != media::media_security::enforce;
  return false;
}

/// A rewrite that anchors `stream` of `streams` on the relay's `port`. The other streams are
/// rejected and every stream loses its a=crypto lines, so that one leg's keys never reach the
/// other; the anchored stream carries the node's own `crypto` for the leg under `profile`.
sdp_rewrite anchor_rewrite(std::size_t streams, std::size_t stream, std::uint16_t port,
                           media::transport_profile profile,
                           std::span<const media::crypto_attribute> crypto) {
  sdp_rewrite rewrite;
  rewrite.ports.assign(streams, 0);
  rewrite.ports[stream] = port;
  rewrite.media.assign(streams, sdp_media_rewrite{std::nullopt, std::vector<std::string>{}});
  rewrite.media[stream].proto = std::string(media::to_string(profile));
  for (const auto& attribute : crypto)
    rewrite.media[stream].crypto->push_back(media::format_crypto(attribute));
  return rewrite;
}

} // namespace

namespace detail {

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

std::string media_address(const std::string& sdp_address, const sip_endpoint& signalling) {
  if (signalling.kind == transport::line || sdp_address == signalling.address)
    return sdp_address;
  return is_private_ipv4(sdp_address) && !is_private_ipv4(signalling.address) ? signalling.address
                                                                              : sdp_address;
}

std::string media_endpoint(const sdp_media& media) {
  return media.connection_address + " " + std::to_string(media.port);
}

std::expected<media_plan, std::string>
plan_media(const call_media_policy& policy, const call_target& target, const sdp_media& offered,
           const sip_endpoint& caller, const sip_endpoint& callee) {
  // SPEC MED-2: the caller's offer is answered under the caller's policy, the callee is
  // offered what the callee's policy asks; either failing ends the call before it starts.
  auto caller_media = stream_media_of(offered);
  if (!caller_media)
    return std::unexpected(std::string("the offer's media profile is not RTP"));
  media::received_offer caller_offer{caller_media->profile, caller_media->crypto};
  auto caller_answer = media::answer_for(policy.caller, caller_offer, policy.emergency,
                                         secure_signalling(caller), policy.caller_srtp);
  if (!caller_answer)
    return std::unexpected("caller media: " +
                           std::string(media::to_string(caller_answer.error().reason)));
  auto callee_plan = media::offer_for(policy.callee, secure_signalling(callee), policy.emergency);
  if (!callee_plan)
    return std::unexpected("callee media: " +
                           std::string(media::to_string(callee_plan.error().reason)));
  media_plan plan{std::move(*caller_media), *caller_answer, *callee_plan};
  plan.direct = direct_media_allowed(policy, target, offered, caller, plan);
  // SPEC MED-4: SRTP costs the relay about twice what RTP does, so it counts double; direct
  // media costs the relay nothing.
  bool may_be_srtp = plan.caller_answer.transport == media::media_transport::srtp ||
                     plan.callee_plan.include_crypto;
  plan.units = plan.direct ? 0 : may_be_srtp ? 2 : 1;
  return plan;
}

void set_up_direct(b2bua_call& c, const media_plan& plan, const std::string& offer_body,
                   const call_media_policy& policy) {
  c.direct = true;
  c.direct_policy = policy.caller;
  c.a_offered_profile = plan.caller.profile;
  for (auto line : plan.caller.crypto)
    if (auto parsed = media::parse_crypto(line); parsed && parsed->suite != nullptr)
      c.a_offered.push_back(*parsed);
  c.b_offer_sdp = offer_body;
}

} // namespace detail

std::optional<std::string> b2bua::anchored_offer(const call& c, const std::string& body,
                                                 const sdp_session& offer) const {
  auto rewrite =
      anchor_rewrite(offer.media.size(), c.stream, c.ports.port_b, c.b_plan.profile, c.b_offered);
  rewrite.address = media_.address();
  rewrite.session_id = c.b_sdp_id;
  rewrite.version = c.b_sdp_version;
  auto rewritten = rewrite_sdp(body, offer, rewrite);
  if (!rewritten)
    return std::nullopt;
  return std::move(*rewritten);
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
  c.b_media_endpoint = media_endpoint(media);
  return response.body;
}

std::optional<std::string> b2bua::bridge_answer(call& c, const sip_message& response) {
  if (c.direct)
    return direct_answer(c, response);
  auto answer = parse_sdp(response.body);
  if (!answer || c.stream >= answer->media.size()) {
    c.media_refusal = "the callee's SDP answer has no audio stream";
    return std::nullopt;
  }
  if (answer->media[c.stream].port == 0) {
    // RFC 3264 6: port 0 declines the stream, typically an SRTP offer the callee's stack
    // will not take.
    c.media_refusal = std::string("the callee declined the audio stream (offered ") +
                      (c.b_offered.empty() ? "RTP" : "SRTP") + ")";
    return std::nullopt;
  }
  const auto& media = answer->media[c.stream];
  auto callee_media = stream_media_of(media);
  if (!callee_media)
    return std::nullopt;
  media::received_offer received{callee_media->profile, callee_media->crypto};
  auto accepted = media::accept_answer(c.b_policy, c.b_plan, c.b_offered, received);
  if (!accepted) {
    c.media_refusal = "the callee's answer does not meet its media security (" +
                      std::string(media::to_string(accepted.error().reason)) + ")";
    return std::nullopt;
  }
  std::optional<media_anchor::leg_keys> keys;
  if (accepted->transport == media::media_transport::srtp && accepted->accepted) {
    auto offered =
        std::ranges::find(c.b_offered, accepted->accepted->tag, &media::crypto_attribute::tag);
    if (offered == c.b_offered.end())
      return std::nullopt;
    keys = media_anchor::leg_keys{*accepted->accepted, *offered};
  }
  auto rewrite = anchor_rewrite(answer->media.size(), c.stream, c.ports.port_a, c.a_profile,
                                c.a_keys ? std::span(&c.a_keys->outbound, 1)
                                         : std::span<const media::crypto_attribute>());
  rewrite.address = media_.address();
  rewrite.session_id = c.a_sdp_id;
  rewrite.version = ++c.a_sdp_version;
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

} // namespace ward::telephony
