#pragma once

#include "cluster/line_transport.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

/// The line stream actor: one per line, on both ends. It owns the gRPC stream's writer and
/// the line's liveness; every frame the line carries goes to the node's line actor.
namespace ward::cluster {

/// How often both actors tick: heartbeats out, liveness and timeouts checked.
inline constexpr auto heartbeat_interval = std::chrono::seconds(1);
/// A line silent for this long is declared down (about five missed heartbeats).
inline constexpr auto heartbeat_timeout = std::chrono::seconds(5);

using tick_atom = caf::atom_constant<caf::atom("tick")>;
/// Closes a line: (close_atom, reason).
using close_atom = caf::atom_constant<caf::atom("close")>;

/// A frame a line carried, tagged with the line it came from (stream → line actor).
struct line_frame_from {
  std::uint64_t line_id = 0;
  line::Frame frame;
};
/// A line ended (stream → line actor).
struct line_down {
  std::uint64_t line_id = 0;
  std::string reason;
};
/// A frame to write onto the line (line actor → stream).
struct outbound_frame {
  line::Frame frame;
};

/// Spawns the stream actor of line `id`, linked to `line_actor`, whose exit closes the
/// stream so the gRPC thread reading it returns at once.
caf::actor spawn_line_stream(caf::actor_system& system, std::uint64_t id, caf::actor line_actor,
                             std::shared_ptr<frame_writer> writer);

} // namespace ward::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::line_frame_from)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::line_down)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::outbound_frame)
