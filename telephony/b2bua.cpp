#include "telephony/b2bua.hpp"

#include "core/net_address.hpp"
#include "telephony/b2bua_internal.hpp"

#include <algorithm>

namespace ward::telephony {

using namespace detail;

namespace {

std::string leg_text(const sip_endpoint& endpoint) {
  return endpoint.kind == transport::line ? "line:" + endpoint.node
                                          : std::string(to_string(endpoint.kind));
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

void b2bua::track(call& c, const sip_send& send, const std::string& method, time_point now) {
  if (send.to.kind != transport::udp)
    return;
  c.outstanding.push_back(
      pending_request{send, method, now + settings_.t1, settings_.t1, now + transaction_lifetime});
}

void b2bua::finish(call& c, call_end end, time_point now) {
  if (c.state == call_state::ended)
    return;
  --active_;
  if (!c.trunk.empty())
    if (auto it = trunk_calls_.find(c.trunk); it != trunk_calls_.end() && --it->second == 0)
      trunk_calls_.erase(it);
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
  view.trunk = c.trunk;
  view.from_trunk = c.from_trunk;
  view.dialled = c.dialled_shown.empty() ? c.invite.request_uri.user : c.dialled_shown;
  view.account_code = c.account_code;
  view.call_id = c.invite.call_id;
  view.direct = c.direct;
  view.caller_relay_port = c.ports.port_a;
  view.callee_relay_port = c.ports.port_b;
  view.caller_media = c.direct ? c.direct_media : media_text(c.a_keys);
  view.callee_media = c.direct ? c.direct_media : media_text(c.b_keys);
  return view;
}

std::optional<std::vector<sip_send>> b2bua::handle(const sip_message& message,
                                                   const sip_endpoint& from, time_point now,
                                                   const random_source& random) {
  if (!message.is_request) {
    if (auto* c = find_by_callee(message.call_id); c != nullptr && from == c->b_peer)
      return on_callee_response(*c, message, now, random);
    if (auto* c = find_by_caller(message.call_id); c != nullptr && from == c->a_peer) {
      std::erase_if(c->outstanding,
                    [&](const pending_request& p) { return p.method == message.cseq_method; });
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

std::size_t b2bua::calls_on_trunk(std::string_view trunk) const {
  auto it = trunk_calls_.find(trunk);
  return it == trunk_calls_.end() ? 0 : it->second;
}

void b2bua::set_caller_trunk(std::string_view caller_call_id, std::string trunk) {
  if (auto* c = find_by_caller(std::string(caller_call_id));
      c != nullptr && c->state != call_state::ended) {
    if (c->trunk != trunk) {
      if (auto old = trunk_calls_.find(c->trunk); old != trunk_calls_.end() && --old->second == 0)
        trunk_calls_.erase(old);
      ++trunk_calls_[trunk];
    }
    c->trunk = std::move(trunk);
    c->from_trunk = true;
  }
}

void b2bua::set_dial_details(std::string_view caller_call_id, std::string shown,
                             bool account_code) {
  if (auto* c = find_by_caller(std::string(caller_call_id))) {
    c->dialled_shown = std::move(shown);
    c->account_code = account_code;
  }
}

std::vector<std::pair<call_view, call_end>> b2bua::drain_ended() {
  std::vector<std::pair<call_view, call_end>> out;
  out.swap(ended_);
  return out;
}

} // namespace ward::telephony
