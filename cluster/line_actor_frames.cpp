#include "cluster/line_actor_state.hpp"

#include "actors/security_db_actor.hpp"
#include "cluster/event_forwarding.hpp"
#include "cluster/line_frames.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <thread>

// The line actor's handlers of frames, one per kind (SPEC LINE-3, PKI-5, POL-7, SEC-10,
// MON-2, TOP-2, SIP-4, SIP-6).
namespace ward::cluster::detail {
namespace {

// --- Frames from a line: one handler per kind ---------------------------------------------

void on_heartbeat(line_actor_pointer, member& entry, const line::Frame& frame) {
  entry.last_heartbeat = std::chrono::steady_clock::now();
  const auto& status = frame.heartbeat().status();
  entry.view.audit_sequence = status.audit_sequence();
  if (entry.view.dialled) {
    entry.view.peer_subject = status.identity_subject();
    entry.view.peer_issuer = status.identity_issuer();
    entry.view.peer_days_left = status.identity_days_left();
  }
}

void on_settings(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  const auto& settings = frame.settings();
  if (state.options.writer)
    return;
  pin_map pins;
  for (const auto& pin : settings.pins())
    pins[pin.node()] = pin.certificate_pem();
  std::vector<std::string> revoked(settings.revoked_serials().begin(),
                                   settings.revoked_serials().end());
  auto version = settings.version();
  auto cluster_ca = settings.cluster_ca_pem();
  self->request(
          state.options.security_actor, std::chrono::seconds(10),
          actors::apply_replicated{version, settings.settings(), revoked, settings.directory()})
      .then(
          [self, line_id = entry.line_id, version, pins = encode_pins(pins),
           cluster_ca](std::uint64_t held) {
            // Pins and the CA come with the record: kept only when it is the one now held,
            // so an older record never replaces them.
            if (held == version) {
              (void)self->state.options.store->put("pins", pins);
              if (!cluster_ca.empty())
                (void)self->state.options.store->put("cluster_ca", cluster_ca);
              // SPEC PKI-4: an identity of a replaced CA is reissued over this line.
              maybe_enrol(self);
            }
            auto* entry = member_of_line(self, line_id);
            if (!entry)
              return;
            line::Frame ack;
            ack.mutable_settings_ack()->set_version(held);
            send_frame(self, *entry, std::move(ack));
          },
          [](const caf::error&) {
            // Not acknowledged: the primary sends it again on the next change or line.
          });
}

void on_settings_ack(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  entry.view.settings_version = frame.settings_ack().version();
  if (auto it = state.version_times.find(entry.view.settings_version);
      it != state.version_times.end())
    entry.view.replication_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - it->second)
            .count();
  publish(self);
}

/// SPEC TF-8: a node's call records, kept under "calls/<node>"; no lockout, no syslog.
void on_call_records(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  auto stored =
      state.options.events->store(call_records_source(entry.view.name), records_of(frame.events()));
  if (!stored) {
    line_log()->error("event=call_records_not_stored node={} reason=\"{}\"", entry.view.name,
                      stored.error().detail);
    return; // no acknowledgement: the node sends them again
  }
  line::Frame ack;
  ack.mutable_events_ack()->set_up_to(*stored);
  ack.mutable_events_ack()->set_stream(std::string(calls_stream));
  send_frame(self, entry, std::move(ack));
}

void on_events(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  if (!state.options.events)
    return;
  if (frame.events().stream() == calls_stream)
    return on_call_records(self, entry, frame);
  if (!frame.events().stream().empty())
    return; // a stream of a newer build: not acknowledged, so it is sent again later
  auto records = records_of(frame.events());
  auto before = state.options.events->stored_up_to(entry.view.name);
  auto stored = state.options.events->store(entry.view.name, records);
  if (!stored) {
    line_log()->error("event=events_not_stored node={} reason=\"{}\"", entry.view.name,
                      stored.error().detail);
    return; // no acknowledgement: the node sends them again
  }
  auto now = state.options.time->now();
  for (const auto& record : records) {
    if (record.sequence <= before || record.sequence > *stored)
      continue;
    // SPEC POL-7: a login checked on another node counts on the writer, once.
    if (counts_for_lockout(record, now))
      self->send(state.options.security_actor,
                 actors::login_report{entry.view.name, record.actor,
                                      record.outcome == security::audit_outcome::success,
                                      record.source, record.time});
    if (state.options.event_sink)
      state.options.event_sink(entry.view.name, record);
  }
  line::Frame ack;
  ack.mutable_events_ack()->set_up_to(*stored);
  send_frame(self, entry, std::move(ack));
  publish(self);
}

void on_events_ack(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  if (entry.line_id != state.primary_line)
    return;
  // The primary's word is final, even below the cursor: a primary restored from an older
  // backup gets the records it lacks again.
  if (frame.events_ack().stream() == calls_stream) {
    state.calls_forwarded_up_to = frame.events_ack().up_to();
    (void)state.options.store->put("forward/calls-acked",
                                   std::to_string(state.calls_forwarded_up_to));
    state.calls_forward_in_flight.reset();
    forward_events(self);
    return;
  }
  state.forwarded_up_to = frame.events_ack().up_to();
  (void)state.options.store->put("forward/acked", std::to_string(state.forwarded_up_to));
  state.forward_in_flight.reset();
  forward_events(self);
}

/// The CA signed (or refused) a node's request: pin what it issued, tell every node, and
/// answer the node on `line_id`.
void on_enrol_signed(line_actor_pointer self, std::uint64_t line_id, const std::string& node,
                     const actors::enrol_result& result) {
  // The issued identity is pinned before the node can use it (line level High).
  if (result.error.empty()) {
    (void)self->state.options.store->put("pin/" + node, result.certificate_pem);
    // Every node learns the new pin at once, not at the next change.
    send_to_members(self, current_settings_frame(self),
                    [](const std::string&, const member& m) { return !m.view.dialled; });
    retire_replaced_cas_when_reissued(self);
  }
  auto* entry = member_of_line(self, line_id);
  if (!entry)
    return;
  if (result.error.empty())
    entry->redial_expected_until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  line::Frame reply;
  auto* r = reply.mutable_enrol_reply();
  r->set_certificate_pem(result.certificate_pem);
  r->set_ca_pem(result.ca_pem);
  r->set_server_identity_pem(result.server_identity_pem);
  r->set_error(result.error);
  send_frame(self, *entry, std::move(reply));
}

void on_enrol_request(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  if (state.facts.ca_pem.empty()) {
    send_frame(self, entry, enrol_error_frame("this node hosts no certificate authority"));
    return;
  }
  auto node = entry.view.name;
  const auto& request = frame.enrol_request();
  auto pins = pinned_identities(self);
  enrol_request_facts facts{node,
                            request.csr_pem(),
                            entry.peer_pem,
                            state.facts.hostname,
                            &pins,
                            &state.facts.revoked_serials,
                            state.options.time->now()};
  if (auto refusal = check_enrol_request(facts)) {
    alarm(self, "enrolment_refused", "node/" + node, refusal->detail, entry.peer_address);
    send_frame(self, entry, enrol_error_frame(refusal->detail));
    return;
  }
  auto addresses =
      vouched_addresses(entry.peer_address, std::vector<std::string>(request.addresses().begin(),
                                                                     request.addresses().end()));
  self->request(state.options.security_actor, std::chrono::seconds(30),
                actors::enrol_sign{node, request.csr_pem(), addresses})
      .then(
          [self, line_id = entry.line_id, node](const actors::enrol_result& result) {
            on_enrol_signed(self, line_id, node, result);
          },
          [self, line_id = entry.line_id](const caf::error&) {
            if (auto* entry = member_of_line(self, line_id))
              send_frame(self, *entry,
                         enrol_error_frame("the certificate authority did not answer"));
          });
}

void on_enrol_reply(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  const auto& reply = frame.enrol_reply();
  if (!state.enrolling || entry.line_id != state.primary_line || state.options.writer)
    return;
  if (!reply.error().empty()) {
    state.enrolling = false;
    alarm(self, "enrolment_failed", "identity", reply.error());
    return;
  }
  self->request(state.options.security_actor, std::chrono::seconds(30),
                actors::install_enrolment{reply.certificate_pem(), reply.ca_pem(),
                                          reply.server_identity_pem()})
      .then(
          [self, primary = entry.view.name, server = reply.server_identity_pem(),
           ca = reply.ca_pem()](const actors::transaction_reply& installed) {
            self->state.enrolling = false;
            if (installed.error) {
              alarm(self, "enrolment_failed", "identity", installed.error->message);
              return;
            }
            // The primary's identity and CA as the enrolment vouched for them: pins kept
            // from before a Create New would refuse the re-dialled line (SPEC PKI-4).
            auto& store = *self->state.options.store;
            pin_map pins;
            if (auto held = store.get("pins"); held && *held)
              pins = decode_pins(**held);
            pins[primary] = server;
            (void)store.put("pins", encode_pins(pins));
            (void)store.put("cluster_ca", ca);
            line_log()->info("event=enrolled node={}", self->state.options.node);
            // Every line this node dialled is dialled again with the CA-signed identity, at
            // its configured level.
            for (auto& [name, dialled] : self->state.members)
              if (dialled.view.dialled && dialled.view.line_up && dialled.line)
                self->send(dialled.line, close_atom::value,
                           std::string("re-dialling with the enrolled identity"));
          },
          [self](const caf::error&) {
            self->state.enrolling = false;
            alarm(self, "enrolment_failed", "identity", "the security database did not answer");
          });
}

void on_referred_login(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  if (!state.options.writer)
    return;
  const auto& login = frame.referred_login();
  actors::login_request request;
  request.name = login.name();
  request.password = login.password();
  request.origin.source = entry.view.name + "/" + login.source();
  request.origin.service = std::nullopt;
  auto id = login.id();
  self->request(state.options.security_actor, caf::infinite, std::move(request))
      .then(
          [self, line_id = entry.line_id, id](const actors::login_reply& answer) {
            auto* entry = member_of_line(self, line_id);
            if (!entry)
              return;
            line::Frame reply;
            auto* r = reply.mutable_referred_login_reply();
            r->set_id(id);
            r->set_accepted(!answer.error);
            r->set_message(answer.error ? answer.error->message : "");
            r->set_must_change_password(answer.grant.must_change_password);
            send_frame(self, *entry, std::move(reply));
            // The session exists only on the node that asked; the primary's is closed.
            if (!answer.error)
              caf::anon_send(self->state.options.security_actor,
                             actors::logout_request{answer.grant.token, {}});
          },
          [self, line_id = entry.line_id, id](const caf::error&) {
            if (auto* entry = member_of_line(self, line_id)) {
              line::Frame reply;
              reply.mutable_referred_login_reply()->set_id(id);
              reply.mutable_referred_login_reply()->set_message(
                  "the security database did not answer");
              send_frame(self, *entry, std::move(reply));
            }
          });
}

void on_referred_login_reply(line_actor_pointer self, member&, const line::Frame& frame) {
  auto& state = self->state;
  const auto& reply = frame.referred_login_reply();
  auto it = state.referrals.find(reply.id());
  if (it == state.referrals.end())
    return;
  it->second.deliver(actors::referral_result{true, reply.accepted(), reply.message(),
                                             reply.must_change_password()});
  state.referrals.erase(it);
}

void on_proxy_call(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  // Only the primary, over the line this node dialled to it, may proxy calls here.
  const auto& call = frame.proxy_call();
  if (entry.line_id != state.primary_line || !state.options.proxy_executor) {
    line::Frame reply;
    reply.mutable_proxy_result()->set_id(call.id());
    reply.mutable_proxy_result()->set_code(7);
    reply.mutable_proxy_result()->set_message("calls are proxied by the primary only");
    send_frame(self, entry, std::move(reply));
    return;
  }
  proxy_invocation invocation{call.user(),    call.source(), call.method(),
                              call.payload(), call.tls(),    call.client_certificate()};
  std::thread([executor = state.options.proxy_executor, invocation,
               line_actor = caf::actor_cast<caf::actor>(self), line_id = entry.line_id,
               id = call.id()] {
    proxy_outcome outcome{13, "the proxied call failed on the node", {}};
    try {
      outcome = executor(invocation);
    } catch (const std::exception& e) {
      outcome.message += std::string(": ") + e.what();
    }
    caf::anon_send(line_actor, proxy_done{line_id, id, std::move(outcome)});
  }).detach();
}

void on_proxy_result(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  const auto& result = frame.proxy_result();
  auto it = state.proxies.find(result.id());
  if (it == state.proxies.end() || it->second.line_id != entry.line_id)
    return;
  it->second.promise.deliver(proxy_outcome{result.code(), result.message(), result.payload()});
  state.proxies.erase(it);
}

void on_guard_event(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  auto event = guard_event_of(frame.guard_event(), entry.view.name);
  if (!event)
    return;
  if (state.options.apply_guard_event)
    state.options.apply_guard_event(*event);
  // The primary passes what one node blacklisted on to every other node.
  if (state.options.writer)
    send_to_members(self, frame, [&](const std::string&, const member& other) {
      return other.line_id != entry.line_id;
    });
}

void on_sip_signal(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  const auto& signal = frame.sip_signal();
  // A node speaks for itself; only the primary passes on what another node sent.
  if (signal.from_node() != entry.view.name && entry.line_id != state.primary_line)
    return;
  if (signal.message().size() > max_sip_signal)
    return;
  if (signal.to_node() == state.options.node) {
    if (state.options.deliver_sip)
      state.options.deliver_sip(signal.from_node(), signal.message());
    return;
  }
  if (state.options.writer)
    if (auto target = state.members.find(signal.to_node());
        target != state.members.end() && target->second.line_id != entry.line_id &&
        usable(target->second))
      send_frame(self, target->second, frame);
}

void on_sip_locations(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  const auto& locations = frame.sip_locations();
  if (locations.node() != entry.view.name && entry.line_id != state.primary_line)
    return;
  if (locations.node() == state.options.node ||
      locations.extensions_size() > max_announced_extensions)
    return;
  if (state.options.apply_locations)
    state.options.apply_locations(
        locations.node(),
        std::vector<std::string>(locations.extensions().begin(), locations.extensions().end()));
  if (state.options.writer)
    send_to_members(self, frame, [&](const std::string& name, const member& other) {
      return other.line_id != entry.line_id && name != locations.node();
    });
}

/// SPEC TF-10: another node's outside call, for the primary's fraud counters.
void on_fraud_usage(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  if (!state.options.writer || !state.options.fraud_actor)
    return;
  const auto& usage = frame.fraud_usage();
  self->send(state.options.fraud_actor,
             actors::fraud_usage{entry.view.name,
                                 telephony::metered_call{usage.call_id(), usage.user(),
                                                         usage.rights_template(), usage.trunk(),
                                                         usage.number()},
                                 usage.ended()});
}

/// SPEC TF-10: what a node's own counters reached while its line was down; the primary
/// carries out the actions.
void on_fraud_trips(line_actor_pointer self, member& entry, const line::Frame& frame) {
  auto& state = self->state;
  if (!state.options.writer)
    return;
  actors::fraud_trips report{entry.view.name, {}, true};
  for (const auto& trip : frame.fraud_trips().trips()) {
    const auto action = telephony::parse_fraud_action(trip.action());
    const auto measure = telephony::parse_fraud_measure(trip.measure());
    if (!action || !measure)
      continue; // of a newer build
    report.trips.push_back(
        {trip.rule(),
         trip.critical() ? telephony::fraud_level::critical : telephony::fraud_level::warning,
         *action, *measure, trip.value(), trip.limit(), trip.call(), trip.user(), trip.trunk()});
  }
  if (!report.trips.empty())
    self->send(state.options.security_actor, std::move(report));
}

} // namespace

void on_frame(line_actor_pointer self, std::uint64_t line_id, const line::Frame& frame) {
  auto* entry = member_of_line(self, line_id);
  if (!entry || entry->line_id != line_id)
    return;
  using body = line::Frame::BodyCase;
  auto kind = frame.body_case();
  auto direction = entry->view.dialled ? line_direction::dialled : line_direction::answered;
  auto admission =
      entry->view.enrolment_only ? line_admission::enrolment_only : line_admission::full;
  if (!frame_allowed(kind, direction, admission)) {
    line_log()->warn("event=frame_refused node={} frame={} dialled={}", entry->view.name,
                     static_cast<int>(kind), entry->view.dialled);
    return;
  }
  using handler = void (*)(line_actor_pointer, member&, const line::Frame&);
  static const std::map<body, handler> handlers{
      {body::kHeartbeat, on_heartbeat},
      {body::kSettings, on_settings},
      {body::kSettingsAck, on_settings_ack},
      {body::kEvents, on_events},
      {body::kEventsAck, on_events_ack},
      {body::kEnrolRequest, on_enrol_request},
      {body::kEnrolReply, on_enrol_reply},
      {body::kReferredLogin, on_referred_login},
      {body::kReferredLoginReply, on_referred_login_reply},
      {body::kProxyCall, on_proxy_call},
      {body::kProxyResult, on_proxy_result},
      {body::kGuardEvent, on_guard_event},
      {body::kSipSignal, on_sip_signal},
      {body::kSipLocations, on_sip_locations},
      {body::kFraudUsage, on_fraud_usage},
      {body::kFraudTrips, on_fraud_trips},
  };
  if (auto it = handlers.find(kind); it != handlers.end())
    it->second(self, *entry, frame);
}

} // namespace ward::cluster::detail
