#include "telephony/b2bua_internal.hpp"

#include <memory>

namespace ward::telephony {

using namespace detail;

namespace {

/// Why a call cannot start: the INVITE is answered with `code`, and with a Warning for the
/// phone's log when there is a `warning`.
struct refusal {
  int code = 488;
  std::string_view reason = "Not Acceptable Here";
  std::string warning;
};

refusal not_acceptable(std::string warning) {
  return {488, "Not Acceptable Here", std::move(warning)};
}

refusal unavailable(std::string warning = {}) {
  return {480, "Temporarily Unavailable", std::move(warning)};
}

refusal no_capacity(std::string warning) {
  return {503, "Service Unavailable", std::move(warning)};
}

/// What refuses a call before its offer is read. Emergency calls are always permitted (SPEC
/// MED-2, TF-5): neither Strict SIPS nor the node's capacity refuses them.
std::optional<refusal> admission_refusal(const b2bua_settings& settings, std::size_t active_calls,
                                         const sip_message& invite, const sip_endpoint& from,
                                         const call_target& target,
                                         const call_media_policy& policy) {
  if (invite.max_forwards == 0)
    return refusal{483, "Too Many Hops", {}};
  bool strict_sips = settings.strict_sips && !policy.emergency;
  if (strict_sips && ((from.kind != transport::tls && from.kind != transport::line) ||
                      invite.request_uri.scheme != uri_scheme::sips))
    return refusal{403, "Forbidden", "Strict SIPS: calls need TLS and a sips URI"};
  if (target.binding && strict_sips && target.binding->kind != transport::tls)
    return unavailable("Strict SIPS: the callee is not on TLS");
  if (active_calls >= settings.max_calls && !policy.emergency)
    return no_capacity("call capacity reached");
  return std::nullopt;
}

/// The caller's SDP offer and the stream the call anchors.
struct call_offer {
  sdp_session sdp;
  std::size_t stream = 0;
};

std::expected<call_offer, refusal> read_offer(const sip_message& invite) {
  if (!is_sdp(invite))
    return std::unexpected(not_acceptable("an SDP offer is required"));
  auto offer = parse_sdp(invite.body);
  if (!offer)
    return std::unexpected(not_acceptable("the SDP offer is malformed"));
  auto stream = anchored_stream(*offer);
  if (!stream)
    return std::unexpected(not_acceptable("the SDP offer has no active stream"));
  return call_offer{std::move(*offer), *stream};
}

/// Where leg b goes: the callee's newest binding on this node, or the node it is registered
/// on over a line.
struct callee_route {
  sip_endpoint peer;
  std::string request_uri;
};

std::optional<callee_route> route_to(const call_target& target, const std::string& node_address) {
  if (target.trunk)
    return callee_route{target.trunk->peer, target.trunk->request_uri};
  if (target.binding) {
    auto parsed = parse_source(target.binding->source, target.binding->kind);
    if (!parsed)
      return std::nullopt;
    return callee_route{*parsed, target.binding->contact};
  }
  if (!target.node.empty())
    return callee_route{sip_endpoint{transport::line, {}, 0, target.node},
                        "sip:" + target.extension + "@" + host_text(node_address)};
  return std::nullopt;
}

/// The caller's display name as the callee's From quotes it, without what would end the
/// quoted string early.
std::string quoted_display(const std::string& display) {
  if (display.empty())
    return {};
  std::string out = "\"";
  for (char ch : display)
    if (ch != '"' && ch != '\\')
      out += ch;
  out += "\" ";
  return out;
}

/// A new call's identity on both legs. The random tokens are drawn in a fixed order, so a
/// test's random source sees the same sequence for every call.
std::unique_ptr<b2bua_call>
new_call(std::uint64_t id, const sip_message& invite, const sip_endpoint& from, std::string caller,
         const call_target& target, const callee_route& route, b2bua_call::time_point now,
         b2bua_call::time_point ring_deadline, const random_source& random) {
  auto c = std::make_unique<b2bua_call>();
  c->id = id;
  c->caller = std::move(caller);
  c->callee = target.extension;
  if (target.trunk) {
    c->trunk = target.trunk->name;
    c->b_username = target.trunk->username;
    c->b_password = target.trunk->password;
  }
  c->started = now;
  c->ring_deadline = ring_deadline;
  c->invite = invite;
  c->a_peer = from;
  c->a_tag = hex_token(random, 8);
  if (!invite.contacts.empty() && !invite.contacts.front().wildcard)
    c->a_contact = invite.contacts.front().uri.text;
  c->a_sdp_id = decimal_token(random);
  c->b_peer = route.peer;
  c->b_call_id = hex_token(random, 16) + "@ward";
  c->b_tag = hex_token(random, 8);
  c->b_branch = new_branch(random);
  c->b_request_uri = route.request_uri;
  c->b_remote_target = route.request_uri;
  c->b_sdp_id = decimal_token(random);
  return c;
}

} // namespace

std::vector<sip_send> b2bua::start_call(const sip_message& invite, const sip_endpoint& from,
                                        std::string caller, const call_target& target,
                                        time_point now, const random_source& random,
                                        const call_media_policy& policy) {
  auto refuse = [&](const refusal& refused) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!refused.warning.empty())
      headers.emplace_back("Warning", "399 ward \"" + refused.warning + "\"");
    return std::vector<sip_send>{{from, response_to(invite, from, refused.code, refused.reason,
                                                    headers, hex_token(random, 8))}};
  };
  if (auto refused = admission_refusal(settings_, active_calls(), invite, from, target, policy))
    return refuse(*refused);
  auto offer = read_offer(invite);
  if (!offer)
    return refuse(offer.error());
  auto route = route_to(target, settings_.address);
  if (!route)
    return refuse(unavailable());
  const auto& media = offer->sdp.media[offer->stream];
  auto plan = plan_media(policy, target, media, from, route->peer);
  if (!plan)
    return refuse(not_acceptable(std::move(plan.error())));
  if (media_units_ + plan->units > settings_.media_capacity && !policy.emergency)
    return refuse(no_capacity("media capacity reached"));
  media_anchor::ports ports_held;
  if (!plan->direct) {
    auto ports = media_.allocate();
    if (!ports)
      return refuse(no_capacity("no media ports"));
    ports_held = *ports;
  }

  auto owned = new_call(next_id_++, invite, from, std::move(caller), target, *route, now,
                        now + settings_.ring_timeout, random);
  auto& c = *owned;
  c.ports = ports_held;
  c.media_held = !plan->direct;
  c.stream = offer->stream;
  c.a_media_endpoint = media_endpoint(media);
  c.b_policy = policy.callee;
  if (plan->direct) {
    set_up_direct(c, *plan, invite.body, policy);
  } else {
    // Keys before the peer: an SRTP leg must never be relayed, or latched, as plain RTP.
    const auto& answer = plan->caller_answer;
    c.a_profile = answer.profile;
    if (answer.transport == media::media_transport::srtp && answer.accepted) {
      c.a_keys = media_anchor::leg_keys{*answer.accepted,
                                        media::make_answer_crypto(*answer.accepted, random)};
      media_.set_crypto(c.ports.id, true, c.a_keys);
    }
    media_.set_peer(c.ports.id, true, media_address(media.connection_address, from), media.port);
    c.b_plan = plan->callee_plan;
    if (plan->callee_plan.include_crypto)
      c.b_offered = media::make_profile_offer(policy.callee_srtp, random);
    auto body = anchored_offer(c, invite.body, offer->sdp);
    if (!body) {
      media_.release(c.ports.id);
      return refuse(not_acceptable("the SDP offer cannot be anchored"));
    }
    c.b_offer_sdp = std::move(*body);
  }

  auto host = host_text(settings_.address);
  // The carrier sees the presented number as the caller and its own URI as the callee.
  const auto& from_user = target.trunk ? target.trunk->caller_id : c.caller;
  c.b_from =
      quoted_display(invite.from.display) + "<sip:" + from_user + "@" + host + ">;tag=" + c.b_tag;
  c.b_to = target.trunk ? "<" + c.b_request_uri + ">" : "<sip:" + c.callee + "@" + host + ">";
  c.b_emergency = policy.emergency;

  std::vector<sip_send> out{{from, answer_caller(c, 100, "Trying", false, now)}};
  sip_send to_callee{c.b_peer, callee_invite(c, {})};
  track(c, to_callee, "INVITE", now);
  out.push_back(std::move(to_callee));

  by_caller_[invite.call_id] = c.id;
  by_callee_[c.b_call_id] = c.id;
  c.media_units = plan->units;
  media_units_ += plan->units;
  if (plan->direct)
    ++direct_calls_started_;
  if (!c.trunk.empty())
    ++trunk_calls_[c.trunk];
  calls_.emplace(c.id, std::move(owned));
  ++active_;
  return out;
}

std::string b2bua::callee_invite(
    const call& c, const std::optional<std::pair<std::string, std::string>>& authorization) const {
  auto fields = callee_request(c, "INVITE", c.b_request_uri, via_for(c.b_peer, c.b_branch));
  fields.contact = contact_for(c.b_peer, c.b_request_uri.starts_with("sips:"));
  fields.max_forwards = c.invite.max_forwards - 1;
  fields.extra_headers = {{"Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"}};
  // The node at the other end of a line keeps the call's emergency exceptions on its leg.
  if (c.b_emergency)
    fields.extra_headers.emplace_back("Priority", "emergency");
  if (authorization)
    fields.extra_headers.push_back(*authorization);
  fields.content_type = "application/sdp";
  fields.body = c.b_offer_sdp;
  return build_request(fields);
}

std::optional<sip_send> b2bua::answer_callee_challenge(call& c, const sip_message& response,
                                                       time_point now,
                                                       const random_source& random) {
  if (c.trunk.empty() || c.from_trunk || c.b_username.empty() || c.b_challenge_answered ||
      c.cancel_sent || c.state == call_state::ended)
    return std::nullopt;
  const bool proxy = response.status_code == 407;
  const auto& offered = proxy ? response.proxy_authenticates : response.www_authenticates;
  std::optional<digest_challenge> challenge;
  for (const auto& value : offered)
    if ((challenge = parse_challenge(value)))
      break;
  if (!challenge)
    return std::nullopt;
  c.b_challenge_answered = true;
  c.b_invite_cseq += 1;
  c.b_cseq_out = c.b_invite_cseq;
  c.b_branch = new_branch(random);
  c.b_final = false;
  c.b_responded = false;
  c.b_remote_tag.clear();
  c.b_ack.clear();
  auto value = answer_challenge(*challenge, c.b_username, c.b_password, "INVITE", c.b_request_uri,
                                hex_token(random, 8));
  sip_send again{c.b_peer, callee_invite(c, std::pair{std::string(proxy ? "Proxy-Authorization"
                                                                        : "Authorization"),
                                                      std::move(value)})};
  track(c, again, "INVITE", now);
  return again;
}

} // namespace ward::telephony
