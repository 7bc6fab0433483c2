#include "cluster/line_actor.hpp"

#include "cluster/line_actor_state.hpp"

#include "actors/cluster_messages.hpp"
#include "actors/security_db_actor.hpp"
#include "cluster/enrolment.hpp"
#include "cluster/event_forwarding.hpp"
#include "cluster/line_frames.hpp"
#include "cluster/line_stream.hpp"
#include "pki/certificate_check.hpp"
#include "pki/csr.hpp"
#include "pki/private_key.hpp"
#include "pki/trust_store.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <thread>

namespace ward::cluster {

void cluster_view::publish(cluster_snapshot snapshot) {
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(snapshot);
}

cluster_snapshot cluster_view::read() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

namespace detail {

std::shared_ptr<spdlog::logger> line_log() {
  static const auto named = [] {
    auto found = spdlog::get("cluster");
    return found ? found : spdlog::default_logger()->clone("cluster");
  }();
  return named;
}

namespace {

/// Refused-line alarms from one address per minute; the rest are only logged.
constexpr std::size_t line_alarms_per_source_per_minute = 30;
constexpr std::size_t line_alarms_per_node_per_minute = 3;
/// A call proxied to a node that has not answered by then is failed.
constexpr auto proxy_timeout = std::chrono::seconds(25);

std::string role_text(const line_actor_options& options) {
  return std::string(to_string(options.role));
}

std::int64_t unix_now(const line_actor_options& options) {
  return std::chrono::duration_cast<std::chrono::seconds>(options.time->now().time_since_epoch())
      .count();
}

} // namespace

void alarm(line_actor_pointer self, std::string action, std::string object, std::string reason,
           std::string source) {
  self->send(self->state.options.security_actor,
             actors::cluster_alarm{std::move(action), std::move(object), std::move(reason),
                                   std::move(source)});
}

void publish(line_actor_pointer self) {
  auto& state = self->state;
  cluster_snapshot snapshot;
  snapshot.node = state.options.node;
  snapshot.role = role_text(state.options);
  snapshot.settings_version = state.snapshot.version;
  auto now = std::chrono::steady_clock::now();
  for (auto& [name, entry] : state.members) {
    auto view = entry.view;
    if (entry.last_heartbeat != std::chrono::steady_clock::time_point{})
      view.last_heartbeat_ms_ago =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - entry.last_heartbeat).count();
    if (state.options.events)
      view.events_stored = state.options.events->stored_up_to(name);
    snapshot.members.push_back(std::move(view));
  }
  state.options.view->publish(std::move(snapshot));
}

void send_frame(line_actor_pointer self, const member& entry, line::Frame frame) {
  if (entry.line && entry.view.line_up)
    self->send(entry.line, outbound_frame{std::move(frame)});
}

/// The identities every node pins for line security High, by node name: on the primary
/// those it issued (and its own), elsewhere the list the primary last sent.
pin_map pinned_identities(line_actor_pointer self) {
  auto& state = self->state;
  pin_map pins;
  if (state.options.writer) {
    if (auto issued = state.options.store->scan("pin/", "", max_enrolled_nodes + 1))
      for (auto& [key, pem] : *issued)
        pins.emplace(key.substr(4), std::move(pem));
    if (!state.facts.identity_pem.empty())
      pins[state.options.node] = state.facts.identity_pem;
  } else if (auto held = state.options.store->get("pins"); held && *held) {
    pins = decode_pins(**held);
  }
  return pins;
}

std::string cluster_ca_pem(line_actor_pointer self) {
  auto& state = self->state;
  if (state.options.writer)
    return state.facts.ca_pem;
  auto held = state.options.store->get("cluster_ca");
  return held && *held ? **held : std::string{};
}

void retire_replaced_cas_when_reissued(line_actor_pointer self) {
  auto& state = self->state;
  if (!state.options.writer || state.facts.retiring_cas == 0)
    return;
  auto ca = pki::certificate::from_pem(state.facts.ca_pem);
  if (!ca)
    return;
  for (const auto& [node, pem] : pinned_identities(self)) {
    auto pinned = pki::certificate::from_pem(pem);
    if (!pinned || pinned->issued_by(*ca))
      continue;
    // A node whose identity was revoked is not waited for: it enrols afresh.
    if (std::ranges::find(state.facts.revoked_serials, pinned->serial_hex()) !=
        state.facts.revoked_serials.end())
      continue;
    return;
  }
  line_log()->info("event=cluster_reissued ca_retired=true");
  self->send(state.options.security_actor, actors::retire_replaced_cas{});
}

line::Frame current_settings_frame(line_actor_pointer self) {
  return settings_frame(self->state.snapshot, pinned_identities(self), cluster_ca_pem(self));
}

member* member_of_line(line_actor_pointer self, std::uint64_t line_id) {
  auto it = self->state.line_nodes.find(line_id);
  if (it == self->state.line_nodes.end())
    return nullptr;
  auto found = self->state.members.find(it->second);
  return found == self->state.members.end() ? nullptr : &found->second;
}

/// The line to the primary when it is up and carries more than enrolment.
member* usable_primary(line_actor_pointer self) {
  auto* primary = member_of_line(self, self->state.primary_line);
  return primary && usable(*primary) ? primary : nullptr;
}

// --- Event forwarding (dialling side) ---------------------------------------------------

namespace {

/// Sends the next batch of `log` after `cursor` up the line to the primary, unless one is
/// still waiting for its acknowledgement.
void forward_stream(line_actor_pointer self, const security::audit_log* log, std::uint64_t cursor,
                    std::optional<std::chrono::steady_clock::time_point>& in_flight,
                    std::string_view stream) {
  if (!log || in_flight)
    return;
  auto* primary = usable_primary(self);
  if (!primary)
    return;
  auto records = log->query(next_batch(cursor));
  if (!records || records->empty())
    return;
  line::Frame frame;
  *frame.mutable_events() = events_message(*records);
  frame.mutable_events()->set_stream(std::string(stream));
  in_flight = std::chrono::steady_clock::now();
  send_frame(self, *primary, std::move(frame));
}

} // namespace

void forward_events(line_actor_pointer self) {
  auto& state = self->state;
  if (!state.primary_line)
    return;
  forward_stream(self, state.options.audit.get(), state.forwarded_up_to, state.forward_in_flight,
                 "");
  forward_stream(self, state.options.call_records.get(), state.calls_forwarded_up_to,
                 state.calls_forward_in_flight, calls_stream);
}

// --- Enrolment (dialling side) ------------------------------------------------------------

void maybe_enrol(line_actor_pointer self) {
  auto& state = self->state;
  if (state.options.writer || state.enrolling || !state.primary_line)
    return;
  auto identity = pki::certificate::from_pem(state.facts.identity_pem);
  if (!identity)
    return;
  auto cluster_ca = pki::certificate::from_pem(cluster_ca_pem(self));
  auto need = enrolment_needed(*identity, state.options.time->now(), actors::identity_renewal_days,
                               cluster_ca ? &*cluster_ca : nullptr);
  if (need == enrolment_need::none)
    return;
  auto key = pki::private_key::from_pem(state.facts.identity_key_pem);
  if (!key)
    return;
  auto csr = pki::make_csr(*key, state.facts.hostname);
  if (!csr) {
    line_log()->warn("event=enrolment_failed reason=\"{}\"", csr.error().detail);
    return;
  }
  auto* primary = member_of_line(self, state.primary_line);
  if (!primary)
    return;
  line::Frame frame;
  frame.mutable_enrol_request()->set_csr_pem(*csr);
  for (const auto& address : state.facts.addresses)
    frame.mutable_enrol_request()->add_addresses(address);
  state.enrolling = true;
  line_log()->info("event=enrolment_requested node={} reason={}", state.options.node,
                   need == enrolment_need::renewal   ? "renewal"
                   : need == enrolment_need::reissue ? "reissue_under_new_ca"
                                                     : "first enrolment");
  send_frame(self, *primary, std::move(frame));
}

namespace {

/// Registers a line that just came up and spawns its stream actor; an older line of the
/// same node is closed first.
caf::actor open_line(line_actor_pointer self, const std::string& node, const std::string& role,
                     std::shared_ptr<frame_writer> writer, bool dialled, bool enrolment_only) {
  auto& state = self->state;
  auto& entry = state.members[node];
  // A line that was down and comes back clears its line-down alarm (SPEC LINE-4).
  // A node re-dialling with the identity it was just issued had no outage to clear; from
  // now on its line going down is one again.
  const bool planned_redial = entry.redial_expected_until &&
                              std::chrono::steady_clock::now() < *entry.redial_expected_until;
  if (!enrolment_only)
    entry.redial_expected_until.reset();
  if (!entry.view.line_up && !entry.view.last_error.empty() && !entry.view.enrolment_only &&
      !planned_redial)
    self->send(
        state.options.security_actor,
        actors::cluster_alarm{
            "line_up", "node/" + node, "line back up after: " + entry.view.last_error, {}, true});
  if (entry.line && entry.view.line_up)
    self->send(entry.line, close_atom::value, std::string("replaced by a new line"));
  auto id = state.next_line_id++;
  auto line =
      spawn_line_stream(self->system(), id, caf::actor_cast<caf::actor>(self), std::move(writer));
  self->link_to(line);
  state.line_nodes[id] = node;
  entry.line_id = id;
  entry.line = line;
  entry.view.name = node;
  entry.view.role = role;
  entry.view.line_up = true;
  entry.view.dialled = dialled;
  entry.view.enrolment_only = enrolment_only;
  entry.view.line_security = std::string(to_string(state.options.security));
  entry.view.since_unix = unix_now(state.options);
  entry.view.last_error.clear();
  entry.last_heartbeat = std::chrono::steady_clock::now();
  line_log()->info("event=line_up node={} role={} dialled={} enrolment_only={}", node, role,
                   dialled, enrolment_only);
  publish(self);
  return line;
}

/// On the primary, its own records go to syslog as they are written (SPEC MON-2).
void forward_own_to_syslog(line_actor_pointer self) {
  auto& state = self->state;
  if (!state.options.event_sink || !state.options.writer)
    return;
  auto records = state.options.audit->query(next_batch(state.syslog_up_to));
  if (!records || records->empty())
    return;
  for (const auto& record : *records) {
    state.options.event_sink(state.options.node, record);
    state.syslog_up_to = record.sequence;
  }
  (void)state.options.store->put("syslog/own", std::to_string(state.syslog_up_to));
}

// --- Accepting a line (server side) -------------------------------------------------------

/// Raises a refused-line alarm unless `source` or the node it claims already raised their
/// share this minute, logs the refusal and returns it.
line_accept_reply refuse_line(line_actor_pointer self, const std::string& node,
                              const std::string& source, const std::string& why) {
  auto& state = self->state;
  auto now = std::chrono::steady_clock::now();
  if (now - state.alarm_minute >= std::chrono::minutes(1)) {
    state.line_alarms.clear();
    state.alarm_minute = now;
  }
  auto address = source.substr(0, source.rfind(':'));
  // Capped per address and per name it claims, so one node retrying cannot hide another
  // behind the same address, and a scanner cannot flood the trail.
  if (++state.line_alarms[address] <= line_alarms_per_source_per_minute &&
      ++state.line_alarms[address + "/" + node] <= line_alarms_per_node_per_minute)
    alarm(self, "line_refused", "node/" + node, why, source);
  line_log()->warn("event=line_refused node={} peer={} reason=\"{}\"", node, source, why);
  return line_accept_reply{false, why, {}};
}

/// Why a Hello cannot open a line, or nullopt when its name, role and password proof hold.
std::optional<std::string> check_hello(line_actor_pointer self, const line::Hello& hello,
                                       const line_connection_facts& facts) {
  auto& state = self->state;
  auto role = parse_node_role(hello.role());
  if (!valid_node_name(hello.node()) || !role || *role == node_role::primary)
    return "Hello names no valid node and dialling role";
  // A name is one node: never this node's own, never one this node dials itself.
  if (hello.node() == state.options.node)
    return "Hello names this node itself";
  if (auto it = state.members.find(hello.node());
      it != state.members.end() && it->second.view.dialled && it->second.view.line_up)
    return "Hello names a node this node holds a line to";
  if (!state.options.line_password.empty() &&
      !proofs_match(line_proof(state.options.line_password, line_side::client, facts.exporter_hex,
                               hello.node(), hello.role()),
                    hello.proof()))
    return "the line password proof does not match";
  if (state.options.line_password.empty())
    return "this node has no line password configured";
  return std::nullopt;
}

/// What the client certificate admits a line to: a refusal, or full or enrolment-only
/// admission with the reason the node is told.
struct client_admission {
  std::optional<std::string> refusal;
  bool enrolment_only = false;
  std::string reason;
};

client_admission admit_client_certificate(line_actor_pointer self, const std::string& node,
                                          const line_connection_facts& facts) {
  auto& state = self->state;
  if (!requires_client_certificate(state.options.security))
    return {};
  std::vector<pki::certificate> chain;
  for (const auto& pem : facts.client_chain_pem)
    if (auto cert = pki::certificate::from_pem(pem))
      chain.push_back(*cert);
  if (chain.empty() || chain.front().subject() == chain.front().issuer())
    // First contact: the password is proven, the node may enrol and nothing else.
    return {std::nullopt, true,
            chain.empty() ? "no client certificate: enrol first"
                          : "self-signed identity: enrol first"};
  pki::trust_store trust;
  for (const auto& pem : state.facts.anchors_pem)
    if (auto anchor = pki::certificate::from_pem(pem))
      (void)trust.add(*anchor);
  // High pins the identity the cluster CA issued to the node of that name, which ties the
  // name in Hello to the certificate. A secondary that has not yet received the pins from
  // the primary can only check the chain to the CA.
  auto pins = pinned_identities(self);
  auto level = pins.empty() ? pki::check_level::medium : pki::check_level::high;
  for (const auto& [name, pem] : pins)
    if (auto cert = pki::certificate::from_pem(pem))
      (void)trust.add(*cert);
  std::vector<std::string> own;
  if (auto mine = pki::certificate::from_pem(state.facts.identity_pem))
    own.push_back(mine->sha256_fingerprint());
  pki::check_context check{
      state.options.time->now(),  pki::certificate_purpose::tls_client, &trust, own, {},
      state.facts.revoked_serials};
  auto graded = pki::check_received_certificate(chain, level, check);
  if (!graded.ok())
    return {"client certificate refused (" + std::string(pki::to_string(graded.failure)) +
            "): " + graded.detail};
  if (!pins.empty() && !pinned_as(pins, node, facts.client_chain_pem.front()))
    return {"client certificate refused (not_pinned): it is not the identity enrolled as " + node};
  return {};
}

line::Frame welcome_frame(line_actor_pointer self, const line_connection_facts& facts,
                          const client_admission& admitted) {
  auto& options = self->state.options;
  line::Frame welcome;
  auto* w = welcome.mutable_welcome();
  w->set_node(options.node);
  w->set_role(role_text(options));
  w->set_proof(line_proof(options.line_password, line_side::server, facts.exporter_hex,
                          options.node, role_text(options)));
  w->set_settings_version(self->state.snapshot.version);
  w->set_enrolment_only(admitted.enrolment_only);
  w->set_reason(admitted.reason);
  return welcome;
}

line_accept_reply accept_line(line_actor_pointer self, line_accept& request) {
  auto& state = self->state;
  const auto& hello = request.hello.hello();
  const auto& facts = request.facts;
  if (auto refusal = check_hello(self, hello, facts))
    return refuse_line(self, hello.node(), facts.peer_address, *refusal);
  auto admitted = admit_client_certificate(self, hello.node(), facts);
  if (admitted.refusal)
    return refuse_line(self, hello.node(), facts.peer_address, *admitted.refusal);
  // The welcome goes out before anything the stream actor may send.
  request.writer->send(welcome_frame(self, facts, admitted));
  auto line =
      open_line(self, hello.node(), hello.role(), request.writer, false, admitted.enrolment_only);
  auto& entry = state.members[hello.node()];
  entry.view.settings_version = hello.settings_version();
  entry.peer_address = facts.peer_address;
  entry.peer_pem = facts.client_chain_pem.empty() ? std::string{} : facts.client_chain_pem.front();
  if (auto leaf = pki::certificate::from_pem(entry.peer_pem); leaf && !entry.peer_pem.empty()) {
    entry.view.peer_subject = leaf->subject();
    entry.view.peer_issuer = leaf->issuer_label();
    entry.view.peer_days_left = leaf->days_until_expiry(state.options.time->now());
  }
  if (!admitted.enrolment_only && hello.settings_version() < state.snapshot.version)
    send_frame(self, entry, current_settings_frame(self));
  return line_accept_reply{true, {}, line};
}

void on_line_down(line_actor_pointer self, std::uint64_t line_id, const std::string& reason) {
  auto& state = self->state;
  auto it = state.line_nodes.find(line_id);
  if (it == state.line_nodes.end())
    return;
  auto node = it->second;
  state.line_nodes.erase(it);
  for (auto it = state.proxies.begin(); it != state.proxies.end();) {
    if (it->second.line_id == line_id) {
      it->second.promise.deliver(proxy_outcome{14, "the line to " + node + " went down", {}});
      it = state.proxies.erase(it);
    } else {
      ++it;
    }
  }

  auto found = state.members.find(node);
  if (found == state.members.end() || found->second.line_id != line_id)
    return;
  auto& entry = found->second;
  entry.view.line_up = false;
  entry.view.last_error = reason;
  entry.line = nullptr;
  line_log()->warn("event=line_down node={} reason=\"{}\"", node, reason);
  // A line replaced by a newer one, or closed to re-dial after enrolment, is no outage.
  const bool redial_expected = entry.redial_expected_until &&
                               std::chrono::steady_clock::now() < *entry.redial_expected_until;
  if (!entry.view.enrolment_only && !redial_expected &&
      reason.find("replaced") == std::string::npos &&
      reason.find("enrolled identity") == std::string::npos) {
    alarm(self, "line_down", "node/" + node, reason);
    if (state.options.writer && state.options.fraud_actor)
      self->send(state.options.fraud_actor, actors::fraud_node_down{node});
  }
  if (line_id == state.primary_line) {
    state.primary_line = 0;
    state.forward_in_flight.reset();
    state.calls_forward_in_flight.reset();
    state.enrolling = false;
    for (auto& [id, promise] : state.referrals)
      promise.deliver(actors::referral_result{false, false, "line to the primary lost", false});
    state.referrals.clear();
  }
  publish(self);
}

// --- Messages from the node ---------------------------------------------------------------

void on_settings_changed(line_actor_pointer self, actors::settings_changed& snapshot) {
  auto& state = self->state;
  state.snapshot = std::move(snapshot);
  state.version_times[state.snapshot.version] = std::chrono::steady_clock::now();
  while (state.version_times.size() > 1024)
    state.version_times.erase(state.version_times.begin());
  // Lines this node serves get the new version; the one it dialled sent it.
  send_to_members(self, current_settings_frame(self), [&](const std::string&, const member& m) {
    return !m.view.dialled && m.view.settings_version < state.snapshot.version;
  });
  publish(self);
}

dial_material material_for_dial(line_actor_pointer self) {
  const auto& state = self->state;
  return {.node = state.options.node,
          .role = role_text(state.options),
          .password = state.options.line_password,
          .security = state.options.security,
          .key_pem = state.facts.identity_key_pem,
          .certificate_pem = state.facts.identity_pem,
          .chain_pem = state.facts.chain_pem,
          .minimum_tls = state.facts.minimum_tls,
          .anchors_pem = state.facts.anchors_pem,
          .pins = pinned_identities(self),
          .revoked_serials = state.facts.revoked_serials,
          .enrolled = is_enrolled(state.facts.identity_pem),
          .settings_version = state.snapshot.version,
          .ready = !state.facts.identity_pem.empty()};
}

line_accept_reply on_line_dialed(line_actor_pointer self, line_dialed& dialed) {
  auto& state = self->state;
  const auto& welcome = dialed.welcome.welcome();
  state.alarmed_dial_failures.erase(dialed.target.name);
  auto node = welcome.node().empty() ? dialed.target.name : welcome.node();
  // A line is named after the node it dials (SPEC LINE-1): another node answering, even
  // one that knows the line password, is not the one this line was meant to reach.
  if (node != dialed.target.name) {
    dialed.writer->close();
    self->send(self, dial_failed{dialed.target, "the line server is node " + node + ", not " +
                                                    dialed.target.name});
    return line_accept_reply{false, "not the node dialled", {}};
  }
  auto pins = pinned_identities(self);
  if (!valid_node_name(node) || node == state.options.node ||
      (is_enrolled(state.facts.identity_pem) && state.options.security == line_security::high &&
       !pins.empty() && !pinned_as(pins, node, dialed.peer_pem))) {
    dialed.writer->close();
    self->send(self, dial_failed{dialed.target, "the line server is not the node " + node +
                                                    " the cluster enrolled"});
    return line_accept_reply{false, "not the enrolled node", {}};
  }
  auto line = open_line(self, node, welcome.role(), dialed.writer, true, welcome.enrolment_only());
  auto& entry = state.members[node];
  entry.view.peer_subject = dialed.peer_subject;
  entry.view.peer_issuer = dialed.peer_issuer;
  entry.view.peer_days_left = dialed.peer_days_left;
  entry.view.settings_version = welcome.settings_version();
  if (welcome.role() == "primary") {
    state.primary_line = entry.line_id;
    state.forward_in_flight.reset();
    state.calls_forward_in_flight.reset();
    maybe_enrol(self);
    forward_events(self);
  }
  return line_accept_reply{true, {}, line};
}

void on_dial_failed(line_actor_pointer self, const dial_failed& failure) {
  auto& alarmed = self->state.alarmed_dial_failures[failure.target.name];
  if (alarmed == failure.cause)
    return;
  alarmed = failure.cause;
  alarm(self, "line_refused", "line/" + failure.target.name, failure.cause,
        failure.target.address + ":" + std::to_string(failure.target.port));
}

caf::result<actors::referral_result> refer_login(line_actor_pointer self,
                                                 const actors::refer_login& login) {
  auto& state = self->state;
  auto* primary = usable_primary(self);
  if (!primary)
    return actors::referral_result{false, false, "no line to the primary", false};
  auto id = state.next_referral++;
  line::Frame frame;
  auto* r = frame.mutable_referred_login();
  r->set_id(id);
  r->set_name(login.name);
  r->set_password(login.password);
  r->set_source(login.source);
  r->set_service(login.service);
  auto promise = self->make_response_promise<actors::referral_result>();
  state.referrals.emplace(id, promise);
  send_frame(self, *primary, std::move(frame));
  return promise;
}

caf::result<proxy_outcome> proxy(line_actor_pointer self, const proxy_request& request) {
  auto& state = self->state;
  auto it = state.members.find(request.node);
  if (it == state.members.end())
    return proxy_outcome{5, "no node named " + request.node + " has been seen", {}};
  auto& entry = it->second;
  if (!usable(entry) || entry.view.dialled)
    return proxy_outcome{14, "no line to " + request.node + " is up", {}};
  auto id = state.next_proxy++;
  line::Frame frame;
  auto* call = frame.mutable_proxy_call();
  call->set_id(id);
  call->set_user(request.call.user);
  call->set_source(request.call.source);
  call->set_method(request.call.method);
  call->set_payload(request.call.payload);
  call->set_tls(request.call.tls);
  call->set_client_certificate(request.call.client_certificate);
  auto promise = self->make_response_promise<proxy_outcome>();
  state.proxies.emplace(id, line_actor_state::pending_proxy{entry.line_id, promise,
                                                            std::chrono::steady_clock::now()});
  send_frame(self, entry, std::move(frame));
  return promise;
}

void on_sip_signal_out(line_actor_pointer self, sip_signal_out& out) {
  auto& state = self->state;
  line::Frame frame;
  auto* signal = frame.mutable_sip_signal();
  signal->set_from_node(state.options.node);
  signal->set_to_node(out.to_node);
  signal->set_message(std::move(out.text));
  if (auto target = state.members.find(out.to_node);
      target != state.members.end() && usable(target->second)) {
    send_frame(self, target->second, std::move(frame));
    return;
  }
  // No line of its own to that node: the primary passes it on.
  if (auto* primary = usable_primary(self))
    send_frame(self, *primary, std::move(frame));
}

void on_proxy_done(line_actor_pointer self, const proxy_done& done) {
  auto* entry = member_of_line(self, done.line_id);
  if (!entry)
    return;
  line::Frame frame;
  auto* result = frame.mutable_proxy_result();
  result->set_id(done.id);
  result->set_code(done.outcome.code);
  result->set_message(done.outcome.message);
  result->set_payload(done.outcome.payload);
  send_frame(self, *entry, std::move(frame));
}

void on_tick(line_actor_pointer self) {
  auto& state = self->state;
  auto beat = heartbeat_frame(
      {state.options.time->now(), std::chrono::steady_clock::now() - state.started,
       state.facts.identity_pem, state.options.audit->last_sequence(), state.snapshot.version});
  for (auto& [name, entry] : state.members)
    send_frame(self, entry, beat);
  auto now = std::chrono::steady_clock::now();
  if (state.forward_in_flight && now - *state.forward_in_flight > forward_retry)
    state.forward_in_flight.reset();
  if (state.calls_forward_in_flight && now - *state.calls_forward_in_flight > forward_retry)
    state.calls_forward_in_flight.reset();
  for (auto it = state.proxies.begin(); it != state.proxies.end();) {
    if (now - it->second.sent > proxy_timeout) {
      it->second.promise.deliver(proxy_outcome{4, "the node did not answer in time", {}});
      it = state.proxies.erase(it);
    } else {
      ++it;
    }
  }
  forward_events(self);
  // Renewal before expiry (SPEC PKI-5) is checked hourly, not only when a line opens.
  if (++state.ticks % 3600 == 0)
    maybe_enrol(self);
  publish(self);
  self->delayed_send(self, heartbeat_interval, tick_atom::value);
}

/// Sends `frame` on every usable line.
void send_to_all(line_actor_pointer self, const line::Frame& frame) {
  send_to_members(self, frame, [](const std::string&, const member&) { return true; });
}

caf::behavior line_actor_behavior(line_actor_pointer self, line_actor_options options) {
  auto& state = self->state;
  state.options = std::move(options);
  if (auto cursor = state.options.store->get("forward/acked"))
    state.forwarded_up_to = parse_cursor(*cursor);
  if (auto cursor = state.options.store->get("forward/calls-acked"))
    state.calls_forwarded_up_to = parse_cursor(*cursor);
  if (auto cursor = state.options.store->get("syslog/own"))
    state.syslog_up_to = parse_cursor(*cursor);
  self->send(state.options.security_actor, actors::cluster_link{caf::actor_cast<caf::actor>(self)});
  self->delayed_send(self, heartbeat_interval, tick_atom::value);
  publish(self);
  return {
      [self](actors::pki_facts& facts) {
        const bool new_ca = self->state.options.writer && facts.ca_pem != self->state.facts.ca_pem;
        self->state.facts = std::move(facts);
        // SPEC PKI-4: after Create New every node hears of the new CA at once, and asks to
        // be reissued under it.
        if (new_ca)
          send_to_members(self, current_settings_frame(self),
                          [](const std::string&, const member& m) { return !m.view.dialled; });
        retire_replaced_cas_when_reissued(self);
        maybe_enrol(self);
      },
      [self](actors::settings_changed& snapshot) { on_settings_changed(self, snapshot); },
      [self](actors::audit_appended_atom) {
        forward_events(self);
        forward_own_to_syslog(self);
      },
      [self](line_accept& request) { return accept_line(self, request); },
      [self](dial_material_request&) { return material_for_dial(self); },
      [self](line_dialed& dialed) { return on_line_dialed(self, dialed); },
      [self](dial_failed& failure) { on_dial_failed(self, failure); },
      [self](line_frame_from& in) { on_frame(self, in.line_id, in.frame); },
      [self](line_down& down) { on_line_down(self, down.line_id, down.reason); },
      [self](actors::refer_login& login) { return refer_login(self, login); },
      [self](proxy_request& request) { return proxy(self, request); },
      [self](guard_broadcast& broadcast) {
        send_to_all(self, guard_event_frame(broadcast.event, self->state.options.node));
      },
      [self](sip_signal_out& out) { on_sip_signal_out(self, out); },
      [self](locations_out& out) {
        line::Frame frame;
        auto* locations = frame.mutable_sip_locations();
        locations->set_node(self->state.options.node);
        for (auto& extension : out.extensions)
          locations->add_extensions(std::move(extension));
        send_to_all(self, frame);
      },
      [self](proxy_done& done) { on_proxy_done(self, done); },
      // SPEC TF-10: a node's outside calls go to the primary's fraud counters; the reply
      // says whether the line carried them.
      [self](actors::fraud_usage_out& out) -> bool {
        auto* primary = usable_primary(self);
        if (self->state.options.writer || !primary)
          return false;
        line::Frame frame;
        auto* usage = frame.mutable_fraud_usage();
        const auto& call = out.usage.call;
        usage->set_call_id(call.id);
        usage->set_ended(out.usage.ended);
        usage->set_user(call.user);
        usage->set_rights_template(call.rights_template);
        usage->set_trunk(call.trunk);
        usage->set_number(call.number);
        send_frame(self, *primary, std::move(frame));
        return true;
      },
      [self](actors::fraud_trips_out& out) -> bool {
        auto* primary = usable_primary(self);
        if (self->state.options.writer || !primary)
          return false;
        if (out.trips.trips.empty())
          return true;
        line::Frame frame;
        auto* trips = frame.mutable_fraud_trips();
        for (const auto& trip : out.trips.trips) {
          auto* entry = trips->add_trips();
          entry->set_rule(trip.rule);
          entry->set_critical(trip.level == telephony::fraud_level::critical);
          entry->set_action(std::string(telephony::to_string(trip.action)));
          entry->set_measure(std::string(telephony::to_string(trip.measure)));
          entry->set_value(trip.value);
          entry->set_limit(trip.limit);
          entry->set_call(trip.call);
          entry->set_user(trip.user);
          entry->set_trunk(trip.trunk);
        }
        send_frame(self, *primary, std::move(frame));
        return true;
      },
      [self](tick_atom) { on_tick(self); },
  };
}

} // namespace
} // namespace detail

caf::actor spawn_line_actor(caf::actor_system& system, line_actor_options options) {
  return system.spawn(detail::line_actor_behavior, std::move(options));
}

} // namespace ward::cluster
