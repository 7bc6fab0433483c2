#include "cluster/cluster_actor.hpp"

#include "actors/cluster_messages.hpp"
#include "actors/security_db_actor.hpp"
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
#include <nlohmann/json.hpp>
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

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using close_atom = caf::atom_constant<caf::atom("close")>;

/// Frames a line carried, tagged with the line they came from.
struct line_frame_from {
  std::uint64_t line_id = 0;
  line::Frame frame;
};
struct line_down {
  std::uint64_t line_id = 0;
  std::string reason;
};
struct outbound_frame {
  line::Frame frame;
};
/// A proxied call finished on the executor's thread.
struct proxy_done {
  std::uint64_t line_id = 0;
  std::uint64_t id = 0;
  proxy_outcome outcome;
};

} // namespace
} // namespace ward::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::line_frame_from)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::line_down)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::outbound_frame)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::proxy_done)

namespace ward::cluster {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static const auto named = [] {
    auto found = spdlog::get("cluster");
    return found ? found : spdlog::default_logger()->clone("cluster");
  }();
  return named;
}

constexpr auto heartbeat_interval = std::chrono::seconds(1);
/// A line silent for this long is declared down (about five missed heartbeats).
constexpr auto heartbeat_timeout = std::chrono::seconds(5);
/// Forwarded records per frame.
constexpr std::size_t forward_batch = 256;
/// A forwarded batch not acknowledged within this time is sent again.
constexpr auto forward_retry = std::chrono::seconds(10);
/// Nodes the CA enrols at most; every pin travels in every settings record.
constexpr std::size_t max_enrolled_nodes = 1000;
/// Refused-line alarms from one address per minute; the rest are only logged.
constexpr std::size_t line_alarms_per_source_per_minute = 30;
constexpr std::size_t line_alarms_per_node_per_minute = 3;
/// A call proxied to a node that has not answered by then is failed.
constexpr auto proxy_timeout = std::chrono::seconds(25);
/// Failed logins older than this when they reach the primary no longer count (they are
/// outside any lockout window worth enforcing and are replays after an outage).
constexpr auto login_report_window = std::chrono::minutes(10);

// ---------------------------------------------------------------------------------------
// The line actor: one per line, on both ends. It owns the stream's writer and the line's
// liveness; everything the line carries goes to the cluster actor.

struct line_state {
  std::uint64_t id = 0;
  caf::actor hub;
  std::shared_ptr<frame_writer> writer;
  std::chrono::steady_clock::time_point last_inbound;
  static inline const char* name = "ward.line";
};

caf::behavior line_behavior(caf::stateful_actor<line_state>* self, std::uint64_t id, caf::actor hub,
                            std::shared_ptr<frame_writer> writer) {
  self->state.id = id;
  self->state.hub = std::move(hub);
  self->state.writer = std::move(writer);
  self->state.last_inbound = std::chrono::steady_clock::now();
  auto shut = [self](const std::string& reason) {
    self->state.writer->close();
    self->send(self->state.hub, line_down{self->state.id, reason});
    self->quit();
  };
  self->delayed_send(self, heartbeat_interval, tick_atom::value);
  // The node stopping (the cluster actor exits, and we are linked to it) closes the
  // stream, so the gRPC thread reading it returns at once.
  self->set_exit_handler([self](caf::exit_msg& message) {
    self->state.writer->close();
    self->quit(message.reason);
  });
  return {
      [self](inbound_frame& in) {
        self->state.last_inbound = std::chrono::steady_clock::now();
        self->send(self->state.hub, line_frame_from{self->state.id, std::move(in.frame)});
      },
      [self, shut](outbound_frame& out) {
        if (!self->state.writer->send(std::move(out.frame)))
          shut("the stream can no longer be written");
      },
      [self, shut](tick_atom) {
        if (std::chrono::steady_clock::now() - self->state.last_inbound > heartbeat_timeout) {
          shut("no heartbeat for 5 s");
          return;
        }
        self->delayed_send(self, heartbeat_interval, tick_atom::value);
      },
      [shut](line_closed& closed) { shut(closed.reason); },
      [shut](close_atom, const std::string& reason) { shut(reason); },
  };
}

// ---------------------------------------------------------------------------------------
// The cluster actor.

struct member {
  member_view view;
  /// The far end's address ("ip:port") and leaf certificate as its line presented them.
  std::string peer_address;
  std::string peer_pem;
  std::uint64_t line_id = 0;
  caf::actor line;
  std::chrono::steady_clock::time_point last_heartbeat{};
};

struct hub_state {
  cluster_options options;
  actors::pki_facts facts;
  actors::settings_changed snapshot;
  /// Other nodes by name; a node keeps its entry (line down) once seen.
  std::map<std::string, member> members;
  std::map<std::uint64_t, std::string> line_nodes;
  std::uint64_t next_line_id = 1;
  /// When the writer committed each recent version, for replication latency.
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> version_times;
  // Dialling side: the line to the primary carries events, enrolment and referrals.
  std::uint64_t primary_line = 0;
  std::uint64_t forwarded_up_to = 0;
  std::optional<std::chrono::steady_clock::time_point> forward_in_flight;
  bool enrolling = false;
  std::uint64_t next_referral = 1;
  std::map<std::uint64_t, caf::typed_response_promise<actors::referral_result>> referrals;
  /// Calls proxied to other nodes, awaiting their result: by id, with the line they took.
  struct pending_proxy {
    std::uint64_t line_id = 0;
    caf::typed_response_promise<proxy_outcome> promise;
    std::chrono::steady_clock::time_point sent;
  };
  std::uint64_t next_proxy = 1;
  std::map<std::uint64_t, pending_proxy> proxies;
  /// Targets whose last dial failure was alarmed, so a line that keeps failing the same
  /// way raises one alarm, not one per attempt.
  std::map<std::string, std::string> alarmed_dial_failures;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::uint64_t ticks = 0;
  std::map<std::string, std::size_t> line_alarms;
  std::chrono::steady_clock::time_point alarm_minute{};
  /// The primary's own records handed to syslog (persisted as "syslog/own").
  std::uint64_t syslog_up_to = 0;
  static inline const char* name = "ward.cluster";
};

using hub_pointer = caf::stateful_actor<hub_state>*;

std::string role_text(const cluster_options& options) {
  return std::string(to_string(options.role));
}

std::int64_t unix_now(const cluster_options& options) {
  return std::chrono::duration_cast<std::chrono::seconds>(options.time->now().time_since_epoch())
      .count();
}

void alarm(hub_pointer self, std::string action, std::string object, std::string reason,
           std::string source = {}) {
  self->send(self->state.options.security_actor,
             actors::cluster_alarm{std::move(action), std::move(object), std::move(reason),
                                   std::move(source)});
}

void publish(hub_pointer self) {
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

void send_frame(hub_pointer self, const member& entry, line::Frame frame) {
  if (entry.line && entry.view.line_up)
    self->send(entry.line, outbound_frame{std::move(frame)});
}

/// The identities every node pins for line security High, by node name: on the primary
/// those it issued (and its own), elsewhere the list the primary last sent.
std::map<std::string, std::string> pinned_identities(hub_pointer self) {
  auto& state = self->state;
  std::map<std::string, std::string> pins;
  if (state.options.writer) {
    if (auto issued = state.options.store->scan("pin/", "", max_enrolled_nodes + 1))
      for (auto& [key, pem] : *issued)
        pins.emplace(key.substr(4), std::move(pem));
    if (!state.facts.identity_pem.empty())
      pins[state.options.node] = state.facts.identity_pem;
  } else if (auto held = state.options.store->get("pins"); held && *held) {
    auto list = nlohmann::json::parse(**held, nullptr, false);
    if (list.is_object())
      for (const auto& [node, pem] : list.items())
        if (pem.is_string())
          pins.emplace(node, pem.get<std::string>());
  }
  return pins;
}

/// Whether `pem` is the identity pinned for `node`.
bool pinned_as(const std::map<std::string, std::string>& pins, const std::string& node,
               const std::string& pem) {
  auto it = pins.find(node);
  if (it == pins.end())
    return false;
  auto pinned = pki::certificate::from_pem(it->second);
  auto presented = pki::certificate::from_pem(pem);
  return pinned && presented && pinned->sha256_fingerprint() == presented->sha256_fingerprint();
}

line::Frame settings_frame(hub_pointer self, const actors::settings_changed& snapshot) {
  line::Frame frame;
  auto* settings = frame.mutable_settings();
  settings->set_version(snapshot.version);
  settings->set_settings(snapshot.settings);
  for (const auto& serial : snapshot.revoked_serials)
    settings->add_revoked_serials(serial);
  settings->set_written_unix_us(snapshot.written_unix_us);
  settings->set_directory(snapshot.directory);
  for (auto& [node, pem] : pinned_identities(self)) {
    auto* pin = settings->add_pins();
    pin->set_node(node);
    pin->set_certificate_pem(std::move(pem));
  }
  return frame;
}

member* member_of_line(hub_pointer self, std::uint64_t line_id) {
  auto it = self->state.line_nodes.find(line_id);
  if (it == self->state.line_nodes.end())
    return nullptr;
  auto found = self->state.members.find(it->second);
  return found == self->state.members.end() ? nullptr : &found->second;
}

/// Registers a line that just came up and spawns its actor; an older line of the same
/// node is closed first.
caf::actor open_line(hub_pointer self, const std::string& node, const std::string& role,
                     std::shared_ptr<frame_writer> writer, bool dialled, bool enrolment_only) {
  auto& state = self->state;
  auto& entry = state.members[node];
  // A line that was down and comes back clears its line-down alarm (SPEC LINE-4).
  if (!entry.view.line_up && !entry.view.last_error.empty() && !entry.view.enrolment_only)
    self->send(
        state.options.security_actor,
        actors::cluster_alarm{
            "line_up", "node/" + node, "line back up after: " + entry.view.last_error, {}, true});
  if (entry.line && entry.view.line_up)
    self->send(entry.line, close_atom::value, std::string("replaced by a new line"));
  auto id = state.next_line_id++;
  auto line = self->system().spawn(line_behavior, id, caf::actor_cast<caf::actor>(self), writer);
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
  log()->info("event=line_up node={} role={} dialled={} enrolment_only={}", node, role, dialled,
              enrolment_only);
  publish(self);
  return line;
}

// --- Event forwarding (dialling side) ---------------------------------------------------

void forward_events(hub_pointer self) {
  auto& state = self->state;
  if (!state.primary_line || state.forward_in_flight)
    return;
  auto* primary = member_of_line(self, state.primary_line);
  if (!primary || !primary->view.line_up || primary->view.enrolment_only)
    return;
  security::audit_filter filter;
  filter.after_sequence = state.forwarded_up_to;
  filter.limit = forward_batch;
  filter.oldest_first = true;
  auto records = state.options.audit->query(filter);
  if (!records || records->empty())
    return;
  line::Frame frame;
  auto* events = frame.mutable_events();
  for (const auto& record : *records) {
    auto* event = events->add_events();
    event->set_sequence(record.sequence);
    event->set_time_unix_us(
        std::chrono::duration_cast<std::chrono::microseconds>(record.time.time_since_epoch())
            .count());
    event->set_kind(std::string(security::to_string(record.kind)));
    event->set_outcome(std::string(security::to_string(record.outcome)));
    event->set_actor(record.actor);
    event->set_source(record.source);
    event->set_service(record.service);
    event->set_action(record.action);
    event->set_object(record.object);
    event->set_reason(record.reason);
    event->set_before(record.before);
    event->set_after(record.after);
    event->set_hash(record.hash);
  }
  state.forward_in_flight = std::chrono::steady_clock::now();
  send_frame(self, *primary, std::move(frame));
}

void store_cursor(hub_pointer self) {
  (void)self->state.options.store->put("forward/acked",
                                       std::to_string(self->state.forwarded_up_to));
}

// --- Enrolment (dialling side) ------------------------------------------------------------

bool is_enrolled(const actors::pki_facts& facts) {
  auto identity = pki::certificate::from_pem(facts.identity_pem);
  return identity && identity->subject() != identity->issuer();
}

void maybe_enrol(hub_pointer self) {
  auto& state = self->state;
  if (state.options.writer || state.enrolling || !state.primary_line)
    return;
  auto identity = pki::certificate::from_pem(state.facts.identity_pem);
  if (!identity)
    return;
  bool due =
      identity->days_until_expiry(state.options.time->now()) <= actors::identity_renewal_days;
  if (is_enrolled(state.facts) && !due)
    return;
  auto key = pki::private_key::from_pem(state.facts.identity_key_pem);
  if (!key)
    return;
  auto csr = pki::make_csr(*key, state.facts.hostname);
  if (!csr) {
    log()->warn("event=enrolment_failed reason=\"{}\"", csr.error().detail);
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
  log()->info("event=enrolment_requested node={} reason={}", state.options.node,
              due && is_enrolled(state.facts) ? "renewal" : "first enrolment");
  send_frame(self, *primary, std::move(frame));
}

// --- Accepting a line (server side) -------------------------------------------------------

line_accept_reply accept_line(hub_pointer self, line_accept& request) {
  auto& state = self->state;
  const auto& hello = request.hello.hello();
  auto source = request.facts.peer_address;
  auto refuse = [&](const std::string& why) {
    auto now = std::chrono::steady_clock::now();
    if (now - state.alarm_minute >= std::chrono::minutes(1)) {
      state.line_alarms.clear();
      state.alarm_minute = now;
    }
    auto address = source.substr(0, source.rfind(':'));
    // Capped per address and per name it claims, so one node retrying cannot hide another
    // behind the same address, and a scanner cannot flood the trail.
    if (++state.line_alarms[address] <= line_alarms_per_source_per_minute &&
        ++state.line_alarms[address + "/" + hello.node()] <= line_alarms_per_node_per_minute)
      alarm(self, "line_refused", "node/" + hello.node(), why, source);
    log()->warn("event=line_refused node={} peer={} reason=\"{}\"", hello.node(), source, why);
    return line_accept_reply{false, why, {}};
  };
  auto role = parse_node_role(hello.role());
  if (!valid_node_name(hello.node()) || !role || *role == node_role::primary)
    return refuse("Hello names no valid node and dialling role");
  // A name is one node: never this node's own, never one this node dials itself.
  if (hello.node() == state.options.node)
    return refuse("Hello names this node itself");
  if (auto it = state.members.find(hello.node());
      it != state.members.end() && it->second.view.dialled && it->second.view.line_up)
    return refuse("Hello names a node this node holds a line to");
  if (!state.options.line_password.empty() &&
      !proofs_match(line_proof(state.options.line_password, line_side::client,
                               request.facts.exporter_hex, hello.node(), hello.role()),
                    hello.proof()))
    return refuse("the line password proof does not match");
  if (state.options.line_password.empty())
    return refuse("this node has no line password configured");

  bool enrolment_only = false;
  std::string reason;
  if (requires_client_certificate(state.options.security)) {
    std::vector<pki::certificate> chain;
    for (const auto& pem : request.facts.client_chain_pem)
      if (auto cert = pki::certificate::from_pem(pem))
        chain.push_back(*cert);
    if (chain.empty() || chain.front().subject() == chain.front().issuer()) {
      // First contact: the password is proven, the node may enrol and nothing else.
      enrolment_only = true;
      reason = chain.empty() ? "no client certificate: enrol first"
                             : "self-signed identity: enrol first";
    } else {
      pki::trust_store trust;
      for (const auto& pem : state.facts.anchors_pem)
        if (auto anchor = pki::certificate::from_pem(pem))
          (void)trust.add(*anchor);
      // High pins the identity the cluster CA issued to the node of that name, which ties
      // the name in Hello to the certificate. A secondary that has not yet received the
      // pins from the primary can only check the chain to the CA.
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
        return refuse("client certificate refused (" + std::string(pki::to_string(graded.failure)) +
                      "): " + graded.detail);
      if (!pins.empty() && !pinned_as(pins, hello.node(), request.facts.client_chain_pem.front()))
        return refuse("client certificate refused (not_pinned): it is not the identity enrolled "
                      "as " +
                      hello.node());
    }
  }

  line::Frame welcome;
  auto* w = welcome.mutable_welcome();
  w->set_node(state.options.node);
  w->set_role(role_text(state.options));
  w->set_proof(line_proof(state.options.line_password, line_side::server,
                          request.facts.exporter_hex, state.options.node,
                          role_text(state.options)));
  w->set_settings_version(state.snapshot.version);
  w->set_enrolment_only(enrolment_only);
  w->set_reason(reason);
  // The welcome goes out before anything the line actor may send.
  request.writer->send(welcome);
  auto line = open_line(self, hello.node(), hello.role(), request.writer, false, enrolment_only);
  auto& entry = state.members[hello.node()];
  entry.view.settings_version = hello.settings_version();
  entry.peer_address = request.facts.peer_address;
  entry.peer_pem = request.facts.client_chain_pem.empty() ? std::string{}
                                                          : request.facts.client_chain_pem.front();
  if (!request.facts.client_chain_pem.empty())
    if (auto leaf = pki::certificate::from_pem(request.facts.client_chain_pem.front())) {
      entry.view.peer_subject = leaf->subject();
      entry.view.peer_issuer = leaf->issuer();
      entry.view.peer_days_left = leaf->days_until_expiry(state.options.time->now());
    }
  if (!enrolment_only && hello.settings_version() < state.snapshot.version)
    send_frame(self, entry, settings_frame(self, state.snapshot));
  return line_accept_reply{true, {}, line};
}

// --- Frames from a line -------------------------------------------------------------------

void on_events(hub_pointer self, member& entry, const line::AuditEvents& events) {
  auto& state = self->state;
  if (!state.options.events)
    return;
  std::vector<security::audit_record> records;
  for (const auto& event : events.events()) {
    security::audit_record record;
    record.sequence = event.sequence();
    record.time =
        std::chrono::system_clock::time_point(std::chrono::microseconds(event.time_unix_us()));
    record.kind = security::parse_audit_kind(event.kind()).value_or(security::audit_kind::change);
    record.outcome =
        security::parse_audit_outcome(event.outcome()).value_or(security::audit_outcome::failure);
    record.actor = event.actor();
    record.source = event.source();
    record.service = event.service();
    record.action = event.action();
    record.object = event.object();
    record.reason = event.reason();
    record.before = event.before();
    record.after = event.after();
    record.hash = event.hash();
    records.push_back(std::move(record));
  }
  auto before = state.options.events->stored_up_to(entry.view.name);
  auto stored = state.options.events->store(entry.view.name, records);
  if (!stored) {
    log()->error("event=events_not_stored node={} reason=\"{}\"", entry.view.name, stored.error().detail);
    return; // no acknowledgement: the node sends them again
  }
  auto now = state.options.time->now();
  for (const auto& record : records) {
    if (record.sequence <= before || record.sequence > *stored)
      continue;
    // SPEC POL-7: a login checked on another node counts on the writer, once.
    if (record.kind == security::audit_kind::login && record.action == "Login" &&
        !record.actor.empty() && now - record.time < login_report_window)
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

void on_frame(hub_pointer self, std::uint64_t line_id, line::Frame& frame) {
  auto& state = self->state;
  auto* entry = member_of_line(self, line_id);
  if (!entry || entry->line_id != line_id)
    return;
  // Which frames a line may carry depends on its direction: what flows from the primary
  // (settings, enrolment replies, acknowledgements, proxied calls) is taken only from a
  // line this node dialled, what flows to it only from a line another node dialled in. An
  // enrolment-only line carries heartbeats and enrolment, nothing else.
  using body = line::Frame::BodyCase;
  auto kind = frame.body_case();
  bool from_server = kind == body::kSettings || kind == body::kEnrolReply ||
                     kind == body::kEventsAck || kind == body::kReferredLoginReply ||
                     kind == body::kProxyCall;
  bool from_client = kind == body::kEnrolRequest || kind == body::kEvents ||
                     kind == body::kReferredLogin || kind == body::kSettingsAck ||
                     kind == body::kProxyResult;
  bool dialled = entry->view.dialled;
  bool allowed = (from_server && dialled) || (from_client && !dialled) ||
                 kind == body::kHeartbeat || kind == body::kGuardEvent ||
                 kind == body::kSipSignal || kind == body::kSipLocations;
  if (entry->view.enrolment_only)
    allowed = kind == body::kHeartbeat || (kind == body::kEnrolRequest && !dialled) ||
              (kind == body::kEnrolReply && dialled);
  if (!allowed) {
    log()->warn("event=frame_refused node={} frame={} dialled={}", entry->view.name,
                static_cast<int>(kind), dialled);
    return;
  }
  switch (frame.body_case()) {
    case line::Frame::kHeartbeat: {
      entry->last_heartbeat = std::chrono::steady_clock::now();
      const auto& status = frame.heartbeat().status();
      entry->view.audit_sequence = status.audit_sequence();
      if (entry->view.dialled) {
        entry->view.peer_subject = status.identity_subject();
        entry->view.peer_issuer = status.identity_issuer();
        entry->view.peer_days_left = status.identity_days_left();
      }
      break;
    }
    case line::Frame::kSettings: {
      const auto& settings = frame.settings();
      if (state.options.writer)
        break;
      nlohmann::json pins = nlohmann::json::object();
      for (const auto& pin : settings.pins())
        if (valid_node_name(pin.node()))
          pins[pin.node()] = pin.certificate_pem();
      std::vector<std::string> revoked(settings.revoked_serials().begin(),
                                       settings.revoked_serials().end());
      auto version = settings.version();
      self->request(
              state.options.security_actor, std::chrono::seconds(10),
              actors::apply_replicated{version, settings.settings(), revoked, settings.directory()})
          .then(
              [self, line_id, version, pins = pins.dump()](std::uint64_t held) {
                // Pins come with the record: kept only when it is the one now held, so an
                // older record never replaces them.
                if (held == version)
                  (void)self->state.options.store->put("pins", pins);
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
      break;
    }
    case line::Frame::kSettingsAck: {
      entry->view.settings_version = frame.settings_ack().version();
      if (auto it = state.version_times.find(entry->view.settings_version);
          it != state.version_times.end())
        entry->view.replication_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - it->second)
                .count();
      publish(self);
      break;
    }
    case line::Frame::kEvents:
      on_events(self, *entry, frame.events());
      break;
    case line::Frame::kEventsAck: {
      if (line_id != state.primary_line)
        break;
      // The primary's word is final, even below the cursor: a primary restored from an
      // older backup gets the records it lacks again.
      state.forwarded_up_to = frame.events_ack().up_to();
      store_cursor(self);
      state.forward_in_flight.reset();
      forward_events(self);
      break;
    }
    case line::Frame::kEnrolRequest: {
      if (state.facts.ca_pem.empty()) {
        line::Frame reply;
        reply.mutable_enrol_reply()->set_error("this node hosts no certificate authority");
        send_frame(self, *entry, std::move(reply));
        break;
      }
      auto node = entry->view.name;
      auto refuse_enrolment = [&](const std::string& why) {
        alarm(self, "enrolment_refused", "node/" + node, why, entry->peer_address);
        line::Frame reply;
        reply.mutable_enrol_reply()->set_error(why);
        send_frame(self, *entry, std::move(reply));
      };
      auto request = pki::parse_csr(frame.enrol_request().csr_pem());
      if (!request) {
        refuse_enrolment("the certificate request cannot be read: " + request.error().detail);
        break;
      }
      // The CA vouches for names: never the primary's own, never another node's, and a
      // node name already enrolled only for the node holding that identity (renewal) or
      // once an administrator revoked it.
      auto pins = pinned_identities(self);
      if (request->common_name == state.facts.hostname) {
        refuse_enrolment("the request names this node's own host name " + request->common_name);
        break;
      }
      bool name_taken = false;
      for (const auto& [other, pem] : pins)
        if (other != node)
          if (auto cert = pki::certificate::from_pem(pem);
              cert && cert->subject_common_name() == request->common_name)
            name_taken = true;
      if (name_taken) {
        refuse_enrolment("host name " + request->common_name + " belongs to another node");
        break;
      }
      if (auto held = pins.find(node);
          held != pins.end() && !pinned_as(pins, node, entry->peer_pem)) {
        auto cert = pki::certificate::from_pem(held->second);
        bool revoked = cert && std::find(state.facts.revoked_serials.begin(),
                                         state.facts.revoked_serials.end(),
                                         cert->serial_hex()) != state.facts.revoked_serials.end();
        bool expired = !cert || cert->days_until_expiry(state.options.time->now()) < 0;
        if (!revoked && !expired) {
          refuse_enrolment("node " + node +
                           " is already enrolled; revoke its identity (pki revoke) to enrol it "
                           "again");
          break;
        }
      }
      if (pins.size() > max_enrolled_nodes) {
        refuse_enrolment("the cluster already has the most nodes the CA enrols");
        break;
      }
      // Only the address the line comes from is vouched for in the certificate.
      std::vector<std::string> addresses;
      auto peer_ip = entry->peer_address.substr(0, entry->peer_address.rfind(':'));
      if (peer_ip.starts_with("[") && peer_ip.ends_with("]"))
        peer_ip = peer_ip.substr(1, peer_ip.size() - 2);
      for (const auto& address : frame.enrol_request().addresses())
        if (address == peer_ip)
          addresses.push_back(address);
      self->request(state.options.security_actor, std::chrono::seconds(30),
                    actors::enrol_sign{node, frame.enrol_request().csr_pem(), addresses})
          .then(
              [self, line_id, node](const actors::enrol_result& result) {
                // The issued identity is pinned before the node can use it (line level High).
                if (result.error.empty()) {
                  (void)self->state.options.store->put("pin/" + node, result.certificate_pem);
                  // Every node learns the new pin at once, not at the next change.
                  auto frame = settings_frame(self, self->state.snapshot);
                  for (auto& [name, member] : self->state.members)
                    if (member.view.line_up && !member.view.dialled && !member.view.enrolment_only)
                      send_frame(self, member, frame);
                }
                auto* entry = member_of_line(self, line_id);
                if (!entry)
                  return;
                line::Frame reply;
                auto* r = reply.mutable_enrol_reply();
                r->set_certificate_pem(result.certificate_pem);
                r->set_ca_pem(result.ca_pem);
                r->set_server_identity_pem(result.server_identity_pem);
                r->set_error(result.error);
                send_frame(self, *entry, std::move(reply));
              },
              [self, line_id](const caf::error&) {
                if (auto* entry = member_of_line(self, line_id)) {
                  line::Frame reply;
                  reply.mutable_enrol_reply()->set_error(
                      "the certificate authority did not answer");
                  send_frame(self, *entry, std::move(reply));
                }
              });
      break;
    }
    case line::Frame::kEnrolReply: {
      const auto& reply = frame.enrol_reply();
      if (!state.enrolling || line_id != state.primary_line || state.options.writer)
        break;
      if (!reply.error().empty()) {
        state.enrolling = false;
        alarm(self, "enrolment_failed", "identity", reply.error());
        break;
      }
      self->request(state.options.security_actor, std::chrono::seconds(30),
                    actors::install_enrolment{reply.certificate_pem(), reply.ca_pem(),
                                              reply.server_identity_pem()})
          .then(
              [self, line_id](const actors::transaction_reply& installed) {
                self->state.enrolling = false;
                if (installed.error) {
                  alarm(self, "enrolment_failed", "identity", installed.error->message);
                  return;
                }
                log()->info("event=enrolled node={}", self->state.options.node);
                // Every line this node dialled is dialled again with the CA-signed identity, at
                // its configured level.
                (void)line_id;
                for (auto& [name, entry] : self->state.members)
                  if (entry.view.dialled && entry.view.line_up && entry.line)
                    self->send(entry.line, close_atom::value,
                               std::string("re-dialling with the enrolled identity"));
              },
              [self](const caf::error&) {
                self->state.enrolling = false;
                alarm(self, "enrolment_failed", "identity", "the security database did not answer");
              });
      break;
    }
    case line::Frame::kReferredLogin: {
      if (!state.options.writer)
        break;
      const auto& login = frame.referred_login();
      actors::login_request request;
      request.name = login.name();
      request.password = login.password();
      request.origin.source = entry->view.name + "/" + login.source();
      request.origin.service = std::nullopt;
      auto id = login.id();
      self->request(state.options.security_actor, caf::infinite, std::move(request))
          .then(
              [self, line_id, id](const actors::login_reply& answer) {
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
              [self, line_id, id](const caf::error&) {
                if (auto* entry = member_of_line(self, line_id)) {
                  line::Frame reply;
                  reply.mutable_referred_login_reply()->set_id(id);
                  reply.mutable_referred_login_reply()->set_message(
                      "the security database did not answer");
                  send_frame(self, *entry, std::move(reply));
                }
              });
      break;
    }
    case line::Frame::kProxyCall: {
      // Only the primary, over the line this node dialled to it, may proxy calls here.
      const auto& call = frame.proxy_call();
      if (line_id != state.primary_line || !state.options.proxy_executor) {
        line::Frame reply;
        reply.mutable_proxy_result()->set_id(call.id());
        reply.mutable_proxy_result()->set_code(7);
        reply.mutable_proxy_result()->set_message("calls are proxied by the primary only");
        send_frame(self, *entry, std::move(reply));
        break;
      }
      proxy_invocation invocation{call.user(),    call.source(), call.method(),
                                  call.payload(), call.tls(),    call.client_certificate()};
      std::thread([executor = state.options.proxy_executor, invocation,
                   hub = caf::actor_cast<caf::actor>(self), line_id, id = call.id()] {
        proxy_outcome outcome{13, "the proxied call failed on the node", {}};
        try {
          outcome = executor(invocation);
        } catch (const std::exception& e) {
          outcome.message += std::string(": ") + e.what();
        }
        caf::anon_send(hub, proxy_done{line_id, id, std::move(outcome)});
      }).detach();
      break;
    }
    case line::Frame::kProxyResult: {
      const auto& result = frame.proxy_result();
      auto it = state.proxies.find(result.id());
      if (it == state.proxies.end() || it->second.line_id != line_id)
        break;
      it->second.promise.deliver(proxy_outcome{result.code(), result.message(), result.payload()});
      state.proxies.erase(it);
      break;
    }
    case line::Frame::kGuardEvent: {
      const auto& remote = frame.guard_event();
      telephony::guard_event event;
      using gk = telephony::guard_event_kind;
      bool known = false;
      for (auto candidate : {gk::address_blacklisted_temporary, gk::address_blacklisted_permanent,
                             gk::extension_blacklisted_temporary,
                             gk::extension_blacklisted_permanent, gk::blacklist_reset})
        if (telephony::to_string(candidate) == remote.kind()) {
          event.kind = candidate;
          known = true;
        }
      if (!known || remote.address().size() > 64 || remote.extension().size() > 64)
        break;
      event.address = remote.address();
      event.extension = remote.extension();
      event.until =
          std::chrono::system_clock::time_point(std::chrono::milliseconds(remote.until_unix_ms()));
      event.blocks = remote.blocks();
      event.detail = "from node " + entry->view.name;
      if (state.options.apply_guard_event)
        state.options.apply_guard_event(event);
      // The primary passes what one node blacklisted on to every other node.
      if (state.options.writer)
        for (auto& [name, member] : state.members)
          if (member.line_id != line_id && member.view.line_up && !member.view.enrolment_only)
            send_frame(self, member, frame);
      break;
    }
    case line::Frame::kSipSignal: {
      const auto& signal = frame.sip_signal();
      // A node speaks for itself; only the primary passes on what another node sent.
      if (signal.from_node() != entry->view.name && line_id != state.primary_line)
        break;
      if (signal.message().size() > 65536)
        break;
      if (signal.to_node() == state.options.node) {
        if (state.options.deliver_sip)
          state.options.deliver_sip(signal.from_node(), signal.message());
        break;
      }
      if (state.options.writer)
        if (auto target = state.members.find(signal.to_node());
            target != state.members.end() && target->second.line_id != line_id &&
            target->second.view.line_up && !target->second.view.enrolment_only)
          send_frame(self, target->second, frame);
      break;
    }
    case line::Frame::kSipLocations: {
      const auto& locations = frame.sip_locations();
      if (locations.node() != entry->view.name && line_id != state.primary_line)
        break;
      if (locations.node() == state.options.node || locations.extensions_size() > 100'000)
        break;
      if (state.options.apply_locations)
        state.options.apply_locations(
            locations.node(),
            std::vector<std::string>(locations.extensions().begin(), locations.extensions().end()));
      if (state.options.writer)
        for (auto& [name, member] : state.members)
          if (member.line_id != line_id && member.view.line_up && !member.view.enrolment_only &&
              name != locations.node())
            send_frame(self, member, frame);
      break;
    }
    case line::Frame::kReferredLoginReply: {
      const auto& reply = frame.referred_login_reply();
      auto it = state.referrals.find(reply.id());
      if (it == state.referrals.end())
        break;
      it->second.deliver(actors::referral_result{true, reply.accepted(), reply.message(),
                                                 reply.must_change_password()});
      state.referrals.erase(it);
      break;
    }
    default:
      break;
  }
}

void on_line_down(hub_pointer self, std::uint64_t line_id, const std::string& reason) {
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
  log()->warn("event=line_down node={} reason=\"{}\"", node, reason);
  // A line replaced by a newer one, or closed to re-dial after enrolment, is no outage.
  if (!entry.view.enrolment_only && reason.find("replaced") == std::string::npos &&
      reason.find("enrolled identity") == std::string::npos)
    alarm(self, "line_down", "node/" + node, reason);
  if (line_id == state.primary_line) {
    state.primary_line = 0;
    state.forward_in_flight.reset();
    state.enrolling = false;
    for (auto& [id, promise] : state.referrals)
      promise.deliver(actors::referral_result{false, false, "line to the primary lost", false});
    state.referrals.clear();
  }
  publish(self);
}

line::Frame heartbeat(hub_pointer self) {
  auto& state = self->state;
  line::Frame frame;
  auto* beat = frame.mutable_heartbeat();
  beat->set_sent_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                             state.options.time->now().time_since_epoch())
                             .count());
  auto* status = beat->mutable_status();
  status->set_uptime_seconds(std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now() - state.started)
                                 .count());
  if (auto identity = pki::certificate::from_pem(state.facts.identity_pem)) {
    status->set_identity_subject(identity->subject());
    status->set_identity_issuer(identity->issuer());
    status->set_identity_days_left(identity->days_until_expiry(state.options.time->now()));
  }
  status->set_audit_sequence(state.options.audit->last_sequence());
  status->set_settings_version(state.snapshot.version);
  return frame;
}

caf::behavior hub_behavior(hub_pointer self, cluster_options options) {
  self->state.options = std::move(options);
  if (auto cursor = self->state.options.store->get("forward/acked"); cursor && *cursor)
    self->state.forwarded_up_to = std::strtoull((*cursor)->c_str(), nullptr, 10);
  if (auto cursor = self->state.options.store->get("syslog/own"); cursor && *cursor)
    self->state.syslog_up_to = std::strtoull((*cursor)->c_str(), nullptr, 10);
  self->send(self->state.options.security_actor,
             actors::cluster_link{caf::actor_cast<caf::actor>(self)});
  self->delayed_send(self, heartbeat_interval, tick_atom::value);
  publish(self);
  return {
      [self](actors::pki_facts& facts) {
        self->state.facts = std::move(facts);
        maybe_enrol(self);
      },
      [self](actors::settings_changed& snapshot) {
        auto& state = self->state;
        state.snapshot = std::move(snapshot);
        state.version_times[state.snapshot.version] = std::chrono::steady_clock::now();
        while (state.version_times.size() > 1024)
          state.version_times.erase(state.version_times.begin());
        // Lines this node serves get the new version; the one it dialled sent it.
        auto frame = settings_frame(self, state.snapshot);
        for (auto& [name, entry] : state.members)
          if (entry.view.line_up && !entry.view.dialled && !entry.view.enrolment_only &&
              entry.view.settings_version < state.snapshot.version)
            send_frame(self, entry, frame);
        publish(self);
      },
      [self](actors::audit_appended_atom) {
        forward_events(self);
        if (self->state.options.event_sink && self->state.options.writer) {
          // The primary's own records go to syslog as they are written.
          security::audit_filter filter;
          filter.after_sequence = self->state.syslog_up_to;
          filter.limit = forward_batch;
          filter.oldest_first = true;
          if (auto records = self->state.options.audit->query(filter);
              records && !records->empty()) {
            for (const auto& record : *records) {
              self->state.options.event_sink(self->state.options.node, record);
              self->state.syslog_up_to = record.sequence;
            }
            (void)self->state.options.store->put("syslog/own",
                                                 std::to_string(self->state.syslog_up_to));
          }
        }
      },
      [self](line_accept& request) { return accept_line(self, request); },
      [self](dial_material_request&) {
        auto& state = self->state;
        dial_material material;
        material.node = state.options.node;
        material.role = role_text(state.options);
        material.password = state.options.line_password;
        material.security = state.options.security;
        material.key_pem = state.facts.identity_key_pem;
        material.certificate_pem = state.facts.identity_pem;
        material.anchors_pem = state.facts.anchors_pem;
        for (auto& [node, pem] : pinned_identities(self))
          material.anchors_pem.push_back(std::move(pem));
        material.revoked_serials = state.facts.revoked_serials;
        material.enrolled = is_enrolled(state.facts);
        material.ready = !state.facts.identity_pem.empty();
        material.settings_version = state.snapshot.version;
        return material;
      },
      [self](line_dialed& dialed) {
        auto& state = self->state;
        const auto& welcome = dialed.welcome.welcome();
        state.alarmed_dial_failures.erase(dialed.target.name);
        auto node = welcome.node().empty() ? dialed.target.name : welcome.node();
        auto pins = pinned_identities(self);
        if (!valid_node_name(node) || node == state.options.node ||
            (is_enrolled(state.facts) && state.options.security == line_security::high &&
             !pins.empty() && !pinned_as(pins, node, dialed.peer_pem))) {
          dialed.writer->close();
          self->send(self, dial_failed{dialed.target, "the line server is not the node " + node +
                                                          " the cluster enrolled"});
          return line_accept_reply{false, "not the enrolled node", {}};
        }
        auto line =
            open_line(self, node, welcome.role(), dialed.writer, true, welcome.enrolment_only());
        auto& entry = state.members[node];
        entry.view.peer_subject = dialed.peer_subject;
        entry.view.peer_issuer = dialed.peer_issuer;
        entry.view.peer_days_left = dialed.peer_days_left;
        entry.view.settings_version = welcome.settings_version();
        if (welcome.role() == "primary") {
          state.primary_line = entry.line_id;
          state.forward_in_flight.reset();
          maybe_enrol(self);
          forward_events(self);
        }
        return line_accept_reply{true, {}, line};
      },
      [self](dial_failed& failure) {
        auto& alarmed = self->state.alarmed_dial_failures[failure.target.name];
        if (alarmed == failure.cause)
          return;
        alarmed = failure.cause;
        alarm(self, "line_refused", "line/" + failure.target.name, failure.cause,
              failure.target.address + ":" + std::to_string(failure.target.port));
      },
      [self](line_frame_from& in) { on_frame(self, in.line_id, in.frame); },
      [self](line_down& down) { on_line_down(self, down.line_id, down.reason); },
      [self](actors::refer_login& login) -> caf::result<actors::referral_result> {
        auto& state = self->state;
        auto* primary = state.primary_line ? member_of_line(self, state.primary_line) : nullptr;
        if (!primary || !primary->view.line_up || primary->view.enrolment_only)
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
      },
      [self](proxy_request& request) -> caf::result<proxy_outcome> {
        auto& state = self->state;
        auto it = state.members.find(request.node);
        if (it == state.members.end())
          return proxy_outcome{5, "no node named " + request.node + " has been seen", {}};
        auto& entry = it->second;
        if (!entry.view.line_up || entry.view.enrolment_only || entry.view.dialled)
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
        state.proxies.emplace(
            id, hub_state::pending_proxy{entry.line_id, promise, std::chrono::steady_clock::now()});
        send_frame(self, entry, std::move(frame));
        return promise;
      },
      [self](guard_broadcast& broadcast) {
        line::Frame frame;
        auto* out = frame.mutable_guard_event();
        out->set_kind(std::string(telephony::to_string(broadcast.event.kind)));
        out->set_address(broadcast.event.address);
        out->set_extension(broadcast.event.extension);
        out->set_until_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   broadcast.event.until.time_since_epoch())
                                   .count());
        out->set_blocks(broadcast.event.blocks);
        out->set_origin_node(self->state.options.node);
        for (auto& [name, member] : self->state.members)
          if (member.view.line_up && !member.view.enrolment_only)
            send_frame(self, member, frame);
      },
      [self](sip_signal_out& out) {
        auto& state = self->state;
        line::Frame frame;
        auto* signal = frame.mutable_sip_signal();
        signal->set_from_node(state.options.node);
        signal->set_to_node(out.to_node);
        signal->set_message(std::move(out.text));
        auto usable = [](const auto& member) {
          return member.view.line_up && !member.view.enrolment_only;
        };
        if (auto target = state.members.find(out.to_node);
            target != state.members.end() && usable(target->second)) {
          send_frame(self, target->second, std::move(frame));
          return;
        }
        // No line of its own to that node: the primary passes it on.
        if (auto* primary = member_of_line(self, state.primary_line);
            primary != nullptr && usable(*primary))
          send_frame(self, *primary, std::move(frame));
      },
      [self](locations_out& out) {
        line::Frame frame;
        auto* locations = frame.mutable_sip_locations();
        locations->set_node(self->state.options.node);
        for (auto& extension : out.extensions)
          locations->add_extensions(std::move(extension));
        for (auto& [name, member] : self->state.members)
          if (member.view.line_up && !member.view.enrolment_only)
            send_frame(self, member, frame);
      },
      [self](proxy_done& done) {
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
      },
      [self](tick_atom) {
        auto& state = self->state;
        auto beat = heartbeat(self);
        for (auto& [name, entry] : state.members)
          send_frame(self, entry, beat);
        auto now = std::chrono::steady_clock::now();
        if (state.forward_in_flight && now - *state.forward_in_flight > forward_retry)
          state.forward_in_flight.reset();
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
      },
  };
}

} // namespace

caf::actor spawn_cluster_actor(caf::actor_system& system, cluster_options options) {
  return system.spawn(hub_behavior, std::move(options));
}

} // namespace ward::cluster
