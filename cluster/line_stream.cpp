#include "cluster/line_stream.hpp"

#include "cluster/line_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace ward::cluster {
namespace {

struct line_stream_state {
  std::uint64_t id = 0;
  caf::actor line_actor;
  std::shared_ptr<frame_writer> writer;
  std::chrono::steady_clock::time_point last_inbound;
  static inline const char* name = "ward.line.stream";
};

caf::behavior line_stream_behavior(caf::stateful_actor<line_stream_state>* self, std::uint64_t id,
                                   caf::actor line_actor, std::shared_ptr<frame_writer> writer) {
  self->state.id = id;
  self->state.line_actor = std::move(line_actor);
  self->state.writer = std::move(writer);
  self->state.last_inbound = std::chrono::steady_clock::now();
  auto shut = [self](const std::string& reason) {
    self->state.writer->close();
    self->send(self->state.line_actor, line_down{self->state.id, reason});
    self->quit();
  };
  self->delayed_send(self, heartbeat_interval, tick_atom::value);
  // The node stopping (the line actor exits, and we are linked to it) closes the stream,
  // so the gRPC thread reading it returns at once.
  self->set_exit_handler([self](caf::exit_msg& message) {
    self->state.writer->close();
    self->quit(message.reason);
  });
  return {
      [self](inbound_frame& in) {
        self->state.last_inbound = std::chrono::steady_clock::now();
        self->send(self->state.line_actor, line_frame_from{self->state.id, std::move(in.frame)});
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

} // namespace

caf::actor spawn_line_stream(caf::actor_system& system, std::uint64_t id, caf::actor line_actor,
                             std::shared_ptr<frame_writer> writer) {
  return system.spawn(line_stream_behavior, id, std::move(line_actor), std::move(writer));
}

} // namespace ward::cluster
