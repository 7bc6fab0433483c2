#include "telephony/b2bua_internal.hpp"

#include <algorithm>

namespace ward::telephony {

using namespace detail;

namespace {

/// How a call ends when the callee's final failure `code` goes to the caller.
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

} // namespace

std::vector<sip_send> b2bua::on_callee_response(call& c, const sip_message& response,
                                                time_point now, const random_source& random) {
  std::vector<sip_send> out;
  std::erase_if(c.outstanding, [&](const pending_request& p) {
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
    c.b_ack = ack_callee(c, c.b_remote_target, new_branch(random));
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
      out.push_back(
          {c.a_peer, answer_caller(c, 488, "Not Acceptable Here", false, now,
                                   c.media_refusal.empty()
                                       ? std::string_view("the callee sent no usable SDP answer")
                                       : std::string_view(c.media_refusal))});
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
  // SPEC TF-9: a carrier's challenge is answered once with the trunk's credentials.
  if (code == 401 || code == 407)
    if (auto again = answer_callee_challenge(c, response, now, random)) {
      out.push_back(std::move(*again));
      return out;
    }
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
  auto reply = [&](int code, std::string_view reason) {
    out.push_back({from, response_to(request, from, code, reason)});
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
        if (media_endpoint(media) != known) {
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
    out.push_back(
        {from, response_to(request, from, 200, "OK", headers, {}, "application/sdp", body)});
    return out;
  }
  if (method == "OPTIONS" || method == "INFO" || method == "UPDATE") {
    reply(200, "OK");
    return out;
  }
  reply(501, "Not Implemented");
  return out;
}

} // namespace ward::telephony
