#include "cluster/tls_client.hpp"

#include "cluster/tls_pump.hpp"
#include "core/net_address.hpp"

#include <openssl/ssl.h>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace ward::cluster {

// The TLS stream and its pump are shared with the node's listeners (node/tls_pump).

namespace {

using clock = std::chrono::steady_clock;

int milliseconds_left(clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

/// A TCP connection to `address`:`port` made by `deadline`, non-blocking.
std::expected<unique_fd, error> connect_tcp(const std::string& address, std::uint16_t port,
                                            const std::string& where, clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // Numeric only: name resolution could block past the timeout, and which of several
  // addresses a name gives would depend on the resolver.
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int code = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
      code != 0)
    return std::unexpected(
        error{errc::connect_failed, "cannot connect to " + where + ": " + ::gai_strerror(code)});
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);

  unique_fd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd)
    return std::unexpected(
        error{errc::connect_failed, "cannot connect to " + where + ": " + errno_text(errno)});
  if (::connect(fd.get(), found->ai_addr, found->ai_addrlen) == 0)
    return fd;
  // EINTR on a non-blocking connect leaves it running, like EINPROGRESS.
  if (errno != EINPROGRESS && errno != EINTR)
    return std::unexpected(
        error{errc::connect_failed, "cannot connect to " + where + ": " + errno_text(errno)});

  for (;;) {
    pollfd writable{fd.get(), POLLOUT, 0};
    const int ready = ::poll(&writable, 1, milliseconds_left(deadline));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0)
      return std::unexpected(
          error{errc::connect_failed, "cannot connect to " + where + ": " + errno_text(errno)});
    if (ready == 0)
      return std::unexpected(error{errc::connect_failed, "connecting to " + where + " timed out"});
    break;
  }
  int failure = 0;
  socklen_t length = sizeof(failure);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &failure, &length) != 0)
    failure = errno;
  if (failure != 0)
    return std::unexpected(
        error{errc::connect_failed, "cannot connect to " + where + ": " + errno_text(failure)});
  return fd;
}

} // namespace

struct tls_client_connection::state {
  std::shared_ptr<SSL_CTX> ctx;
  std::unique_ptr<tls_stream> stream;
  std::string remote;
  std::vector<pki::certificate> chain;
  std::string exporter;
  std::string version;
  std::string cipher;

  /// Our end of the socketpair; the pump thread closes it when it ends, so gRPC sees the
  /// line go at once.
  unique_fd ours;
  /// gRPC's end until grpc_fd() hands it over.
  unique_fd theirs;
  /// Written once by the destructor, never drained.
  wake_pipe stop;
  std::thread pump_thread;
  std::atomic<bool> running{false};
  mutable std::mutex cause_mutex;
  std::string cause;

  void run() {
    auto pumped = stream->pump(ours.get(), stop.read_end.get());
    stream->finish(pumped);
    stream->close_socket();
    ours.reset();
    if (pumped.kind == tls_outcome::failed) {
      std::lock_guard lock(cause_mutex);
      cause = std::move(pumped.cause);
    }
    running = false;
  }
};

tls_client_connection::tls_client_connection(std::unique_ptr<state> s) : state_(std::move(s)) {}

std::expected<std::unique_ptr<tls_client_connection>, error>
tls_client_connection::connect(const std::string& address, std::uint16_t port,
                               std::shared_ptr<SSL_CTX> ctx, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  const std::string where = join_host_port(address, port);
  if (!ctx)
    return std::unexpected(
        error{errc::connect_failed, "cannot connect to " + where + ": no TLS context"});

  auto s = std::make_unique<state>();
  s->ctx = std::move(ctx);
  s->remote = where;
  std::string pipe_error;
  s->stop = make_wake_pipe(pipe_error);
  if (!pipe_error.empty())
    return std::unexpected(
        error{errc::connect_failed, "cannot connect to " + where + ": " + pipe_error});

  auto socket = connect_tcp(address, port, where, deadline);
  if (!socket)
    return std::unexpected(socket.error());
  set_no_delay(socket->get());

  auto created = tls_stream::create(std::move(*socket), s->ctx.get(), tls_stream::role::client);
  if (!created)
    return std::unexpected(error{errc::connect_failed,
                                 "cannot set up TLS for " + where + ": " + created.error().detail});
  s->stream = std::move(*created);
  SSL* ssl = s->stream->native();
  // Ward's listeners refuse a client offering ALPN without "h2": the stream is HTTP/2.
  static constexpr unsigned char h2[] = {2, 'h', '2'};
  if (SSL_set_alpn_protos(ssl, h2, sizeof(h2)) != 0) // 0 is success here
    return std::unexpected(
        error{errc::connect_failed, "cannot set up TLS for " + where + ": cannot offer ALPN h2"});

  auto shaken = s->stream->handshake(deadline, -1);
  if (shaken.kind != tls_outcome::done)
    return std::unexpected(
        error{errc::connect_failed, "TLS handshake with " + where + " failed: " + shaken.cause});

  s->chain = peer_certificates(ssl);
  s->exporter = line_binding_hex(ssl);
  s->version = SSL_get_version(ssl);
  s->cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
    return std::unexpected(
        error{errc::connect_failed, "cannot create a socketpair for gRPC: " + errno_text(errno)});
  s->ours = unique_fd(pair[0]);
  s->theirs = unique_fd(pair[1]);

  // Owned by the connection before the thread starts, so no running thread is ever left
  // without an owner to join it.
  std::unique_ptr<tls_client_connection> connection(new tls_client_connection(std::move(s)));
  state* raw = connection->state_.get();
  raw->running = true;
  try {
    raw->pump_thread = std::thread([raw] { raw->run(); });
  } catch (const std::system_error& failure) {
    raw->running = false;
    return std::unexpected(error{
        errc::connect_failed, std::string("cannot start the TLS pump thread: ") + failure.what()});
  }
  return connection;
}

tls_client_connection::~tls_client_connection() {
  auto& s = *state_;
  if (s.pump_thread.joinable()) {
    const char byte = 1;
    [[maybe_unused]] auto written = ::write(s.stop.write_end.get(), &byte, 1);
    s.pump_thread.join();
  }
}

int tls_client_connection::grpc_fd() {
  return state_->theirs.release();
}

const std::vector<pki::certificate>& tls_client_connection::peer_chain() const {
  return state_->chain;
}

const std::string& tls_client_connection::exporter_hex() const {
  return state_->exporter;
}

std::string tls_client_connection::tls_version() const {
  return state_->version;
}

std::string tls_client_connection::cipher() const {
  return state_->cipher;
}

std::string tls_client_connection::remote_address() const {
  return state_->remote;
}

bool tls_client_connection::alive() const {
  return state_->running.load();
}

std::string tls_client_connection::end_cause() const {
  std::lock_guard lock(state_->cause_mutex);
  return state_->cause;
}

} // namespace ward::cluster
