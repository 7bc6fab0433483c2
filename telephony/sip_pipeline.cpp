#include "telephony/sip_pipeline.hpp"

#include "core/hex.hpp"
#include "telephony/dial_plan.hpp"

#include <algorithm>
#include <cstddef>

namespace ward::telephony {
namespace {

constexpr std::string_view allowed_methods = "INVITE, ACK, BYE, CANCEL, REGISTER, OPTIONS";

/// A fresh To tag: 8 random bytes as hex.
std::string random_tag(const random_source& random) {
  std::array<std::byte, 8> raw{};
  random(raw);
  return to_hex(std::span<const std::byte>(raw));
}

bool from_line(const sip_endpoint& from) {
  return from.kind == transport::line;
}

/// The source a response's top Via records (received=, rport=): none for a line.
std::string_view received_address(const sip_endpoint& from) {
  return from_line(from) ? std::string_view() : std::string_view(from.address);
}

std::uint16_t received_port(const sip_endpoint& from) {
  return from_line(from) ? std::uint16_t{0} : from.port;
}

/// The number a Request-URI's user part dials: phones escape # as %23 (RFC 3261 19.1.2),
/// and the dial plan matches what was dialled. Another escape, a bad one or an escaped NUL
/// leaves the text as it is, which then matches no short code.
std::string dialled_number(std::string_view user) {
  std::string number;
  for (std::size_t i = 0; i < user.size(); ++i) {
    unsigned char decoded = 0;
    if (user[i] == '%' && i + 2 < user.size() &&
        from_hex(user.substr(i + 1, 2), std::span(&decoded, 1)) && decoded != 0) {
      number += static_cast<char>(decoded);
      i += 2;
    } else {
      number += user[i];
    }
  }
  return number;
}

void append(std::vector<sip_send>& sends, std::vector<sip_send>&& more) {
  sends.insert(sends.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
}

} // namespace

std::string_view to_string(sip_refusal refusal) {
  switch (refusal) {
    case sip_refusal::guarded:
      return "guarded";
    case sip_refusal::keep_alive:
      return "keep_alive";
    case sip_refusal::stun:
      return "stun";
    case sip_refusal::not_sip:
      return "not_sip";
    case sip_refusal::malformed:
      return "malformed";
    case sip_refusal::user_agent:
      return "user_agent";
    case sip_refusal::extension_blacklisted:
      return "extension_blacklisted";
    case sip_refusal::no_dialog:
      return "no_dialog";
    case sip_refusal::unknown_number:
      return "unknown_number";
    case sip_refusal::barred:
      return "barred";
    case sip_refusal::no_emergency_route:
      return "no_emergency_route";
    case sip_refusal::unavailable:
      return "unavailable";
    case sip_refusal::remote_worker_rules:
      return "remote_worker_rules";
    case sip_refusal::no_trunk_available:
      return "no_trunk_available";
    case sip_refusal::trunk_disabled:
      return "trunk_disabled";
    case sip_refusal::feature_code:
      return "feature_code";
  }
  return "unknown";
}

sip_refusal_answer answer_of(sip_refusal refusal) {
  switch (refusal) {
    case sip_refusal::guarded:
    case sip_refusal::keep_alive:
    case sip_refusal::stun:
    case sip_refusal::not_sip:
    case sip_refusal::malformed:
    case sip_refusal::user_agent:
      return {};
    case sip_refusal::extension_blacklisted:
    case sip_refusal::barred:
      return {403, "Forbidden", {}};
    case sip_refusal::no_dialog:
      return {481, "Call/Transaction Does Not Exist", {}};
    case sip_refusal::unknown_number:
      return {404, "Not Found", {}};
    case sip_refusal::no_emergency_route:
      return {503, "Service Unavailable", "399 ward \"no emergency route is configured\""};
    case sip_refusal::unavailable:
      return {480, "Temporarily Unavailable", {}};
    case sip_refusal::remote_worker_rules:
      return {403, "Forbidden", "399 ward \"remote worker rules\""};
    case sip_refusal::no_trunk_available:
      return {503, "Service Unavailable", "399 ward \"no trunk available\""};
    case sip_refusal::trunk_disabled:
      return {403, "Forbidden", "399 ward \"trunk disabled\""};
    case sip_refusal::feature_code:
      return {403, "Forbidden", "399 ward \"feature code not available\""};
  }
  return {};
}

sip_stage<> admit_source(sip_guard& guard, const sip_endpoint& from,
                         std::chrono::system_clock::time_point now) {
  if (!from_line(from) && guard.admit(from.address, now) != guard_verdict::pass)
    return std::unexpected(sip_refusal::guarded);
  return {};
}

sip_stage<> skip_keep_alive(std::string_view data) {
  if (data.size() <= 4)
    return std::unexpected(sip_refusal::keep_alive);
  // STUN keep-alives carry the magic cookie; phones send them to the SIP port.
  if (data.size() >= 20 && static_cast<unsigned char>(data[0]) < 2 &&
      data.substr(4, 4) == std::string_view("\x21\x12\xa4\x42", 4))
    return std::unexpected(sip_refusal::stun);
  return {};
}

sip_stage<sip_message> parse_stage(std::string_view data, const sip_endpoint& from,
                                   sip_guard& guard, std::chrono::system_clock::time_point now) {
  auto refused = [&](sip_refusal why) -> sip_stage<sip_message> {
    if (!from_line(from))
      guard.record_malformed(from.address, now);
    return std::unexpected(why);
  };
  if (!first_line_method(data).has_value() && !data.starts_with("SIP/2.0 "))
    return refused(sip_refusal::not_sip);
  auto message = parse_sip_message(data);
  if (!message)
    return refused(sip_refusal::malformed);
  return std::move(*message);
}

sip_stage<> screen_user_agent(const sip_policy& policy, const sip_message& request,
                              const sip_endpoint& from, sip_guard& guard,
                              std::chrono::system_clock::time_point now) {
  if (from_line(from) || user_agent_permitted(policy, request.user_agent))
    return {};
  guard.record_malformed(from.address, now);
  return std::unexpected(sip_refusal::user_agent);
}

bool match_dialog(b2bua& calls, const sip_message& message, const sip_endpoint& from,
                  std::chrono::system_clock::time_point now, const random_source& random,
                  std::vector<sip_send>& sends) {
  auto answer = calls.handle(message, from, now, random);
  if (!answer)
    return false;
  append(sends, std::move(*answer));
  return true;
}

sip_stage<> screen_extension(const sip_message& request, const sip_endpoint& from,
                             const sip_guard& guard, std::chrono::system_clock::time_point now) {
  if (from_line(from) || (request.method != "REGISTER" && request.method != "INVITE"))
    return {};
  const auto& extension =
      request.method == "REGISTER" ? request.to.uri.user : request.from.uri.user;
  if (!extension.empty() && guard.is_extension_blacklisted(extension, now))
    return std::unexpected(sip_refusal::extension_blacklisted);
  return {};
}

void location_table::replace(std::string node, std::vector<std::string> extensions,
                             time_point now) {
  nodes_[std::move(node)] = entry{std::move(extensions), now};
}

std::string location_table::find(const std::string& extension, std::string_view self,
                                 time_point now) const {
  for (const auto& [node, entry] : nodes_)
    if (node != self && now - entry.refreshed < std::chrono::minutes(1) &&
        std::ranges::binary_search(entry.extensions, extension))
      return node;
  return {};
}

call_target locate(const registrar& registrar, const location_table& locations,
                   std::string_view self, const std::string& extension, bool local_only,
                   std::chrono::system_clock::time_point now) {
  call_target target;
  target.extension = extension;
  auto here = registrar.lookup(extension, now);
  if (!here.empty()) {
    target.binding = *std::ranges::max_element(here, {}, &registration_binding::expires_at);
    return target;
  }
  if (!local_only)
    target.node = locations.find(extension, self, now);
  return target;
}

call_media_policy media_policy_for(const telephony_directory_data& directory,
                                   const sip_endpoint& from, const std::string& caller,
                                   const call_target& target, bool emergency) {
  const bool line = from_line(from);
  call_media_policy policy;
  policy.caller = line ? media_security_for_line(directory, from.node)
                       : media_security_for_extension(directory, caller);
  policy.callee = target.binding ? media_security_for_extension(directory, target.extension)
                                 : media_security_for_line(directory, target.node);
  policy.caller_srtp = line ? srtp_profile_for_line(directory, from.node)
                            : srtp_profile_for_extension(directory, caller);
  policy.callee_srtp = target.binding ? srtp_profile_for_extension(directory, target.extension)
                                      : srtp_profile_for_line(directory, target.node);
  policy.emergency = emergency;
  auto remote_worker = [&](const std::string& number) {
    auto it = directory.extensions.find(number);
    return it != directory.extensions.end() && !it->second.remote_worker_address.empty();
  };
  policy.direct_media = directory.policy.direct_media && !line && target.binding.has_value() &&
                        !remote_worker(caller) && !remote_worker(target.extension);
  return policy;
}

sip_pipeline::sip_pipeline(std::string node, registrar& registrar, sip_guard& guard, b2bua& calls,
                           const location_table& locations, random_source random)
    : node_(std::move(node)), registrar_(registrar), guard_(guard), calls_(calls),
      locations_(locations), random_(std::move(random)) {}

sip_outcome sip_pipeline::process(std::string_view data, const sip_endpoint& from, time_point now,
                                  const telephony_directory_data& directory,
                                  std::vector<sip_send>& sends) {
  sip_outcome outcome;
  if (auto admitted = admit_source(guard_, from, now); !admitted) {
    outcome.refusal = admitted.error();
    return outcome;
  }
  if (auto alive = skip_keep_alive(data); !alive) {
    outcome.refusal = alive.error();
    return outcome;
  }
  auto message = parse_stage(data, from, guard_, now);
  if (!message) {
    outcome.refusal = message.error();
    return outcome;
  }
  if (!message->is_request) {
    (void)match_dialog(calls_, *message, from, now, random_, sends);
    return outcome;
  }
  if (auto screened = screen_user_agent(directory.policy, *message, from, guard_, now); !screened) {
    outcome.refusal = screened.error();
    return outcome;
  }
  if (match_dialog(calls_, *message, from, now, random_, sends) || message->method == "ACK")
    return outcome;
  handle_request({*message, from, now, directory, sends, outcome});
  return outcome;
}

void sip_pipeline::reply(const request_context& request, int code, std::string_view reason,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  auto text = build_response(request.message, code, reason, headers, random_tag(random_),
                             received_address(request.from), received_port(request.from));
  request.sends.push_back({request.from, std::move(text)});
}

void sip_pipeline::refuse(const request_context& request, sip_refusal refusal,
                          std::string_view warning) {
  request.outcome.refusal = refusal;
  auto answer = answer_of(refusal);
  if (answer.status == 0)
    return;
  if (!warning.empty())
    answer.warning = warning;
  if (answer.warning.empty())
    return reply(request, answer.status, answer.reason);
  reply(request, answer.status, answer.reason, {{"Warning", std::string(answer.warning)}});
}

void sip_pipeline::handle_request(const request_context& request) {
  if (auto screened = screen_extension(request.message, request.from, guard_, request.now);
      !screened)
    return refuse(request, screened.error());
  if (request.message.method == "INVITE")
    return handle_invite(request);
  if (request.message.method == "BYE" || request.message.method == "CANCEL")
    return refuse(request, sip_refusal::no_dialog);
  answer_once(request);
}

void sip_pipeline::handle_invite(const request_context& request) {
  const auto& message = request.message;
  const bool line = from_line(request.from);
  if (!message.to.tag.empty())
    return refuse(request, sip_refusal::no_dialog);
  if (!line)
    if (const auto* trunk = trunk_from(request.directory.dial_plan, request.from))
      return handle_trunk_invite(request, *trunk);
  std::string caller;
  if (line) {
    caller = message.from.uri.user;
  } else {
    auto outcome = registrar_.authorize_request(message, request.directory, request.now, random_);
    if (outcome.auth_failure)
      guard_.record_auth_failure(request.from.address, outcome.extension, request.now);
    if (outcome.code != 200)
      return reply(request, outcome.code, outcome.reason, outcome.headers);
    caller = outcome.extension;
  }
  const auto* plan = plan_for(request.directory);
  const auto dialled = dialled_number(message.request_uri.user);
  auto route = plan ? resolve_dial(request.directory, *plan,
                                   {caller, dialled, dialling::en_bloc, zone_(request.now), {}})
                    : route_dialled(request.directory, caller, dialled);
  // A call another node passed over a line was resolved there: only its extension is
  // looked up here.
  if (line && route.outcome != dial_outcome::emergency &&
      request.directory.extensions.contains(dialled))
    route = {dial_outcome::extension, dialled, "internal extension"};
  // SPEC TF-5: a wrong authorization code counts like a wrong password; a right digest does
  // not wipe that count, or guessing codes would never lock the extension.
  if (!line) {
    if (route.auth_failure)
      guard_.record_auth_failure(request.from.address, caller, request.now);
    else
      guard_.record_auth_success(request.from.address, caller);
  }
  // What logs, alarms and records show: never an authorization code's digits (SPEC TF-5).
  const std::string shown = route.dialled_shown.empty() ? dialled : route.dialled_shown;
  switch (route.outcome) {
    case dial_outcome::unknown:
    case dial_outcome::incomplete:
      return refuse(request, sip_refusal::unknown_number);
    case dial_outcome::barred:
      request.outcome.barred = barred_call{
          caller, shown, route.barred_by,
          route.barred_record || route.barred_by != bar_reason::short_code, route.detail};
      return refuse(request, sip_refusal::barred, "399 ward \"barred: " + route.detail + "\"");
    case dial_outcome::feature:
      return refuse(request, sip_refusal::feature_code);
    default:
      break;
  }
  // SPEC TF-6: the node a phone calls from applies its callee's forward; a call that came
  // over a line was forwarded there already.
  if (!line && plan && route.outcome == dial_outcome::extension)
    if (auto forward = forwarded(request, *plan, route.extension, false)) {
      if (forward->outcome == dial_outcome::barred)
        return refuse_forward(request, caller, shown, *forward);
      const bool account_code = route.account_code;
      route = std::move(*forward);
      route.account_code = account_code;
      route.dialled_shown = shown;
    }
  // SPEC MED-2, TF-2: an emergency call, dialled here or marked so by the node that passed
  // it over a line (a phone's own Priority header is not trusted).
  const bool emergency =
      route.outcome == dial_outcome::emergency || (line && message.priority == "emergency");
  if (emergency)
    request.outcome.emergency = emergency_call{caller, shown, route.extension};
  if (route.outside && !emergency && holds_.users.contains(route.outside->user)) {
    request.outcome.barred =
        barred_call{caller, shown, bar_reason::fraud_hold, true,
                    "a fraud rule holds " + route.outside->user + " on this node"};
    return refuse(request, sip_refusal::barred,
                  "399 ward \"barred: " + request.outcome.barred->detail + "\"");
  }
  if (route.outside && route.extension.empty()) {
    start_outside_call(request, caller, *route.outside, emergency);
    if (request.outcome.call_started && (route.account_code || !route.dialled_shown.empty()))
      calls_.set_dial_details(message.call_id, shown, route.account_code);
    return;
  }
  if (emergency && route.extension.empty())
    return refuse(request, sip_refusal::no_emergency_route);
  auto target = locate(registrar_, locations_, node_, route.extension, line, request.now);
  if (!target.binding && target.node.empty())
    return refuse(request, sip_refusal::unavailable);
  auto policy = media_policy_for(request.directory, request.from, caller, target, emergency);
  request.outcome.call_started = true;
  append(request.sends,
         calls_.start_call(message, request.from, caller, target, request.now, random_, policy));
  if (route.account_code || !route.dialled_shown.empty())
    calls_.set_dial_details(message.call_id, shown, route.account_code);
}

void sip_pipeline::handle_trunk_invite(const request_context& request, const trunk_config& trunk) {
  const auto& message = request.message;
  if (!trunk.enabled)
    return refuse(request, sip_refusal::trunk_disabled);
  if (calls_.calls_on_trunk(trunk.name) >= trunk.channels)
    return refuse(request, sip_refusal::no_trunk_available);
  const auto* plan = plan_for(request.directory);
  const auto extension =
      plan ? route_incoming(*plan, trunk.name, message.request_uri.user) : std::string();
  if (extension.empty())
    return refuse(request, sip_refusal::unknown_number);
  const auto& caller = message.from.uri.user;
  if (auto forward = forwarded(request, *plan, extension, true)) {
    const auto dialled = dialled_number(message.request_uri.user);
    if (forward->outcome == dial_outcome::barred)
      return refuse_forward(request, caller, dialled, *forward);
    if (forward->outcome == dial_outcome::outside && forward->outside) {
      if (holds_.users.contains(forward->outside->user)) {
        forward->barred_by = bar_reason::fraud_hold;
        forward->detail = "a fraud rule holds " + forward->outside->user + " on this node";
        return refuse_forward(request, caller, dialled, *forward);
      }
      return start_outside_call(request, caller, *forward->outside, false);
    }
    return start_trunk_call_to(request, trunk, caller, forward->extension);
  }
  start_trunk_call_to(request, trunk, caller, extension);
}

void sip_pipeline::start_trunk_call_to(const request_context& request, const trunk_config& trunk,
                                       const std::string& caller, const std::string& extension) {
  const auto& message = request.message;
  auto target = locate(registrar_, locations_, node_, extension, false, request.now);
  if (!target.binding && target.node.empty())
    return refuse(request, sip_refusal::unavailable);
  auto policy = media_policy_for(request.directory, request.from, caller, target, false);
  policy.caller = trunk.media_security.value_or(request.directory.policy.media_security);
  policy.caller_srtp = request.directory.policy.srtp;
  policy.direct_media = false;
  request.outcome.call_started = true;
  append(request.sends,
         calls_.start_call(message, request.from, caller, target, request.now, random_, policy));
  calls_.set_caller_trunk(message.call_id, trunk.name);
}

void sip_pipeline::start_outside_call(const request_context& request, const std::string& caller,
                                      const outside_route& route, bool emergency) {
  const auto& trunks = request.directory.dial_plan.trunks;
  const trunk_config* chosen = nullptr;
  for (const auto& name : route.trunks) {
    auto it = trunks.find(name);
    // Emergency calls take a trunk whatever its channel count (SPEC TF-5) or fraud hold.
    if (it != trunks.end() && it->second.enabled &&
        (emergency ||
         (calls_.calls_on_trunk(name) < it->second.channels && !holds_.trunks.contains(name)))) {
      chosen = &it->second;
      break;
    }
  }
  if (!chosen)
    return refuse(request,
                  emergency ? sip_refusal::no_emergency_route : sip_refusal::no_trunk_available);
  call_target target;
  target.extension = route.number;
  trunk_leg leg;
  leg.name = chosen->name;
  leg.peer = sip_endpoint{chosen->kind, chosen->address, chosen->port, {}};
  const auto& host = chosen->domain.empty() ? chosen->address : chosen->domain;
  leg.request_uri = "sip:" + route.number + "@" +
                    (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                    std::to_string(chosen->port);
  if (chosen->kind != transport::udp)
    leg.request_uri += ";transport=" + std::string(to_string(chosen->kind));
  leg.caller_id = chosen->caller_id.empty() ? caller : chosen->caller_id;
  leg.username = chosen->username;
  leg.password = chosen->password;
  target.trunk = std::move(leg);
  auto policy = media_policy_for(request.directory, request.from, caller, target, emergency);
  policy.callee = chosen->media_security.value_or(request.directory.policy.media_security);
  policy.callee_srtp = request.directory.policy.srtp;
  policy.direct_media = false;
  request.outcome.call_started = true;
  const auto before = calls_.calls_on_trunk(chosen->name);
  append(request.sends, calls_.start_call(request.message, request.from, caller, target,
                                          request.now, random_, policy));
  // Counted only when the B2BUA took the call: a refused one never ends.
  if (!emergency && calls_.calls_on_trunk(chosen->name) > before)
    request.outcome.outside_call = metered_call{request.message.call_id, route.user,
                                                route.rights_template, chosen->name, route.number};
}

std::optional<dial_result> sip_pipeline::forwarded(const request_context& request,
                                                   const compiled_dial_plan& plan,
                                                   const std::string& extension,
                                                   bool from_trunk) const {
  for (const auto& [name, user] : request.directory.users) {
    if (user.extension != extension)
      continue;
    auto settings = plan.source.users.find(name);
    if (settings == plan.source.users.end() || settings->second.forward.unconditional.empty())
      return std::nullopt;
    return resolve_forward(request.directory, plan, name, settings->second.forward.unconditional,
                           zone_(request.now), from_trunk);
  }
  return std::nullopt;
}

void sip_pipeline::refuse_forward(const request_context& request, const std::string& caller,
                                  const std::string& shown, const dial_result& route) {
  request.outcome.barred = barred_call{caller, shown, route.barred_by, true, route.detail};
  refuse(request, sip_refusal::barred, "399 ward \"barred: " + route.detail + "\"");
}

const compiled_dial_plan* sip_pipeline::plan_for(const telephony_directory_data& directory) {
  const bool same = plan_inputs_ && plan_inputs_->version == directory.version &&
                    plan_inputs_->users == directory.users.size() &&
                    plan_inputs_->extensions == directory.extensions.size() &&
                    plan_inputs_->emergency_numbers == directory.policy.emergency_numbers &&
                    plan_inputs_->plan == directory.dial_plan;
  if (!same) {
    plan_inputs_ =
        plan_inputs{directory.dial_plan, directory.policy.emergency_numbers, directory.users.size(),
                    directory.extensions.size(), directory.version};
    auto compiled = compile_dial_plan(directory);
    plan_ = compiled ? std::optional(std::move(*compiled)) : std::nullopt;
  }
  return plan_ ? &*plan_ : nullptr;
}

const trunk_config* trunk_from(const dial_plan_config& plan, const sip_endpoint& from) {
  for (const auto& [_, trunk] : plan.trunks)
    if (trunk.kind == from.kind && trunk.address == from.address)
      return &trunk;
  return nullptr;
}

std::string route_incoming(const compiled_dial_plan& plan, std::string_view trunk,
                           std::string_view dialled) {
  const auto& routes = plan.source.incoming_routes;
  std::optional<std::size_t> best;
  match_rank best_rank;
  for (std::size_t i = 0; i < routes.size() && i < plan.incoming.size(); ++i) {
    if (!routes[i].trunk.empty() && routes[i].trunk != trunk)
      continue;
    if (fit_pattern(plan.incoming[i], dialled) != fit::full)
      continue;
    const auto rank = rank_of(plan.incoming[i]);
    if (!best || rank > best_rank) {
      best = i;
      best_rank = rank;
    }
  }
  return best ? routes[*best].extension : std::string();
}

void sip_pipeline::answer_once(const request_context& request) {
  const auto& message = request.message;
  auto source = endpoint_text(request.from);
  std::string key = (message.vias.empty() ? std::string{} : message.vias.front().branch) + "|" +
                    source + "|" + message.method + "|" + std::to_string(message.cseq);
  if (auto hit = responses_.find(key); hit != responses_.end() && hit->second.until > request.now) {
    request.sends.push_back({request.from, hit->second.response});
    return;
  }
  std::string response;
  auto tag = random_tag(random_);
  if (message.method == "REGISTER" && !from_line(request.from)) {
    response = answer_register(request, source, tag);
  } else if (message.method == "OPTIONS") {
    response =
        build_response(message, 200, "OK",
                       {{"Allow", std::string(allowed_methods)}, {"Accept", "application/sdp"}},
                       tag, received_address(request.from), received_port(request.from));
  } else {
    response =
        build_response(message, 501, "Not Implemented", {{"Allow", std::string(allowed_methods)}},
                       tag, received_address(request.from), received_port(request.from));
  }
  if (responses_.size() < max_cached_responses)
    responses_[key] = cached{response, request.now + retransmission_window};
  request.sends.push_back({request.from, std::move(response)});
}

std::string sip_pipeline::answer_register(const request_context& request, const std::string& source,
                                          std::string_view tag) {
  const auto& message = request.message;
  const auto& from = request.from;
  // SPEC SIP-5: a remote worker's extension registers from its pinned address only, and
  // only over TLS while remote workers are enabled.
  const auto& number = message.to.uri.user;
  if (auto it = request.directory.extensions.find(number);
      it != request.directory.extensions.end() && !it->second.remote_worker_address.empty() &&
      (it->second.remote_worker_address != from.address ||
       (request.directory.policy.remote_workers && from.kind != transport::tls))) {
    guard_.record_auth_failure(from.address, number, request.now);
    request.outcome.refusal = sip_refusal::remote_worker_rules;
    auto answer = answer_of(sip_refusal::remote_worker_rules);
    return build_response(message, answer.status, answer.reason,
                          {{"Warning", std::string(answer.warning)}}, tag, from.address, from.port);
  }
  auto outcome = registrar_.handle_register(message, source, from.kind, request.directory,
                                            request.now, random_);
  if (outcome.auth_failure) {
    guard_.record_auth_failure(from.address, outcome.extension, request.now);
  } else if (outcome.code == 200) {
    guard_.record_auth_success(from.address, outcome.extension);
    request.outcome.bindings_changed = true;
    if (outcome.auto_created)
      request.outcome.auto_created.emplace(outcome.extension, source);
  }
  return build_response(message, outcome.code, outcome.reason, outcome.headers, tag, from.address,
                        from.port);
}

void sip_pipeline::expire(time_point now) {
  std::erase_if(responses_, [now](const auto& entry) { return entry.second.until <= now; });
}

} // namespace ward::telephony
