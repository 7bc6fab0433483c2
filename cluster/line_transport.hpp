#pragma once

#include "cluster/error.hpp"
#include "cluster/line_protocol.hpp"
#include "line.grpc.pb.h"
#include "pki/certificate.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <openssl/types.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ward::cluster {

/// What the node's TLS front end learnt about the connection a line arrived on.
struct line_connection_facts {
  std::string peer_address;
  /// Keying material exported from the TLS session; the line password proof binds to it.
  std::string exporter_hex;
  /// The certificates the dialling node presented, leaf first, PEM.
  std::vector<std::string> client_chain_pem;
};

/// Finds the facts of the connection behind a gRPC peer string; nullopt when the call did
/// not arrive over one of the node's TLS line connections.
using connection_lookup = std::function<std::optional<line_connection_facts>(const std::string&)>;

/// Writes frames onto one gRPC stream from a thread of its own, in the order given, so
/// actors never block on the network. A stream that cannot keep up is closed rather than
/// allowed to grow without bound.
class frame_writer {
public:
  static constexpr std::size_t max_queued = 10'000;

  /// `write` sends one frame and returns false once the stream is gone; `cancel` ends the
  /// stream so the reading side wakes up.
  frame_writer(std::function<bool(const line::Frame&)> write, std::function<void()> cancel);
  ~frame_writer();
  frame_writer(const frame_writer&) = delete;
  frame_writer& operator=(const frame_writer&) = delete;

  /// Queues `frame`; false once the writer is closed.
  bool send(line::Frame frame);
  /// Stops writing and cancels the stream; idempotent. Frames still queued are dropped:
  /// everything that matters is re-sent from persistent state after a reconnect.
  void close();
  bool closed() const;

private:
  void run();
  /// Marks the writer closed and runs the cancel, once whoever calls it first; the part of
  /// close() that the writer thread also needs when a write fails.
  void close_and_cancel();

  std::function<bool(const line::Frame&)> write_;
  std::function<void()> cancel_;
  mutable std::mutex mutex_;
  std::mutex cancel_mutex_;
  std::condition_variable wake_;
  std::deque<line::Frame> queue_;
  bool closed_ = false;
  std::once_flag joined_;
  std::thread thread_;
};

/// The server end of lines (primary and secondary): each accepted stream is checked by the
/// node's line actor and then bridged into a line stream actor. The gRPC thread only reads
/// and hands frames on.
class line_service final : public line::Line::Service {
public:
  /// A stream must say Hello within this time.
  static constexpr std::chrono::seconds hello_timeout{10};

  line_service(caf::actor_system& system, caf::actor line_actor, connection_lookup lookup);

  grpc::Status Connect(grpc::ServerContext* context,
                       grpc::ServerReaderWriter<line::Frame, line::Frame>* stream) override;

private:
  caf::actor_system& system_;
  caf::actor line_actor_;
  connection_lookup lookup_;
};

/// A TLS connection the dialler opened and the socket end gRPC should use.
struct dialed_connection {
  int grpc_fd = -1;
  std::vector<pki::certificate> peer_chain;
  std::string exporter_hex;
  /// Keeps the TLS pump alive while the line lasts.
  std::shared_ptr<void> keepalive;
};

/// Opens a TLS connection to address:port with `ctx`; the node's TLS client.
using dial_fn = std::function<std::expected<dialed_connection, error>(
    const std::string& address, std::uint16_t port, std::shared_ptr<SSL_CTX> ctx)>;

/// The configured far end of a line this node dials.
struct line_target {
  std::string name;
  std::string address;
  std::uint16_t port = 0;
};

/// Dials one line and keeps it up (SPEC LINE-4): connect, check the server, prove the
/// line password, hand the stream to the node's line actor, and after any loss reconnect with
/// exponential backoff and jitter. Runs on its own thread; blocking network calls never
/// run on the actor scheduler.
class line_dialer {
public:
  line_dialer(caf::actor_system& system, caf::actor line_actor, line_target target, dial_fn dial,
              random_source random);
  /// Stops dialling and ends the current line within about a second.
  ~line_dialer();
  line_dialer(const line_dialer&) = delete;
  line_dialer& operator=(const line_dialer&) = delete;

private:
  void run();
  /// One connection's life; returns why it ended.
  std::string connect_once(unsigned& attempt);
  /// Sleeps up to `delay` unless stopping; returns false when stopping.
  bool pause(std::chrono::milliseconds delay);

  caf::actor_system& system_;
  caf::actor line_actor_;
  line_target target_;
  dial_fn dial_;
  random_source random_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* active_ = nullptr;
  std::thread thread_;
};

} // namespace ward::cluster
