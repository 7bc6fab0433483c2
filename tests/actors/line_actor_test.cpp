#include "actors/cluster_messages.hpp"
#include "cluster/event_store.hpp"
#include "cluster/line_actor.hpp"
#include "core/clock.hpp"
#include "tests/unit/test_support.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>

using namespace ward;
using namespace ward::cluster;
using namespace std::chrono_literals;

namespace {

/// What the line actor told the security database actor.
struct security_log {
  std::vector<actors::cluster_alarm> alarms;
  std::vector<actors::login_report> logins;
};

/// Stands in for the security database actor: records what it is told.
caf::behavior recording_security(caf::event_based_actor* self, std::shared_ptr<security_log> log) {
  self->set_default_handler(caf::drop);
  return {
      [](actors::cluster_link&) {},
      [log](actors::cluster_alarm& alarm) { log->alarms.push_back(alarm); },
      [log](actors::login_report& report) { log->logins.push_back(report); },
  };
}

/// The frames written onto one line's stream. The writer runs a thread of its own, so the
/// test waits for a given count (no sleeping: it wakes on each write). Declared before the
/// fixture, so the line actor's exit closes the writers before these go.
struct written_frames {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<line::Frame> frames;

  std::shared_ptr<frame_writer> writer() {
    return std::make_shared<frame_writer>(
        [this](const line::Frame& frame) {
          std::lock_guard lock(mutex);
          frames.push_back(frame);
          changed.notify_all();
          return true;
        },
        [] {});
  }

  /// The `n`th frame written (0-based), once it is.
  line::Frame at(std::size_t n) {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, 10s, [&] { return frames.size() > n; }));
    return frames[n];
  }

  std::size_t count() {
    std::lock_guard lock(mutex);
    return frames.size();
  }
};

/// A primary's line actor at line security Low over a deterministic scheduler, and what its
/// callbacks saw.
struct primary_fixture {
  caf::actor_system_config config;
  std::optional<caf::actor_system> system;
  caf::scheduler::test_coordinator* scheduler = nullptr;
  test::temp_dir dir{"ward-line-actor"};
  manual_clock time{test::fixed_now()};
  std::shared_ptr<storage::kv_store> store;
  std::shared_ptr<security::audit_log> audit;
  std::shared_ptr<event_store> events;
  std::shared_ptr<cluster_view> view = std::make_shared<cluster_view>();
  std::shared_ptr<security_log> told = std::make_shared<security_log>();
  std::vector<std::pair<std::string, std::uint64_t>> sunk;
  std::vector<telephony::guard_event> guarded;
  std::vector<std::pair<std::string, std::string>> delivered;
  caf::actor security;
  caf::actor line_actor;

  explicit primary_fixture(bool writer = true) {
    config.set("scheduler.policy", caf::atom("testing"));
    config.set("logger.inline-output", true);
    system.emplace(config);
    scheduler = &dynamic_cast<caf::scheduler::test_coordinator&>(system->scheduler());
    store = std::shared_ptr<storage::kv_store>(*storage::kv_store::open(dir.path() / "db"));
    audit = std::shared_ptr<security::audit_log>(
        *security::audit_log::open(dir.path() / "audit", time));
    events = std::make_shared<event_store>(store);
    security = system->spawn(recording_security, told);
    line_actor_options options;
    options.node = writer ? "primary" : "exp9";
    options.role = writer ? node_role::primary : node_role::expansion;
    options.line_password = "secret";
    options.security = line_security::low;
    options.writer = writer;
    options.security_actor = security;
    options.audit = audit;
    options.store = store;
    options.events = events;
    options.view = view;
    options.time = &time;
    options.random = test::seeded_random(5);
    options.event_sink = [this](const std::string& node, const security::audit_record& record) {
      sunk.emplace_back(node, record.sequence);
    };
    options.apply_guard_event = [this](const telephony::guard_event& event) {
      guarded.push_back(event);
    };
    options.deliver_sip = [this](const std::string& from, std::string text) {
      delivered.emplace_back(from, std::move(text));
    };
    line_actor = spawn_line_actor(*system, std::move(options));
    scheduler->run();
  }

  ~primary_fixture() {
    caf::anon_send_exit(line_actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(security, caf::exit_reason::user_shutdown);
    scheduler->run();
  }

  /// Offers a line from `node` with a Hello proving `password`; the reply.
  line_accept_reply accept(const std::string& node, written_frames& out,
                           const std::string& password = "secret") {
    line::Frame hello;
    auto* h = hello.mutable_hello();
    h->set_node(node);
    h->set_role("expansion");
    h->set_proof(line_proof(password, line_side::client, "00ff", node, "expansion"));
    caf::scoped_actor self{*system};
    auto pending = self->request(line_actor, caf::infinite,
                                 line_accept{hello, {"10.0.0.5:4000", "00ff", {}}, out.writer()});
    scheduler->run();
    line_accept_reply reply;
    pending.receive([&](line_accept_reply& r) { reply = std::move(r); },
                    [&](const caf::error& e) { FAIL("line actor failed: " << system->render(e)); });
    return reply;
  }

  /// Hands `frame` to the line as if the far end had sent it, and runs every actor.
  void inject(const caf::actor& line, line::Frame frame) {
    caf::anon_send(line, inbound_frame{std::move(frame)});
    scheduler->run();
  }

  /// Fires the pending ticks once (heartbeats out, the view published).
  void tick() {
    scheduler->trigger_timeouts();
    scheduler->run();
  }

  std::optional<member_view> member(const std::string& name) const {
    for (const auto& m : view->read().members)
      if (m.name == name)
        return m;
    return std::nullopt;
  }
};

line::Frame enrol_request() {
  line::Frame frame;
  frame.mutable_enrol_request()->set_csr_pem("not a request");
  return frame;
}

} // namespace

TEST_CASE("LINE-2 the line actor welcomes a node that proves the line password") {
  written_frames exp1;
  primary_fixture f;
  auto reply = f.accept("exp1", exp1);
  REQUIRE(reply.accepted);
  auto welcome = exp1.at(0);
  REQUIRE(welcome.has_welcome());
  CHECK(welcome.welcome().node() == "primary");
  CHECK(welcome.welcome().role() == "primary");
  CHECK(welcome.welcome().proof() ==
        line_proof("secret", line_side::server, "00ff", "primary", "primary"));
  CHECK_FALSE(welcome.welcome().enrolment_only());
  auto member = f.member("exp1");
  REQUIRE(member.has_value());
  CHECK(member->line_up);
  CHECK_FALSE(member->dialled);
  CHECK(member->line_security == "low");
}

TEST_CASE("LINE-2 a wrong password proof is refused and alarmed") {
  written_frames rogue;
  primary_fixture f;
  auto reply = f.accept("rogue1", rogue, "guess");
  CHECK_FALSE(reply.accepted);
  CHECK(reply.refusal == "the line password proof does not match");
  REQUIRE(f.told->alarms.size() == 1);
  CHECK(f.told->alarms[0].action == "line_refused");
  CHECK(f.told->alarms[0].object == "node/rogue1");
  CHECK(f.told->alarms[0].source == "10.0.0.5:4000");
  CHECK_FALSE(f.member("rogue1").has_value());
}

TEST_CASE("MON-5 a heartbeat updates the node's audit sequence in the view") {
  written_frames exp1;
  primary_fixture f;
  auto line = f.accept("exp1", exp1).line;
  line::Frame beat;
  beat.mutable_heartbeat()->mutable_status()->set_audit_sequence(42);
  f.inject(line, beat);
  f.tick();
  CHECK(f.member("exp1")->audit_sequence == 42);
  // The primary's own heartbeat went out on the line after the welcome.
  CHECK(exp1.at(1).has_heartbeat());
}

TEST_CASE("MON-2 POL-7 forwarded events are stored, handed to syslog, counted and "
          "acknowledged") {
  written_frames exp1;
  primary_fixture f;
  auto line = f.accept("exp1", exp1).line;
  line::Frame frame;
  for (std::uint64_t sequence : {1, 2}) {
    auto* event = frame.mutable_events()->add_events();
    event->set_sequence(sequence);
    event->set_time_unix_us(
        std::chrono::duration_cast<std::chrono::microseconds>(test::fixed_now().time_since_epoch())
            .count());
    event->set_kind(sequence == 1 ? "login" : "change");
    event->set_outcome("failure");
    event->set_actor("alice");
    event->set_action(sequence == 1 ? "Login" : "SetPolicy");
  }
  f.inject(line, frame);
  auto ack = exp1.at(1);
  REQUIRE(ack.has_events_ack());
  CHECK(ack.events_ack().up_to() == 2);
  CHECK(f.events->stored_up_to("exp1") == 2);
  CHECK(f.sunk == std::vector<std::pair<std::string, std::uint64_t>>{{"exp1", 1}, {"exp1", 2}});
  REQUIRE(f.told->logins.size() == 1);
  CHECK(f.told->logins[0].node == "exp1");
  CHECK(f.told->logins[0].name == "alice");
  CHECK_FALSE(f.told->logins[0].success);

  // The same batch again changes nothing and is acknowledged again.
  f.inject(line, frame);
  CHECK(exp1.at(2).events_ack().up_to() == 2);
  CHECK(f.sunk.size() == 2);
  CHECK(f.told->logins.size() == 1);
}

TEST_CASE("LINE-2 a frame the line's direction does not carry is dropped") {
  written_frames exp1;
  primary_fixture f;
  auto line = f.accept("exp1", exp1).line;
  // Settings and proxied calls flow from the serving end only: never taken from exp1.
  line::Frame settings;
  settings.mutable_settings()->set_version(99);
  f.inject(line, settings);
  line::Frame call;
  call.mutable_proxy_call()->set_id(1);
  f.inject(line, call);
  // The next frame written answers the enrolment request sent after them.
  f.inject(line, enrol_request());
  auto reply = exp1.at(1);
  REQUIRE(reply.has_enrol_reply());
  CHECK(reply.enrol_reply().error() == "this node hosts no certificate authority");
  CHECK(exp1.count() == 2);
}

TEST_CASE("SIP-4 a blacklisting from one node is applied and passed on to the others") {
  written_frames exp1, exp2;
  primary_fixture f;
  auto line1 = f.accept("exp1", exp1).line;
  f.accept("exp2", exp2);
  line::Frame frame;
  frame.mutable_guard_event()->set_kind("address_blacklisted_temporary");
  frame.mutable_guard_event()->set_address("192.0.2.7");
  frame.mutable_guard_event()->set_origin_node("exp1");
  f.inject(line1, frame);
  REQUIRE(f.guarded.size() == 1);
  CHECK(f.guarded[0].address == "192.0.2.7");
  CHECK(f.guarded[0].detail == "from node exp1");
  auto relayed = exp2.at(1);
  REQUIRE(relayed.has_guard_event());
  CHECK(relayed.guard_event().address() == "192.0.2.7");

  // An unknown kind is neither applied nor passed on.
  frame.mutable_guard_event()->set_kind("made_up");
  f.inject(line1, frame);
  CHECK(f.guarded.size() == 1);
  f.inject(line1, enrol_request());
  CHECK(exp1.at(1).has_enrol_reply());
  CHECK(exp2.count() == 2);
}

TEST_CASE("SIP-6 a SIP message for this node is delivered; a node speaks only for itself") {
  written_frames exp1;
  primary_fixture f;
  auto line = f.accept("exp1", exp1).line;
  line::Frame frame;
  frame.mutable_sip_signal()->set_from_node("exp1");
  frame.mutable_sip_signal()->set_to_node("primary");
  frame.mutable_sip_signal()->set_message("INVITE sip:201@primary SIP/2.0\r\n\r\n");
  f.inject(line, frame);
  frame.mutable_sip_signal()->set_from_node("exp2");
  f.inject(line, frame);
  REQUIRE(f.delivered.size() == 1);
  CHECK(f.delivered[0].first == "exp1");
}

TEST_CASE("TOP-2 a node that dialled the primary refuses calls proxied while it cannot run "
          "them") {
  written_frames primary;
  primary_fixture f(false);
  line_dialed dialed;
  dialed.target = line_target{"primary", "10.0.0.1", 5555};
  dialed.welcome.mutable_welcome()->set_node("primary");
  dialed.welcome.mutable_welcome()->set_role("primary");
  dialed.writer = primary.writer();
  caf::scoped_actor self{*f.system};
  auto pending = self->request(f.line_actor, caf::infinite, std::move(dialed));
  f.scheduler->run();
  caf::actor line;
  pending.receive([&](line_accept_reply& reply) { line = reply.line; },
                  [&](const caf::error& e) { FAIL("line actor failed: " << f.system->render(e)); });
  REQUIRE(line);
  CHECK(f.member("primary")->dialled);

  // An enrolment request flows to the serving end only: dropped here.
  f.inject(line, enrol_request());
  line::Frame call;
  call.mutable_proxy_call()->set_id(77);
  f.inject(line, call);
  auto reply = primary.at(0);
  REQUIRE(reply.has_proxy_result());
  CHECK(reply.proxy_result().id() == 77);
  CHECK(reply.proxy_result().code() == 7);
  CHECK(reply.proxy_result().message() == "calls are proxied by the primary only");
}

TEST_CASE("LINE-4 a line that closes is shown down and alarmed") {
  written_frames exp1;
  primary_fixture f;
  auto line = f.accept("exp1", exp1).line;
  caf::anon_send(line, line_closed{"the far end went away"});
  f.scheduler->run();
  auto member = f.member("exp1");
  REQUIRE(member.has_value());
  CHECK_FALSE(member->line_up);
  CHECK(member->last_error == "the far end went away");
  REQUIRE_FALSE(f.told->alarms.empty());
  CHECK(f.told->alarms.back().action == "line_down");
  CHECK(f.told->alarms.back().object == "node/exp1");
}
