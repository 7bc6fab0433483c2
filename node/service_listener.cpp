#include "node/service_listener.hpp"

#include "cluster/tls_pump.hpp"
#include "core/net_address.hpp"
#include "pki/certificate.hpp"

#include <grpcpp/server.h>
#include <grpcpp/server_posix.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <list>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace ward::node {
namespace {

using client_check_fn = pki::client_certificate_check_fn;

void free_client_check(void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<client_check_fn*>(pointer);
}

/// The SSL_CTX slot holding a level's client-certificate check; freed with the context.
int client_check_index() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_client_check);
  return index;
}

/// How long an acceptor backs off when accept() fails for want of resources, instead of
/// spinning on a connection that stays queued.
constexpr int accept_backoff_ms = 100;

struct fd_identity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  bool operator==(const fd_identity&) const = default;
};

std::optional<fd_identity> identify(int fd) {
  struct stat status {};
  if (fd < 0 || ::fstat(fd, &status) != 0)
    return std::nullopt;
  return fd_identity{static_cast<std::uint64_t>(status.st_dev),
                     static_cast<std::uint64_t>(status.st_ino)};
}

/// "127.0.0.1:5555" or "[::1]:5555"; IPv4 clients of a dual-stack socket appear as IPv4.
std::string format_peer(const sockaddr_storage& address) {
  auto peer = from_socket_address(address);
  if (!peer)
    return "unknown";
  peer->address = unmapped(peer->address);
  return to_string(*peer);
}

/// A listening socket on `address`:`port`, with the number actually bound.
std::expected<std::pair<cluster::unique_fd, std::uint16_t>, std::string>
bind_listener(const std::string& address, std::uint16_t port) {
  const std::string where = join_host_port(address, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // Numeric only: a name resolving to several addresses would bind just one of them, and
  // which one would depend on the resolver.
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int code = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
      code != 0)
    return std::unexpected("cannot listen on " + where + ": " + ::gai_strerror(code));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);

  cluster::unique_fd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd)
    return std::unexpected("cannot listen on " + where + ": " + cluster::errno_text(errno));
  // Re-binding the kept port number after a level change must not wait for TIME_WAIT of
  // the connections the previous acceptor served.
  int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0 ||
      ::listen(fd.get(), SOMAXCONN) != 0)
    return std::unexpected("cannot listen on " + where + ": " + cluster::errno_text(errno));

  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0)
    return std::unexpected("cannot read bound port of " + where + ": " +
                           cluster::errno_text(errno));
  const std::uint16_t number =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                        : reinterpret_cast<sockaddr_in&>(bound).sin_port);
  return std::pair{std::move(fd), number};
}

// ---------------------------------------------------------------------------------------

/// The decrypted stream is HTTP/2 for gRPC. gRPC clients refuse a TLS server that does not
/// select "h2" by ALPN; a client offering ALPN without "h2" could not talk to gRPC anyway,
/// so it is refused in the handshake, where the failure is reported with a clear cause.
int select_h2(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
              unsigned int in_length, void*) {
  static constexpr unsigned char h2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, h2, sizeof(h2), in, in_length) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

} // namespace

// ---------------------------------------------------------------------------------------
// connection_registry

std::uint64_t connection_registry::add(int fd, connection_info info) {
  auto identity = identify(fd);
  if (!identity)
    return 0;
  std::lock_guard lock(mutex_);
  const std::uint64_t ticket = next_ticket_++;
  entries_[fd] = entry{std::move(info), identity->device, identity->inode, ticket};
  return ticket;
}

void connection_registry::remove(int fd) {
  std::lock_guard lock(mutex_);
  entries_.erase(fd);
}

void connection_registry::remove(int fd, std::uint64_t ticket) {
  std::lock_guard lock(mutex_);
  if (auto found = entries_.find(fd); found != entries_.end() && found->second.ticket == ticket)
    entries_.erase(found);
}

std::optional<connection_info> connection_registry::find_by_peer(std::string_view grpc_peer) const {
  constexpr std::string_view prefix = "fd:";
  if (!grpc_peer.starts_with(prefix))
    return std::nullopt;
  const auto digits = grpc_peer.substr(prefix.size());
  int fd = -1;
  auto [end, code] = std::from_chars(digits.data(), digits.data() + digits.size(), fd);
  if (code != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;

  std::lock_guard lock(mutex_);
  auto found = entries_.find(fd);
  if (found == entries_.end())
    return std::nullopt;
  const auto identity = identify(fd);
  if (!identity || *identity != fd_identity{found->second.device, found->second.inode})
    return std::nullopt;
  return found->second.info;
}

std::size_t connection_registry::size() const {
  std::lock_guard lock(mutex_);
  prune_locked();
  return entries_.size();
}

void connection_registry::prune_locked() const {
  std::erase_if(entries_, [](const auto& item) {
    const auto identity = identify(item.first);
    return !identity || *identity != fd_identity{item.second.device, item.second.inode};
  });
}

// ---------------------------------------------------------------------------------------
// acceptor: one listening socket and the thread that accepts on it.

namespace {

class acceptor {
public:
  using handler = std::function<void(cluster::unique_fd, std::string)>;

  /// Prepared but not yet accepting, so apply() can fail before anything changes.
  static std::expected<std::unique_ptr<acceptor>, std::string> create(cluster::unique_fd listener) {
    std::string error;
    auto wake = cluster::make_wake_pipe(error);
    if (!error.empty())
      return std::unexpected(std::move(error));
    return std::unique_ptr<acceptor>(
        new acceptor(std::move(listener), std::move(wake.read_end), std::move(wake.write_end)));
  }

  std::expected<void, std::string> start(handler on_accept) {
    on_accept_ = std::move(on_accept);
    try {
      thread_ = std::thread([this] { run(); });
    } catch (const std::system_error& failure) {
      return std::unexpected(std::string("cannot start acceptor thread: ") + failure.what());
    }
    return {};
  }

  ~acceptor() {
    if (thread_.joinable()) {
      const char byte = 1;
      [[maybe_unused]] auto written = ::write(wake_write_.get(), &byte, 1);
      thread_.join();
    }
  }

  acceptor(const acceptor&) = delete;
  acceptor& operator=(const acceptor&) = delete;

private:
  acceptor(cluster::unique_fd listener, cluster::unique_fd wake_read, cluster::unique_fd wake_write)
      : listener_(std::move(listener)), wake_read_(std::move(wake_read)),
        wake_write_(std::move(wake_write)) {}

  /// Waits on the wake pipe only; true when told to stop.
  bool pause(int milliseconds) const {
    pollfd wake{wake_read_.get(), POLLIN, 0};
    return ::poll(&wake, 1, milliseconds) > 0;
  }

  void run() {
    for (;;) {
      std::array<pollfd, 2> fds{pollfd{listener_.get(), POLLIN, 0},
                                pollfd{wake_read_.get(), POLLIN, 0}};
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR)
          continue;
        if (pause(accept_backoff_ms))
          return;
        continue;
      }
      if (fds[1].revents != 0)
        return;
      if (fds[0].revents == 0)
        continue;
      sockaddr_storage peer{};
      socklen_t length = sizeof(peer);
      const int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
          continue;
        // Out of descriptors or memory: the connection stays queued and poll() would report
        // it again at once.
        if (pause(accept_backoff_ms))
          return;
        continue;
      }
      on_accept_(cluster::unique_fd(fd), format_peer(peer));
    }
  }

  cluster::unique_fd listener_;
  cluster::unique_fd wake_read_;
  cluster::unique_fd wake_write_;
  handler on_accept_;
  std::thread thread_;
};

/// A TLS connection's thread; `done` lets the acceptor reap it without blocking.
struct tls_session {
  std::thread thread;
  std::atomic<bool> done{false};
  /// The peer's address without the port, for the per-address limit.
  std::string address;
};

/// A plaintext connection handed to gRPC. gRPC closes the descriptor when it is done; the
/// identity tells whether the number still names this connection.
struct plain_connection {
  int fd = -1;
  fd_identity identity;
  std::string address;
};

/// "127.0.0.1:5555" -> "127.0.0.1", "[::1]:5555" -> "[::1]".
std::string address_part(const std::string& peer) {
  auto colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

} // namespace

// ---------------------------------------------------------------------------------------
// service_listener

struct service_listener::state {
  state(std::string service_name, std::string listen_address, std::uint16_t plain,
        std::uint16_t tls, grpc::Server& grpc_server, connection_registry& connections,
        tls_failure_handler failure_handler, std::size_t limit)
      : service(std::move(service_name)), address(std::move(listen_address)),
        plain_requested(plain), tls_requested(tls), server(grpc_server), registry(connections),
        on_failure(std::move(failure_handler)), max_connections(limit) {
    auto pipe = cluster::make_wake_pipe(stop_pipe_error);
    stop_read = std::move(pipe.read_end);
    stop_write = std::move(pipe.write_end);
  }

  const std::string service;
  const std::string address;
  const std::uint16_t plain_requested;
  const std::uint16_t tls_requested;
  /// Once bound, a number is kept so clients find the service where it was.
  std::atomic<std::uint16_t> plain_bound{0};
  std::atomic<std::uint16_t> tls_bound{0};
  grpc::Server& server;
  connection_registry& registry;
  const tls_failure_handler on_failure;
  const std::size_t max_connections;

  /// Serialises apply() and the destructor; guards the acceptors.
  std::mutex apply_mutex;
  std::atomic<pki::service_security_level> level{pki::service_security_level::disabled};
  std::unique_ptr<acceptor> plain_acceptor;
  std::unique_ptr<acceptor> tls_acceptor;

  std::mutex context_mutex;
  std::shared_ptr<SSL_CTX> context;

  std::mutex connections_mutex;
  std::list<std::unique_ptr<tls_session>> sessions;
  std::vector<plain_connection> plain_connections;

  /// Written once by the destructor and never drained, so every session's poll() sees it.
  cluster::unique_fd stop_read;
  cluster::unique_fd stop_write;
  std::string stop_pipe_error;

  std::shared_ptr<SSL_CTX> current_context() {
    std::lock_guard lock(context_mutex);
    return context;
  }

  void report(const std::string& peer, std::string cause) const {
    if (!on_failure)
      return;
    // A throwing handler must not take the connection thread, and the process, with it.
    try {
      on_failure(tls_failure{service, peer, std::move(cause)});
    } catch (...) {
    }
  }

  /// Joins finished sessions and forgets plaintext connections gRPC has closed; returns
  /// how many connections are still open.
  std::size_t reap_locked() {
    for (auto it = sessions.begin(); it != sessions.end();) {
      if ((*it)->done.load()) {
        (*it)->thread.join();
        it = sessions.erase(it);
      } else {
        ++it;
      }
    }
    std::erase_if(plain_connections,
                  [](const plain_connection& c) { return identify(c.fd) != c.identity; });
    return sessions.size() + plain_connections.size();
  }

  /// Open connections from `address`; one client may hold only a share of the slots, so
  /// it cannot keep every administrator out by holding idle connections.
  std::size_t from_address_locked(const std::string& address) const {
    std::size_t count = 0;
    for (const auto& session : sessions)
      if (session->address == address)
        ++count;
    for (const auto& connection : plain_connections)
      if (connection.address == address)
        ++count;
    return count;
  }

  /// A quarter of the slots per address; a listener with very few slots (tests) has none
  /// to share out.
  std::size_t per_address_limit() const {
    return max_connections >= 16 ? max_connections / 4 : max_connections;
  }

  void accept_plain(cluster::unique_fd fd, std::string peer) {
    const auto identity = identify(fd.get());
    if (!identity)
      return;
    {
      std::lock_guard lock(connections_mutex);
      if (reap_locked() >= max_connections ||
          from_address_locked(address_part(peer)) >= per_address_limit())
        return;
      plain_connections.push_back({fd.get(), *identity, address_part(peer)});
    }
    cluster::set_no_delay(fd.get());
    connection_info info;
    info.service = service;
    info.peer_address = std::move(peer);
    registry.add(fd.get(), std::move(info));
    // gRPC owns the descriptor from here on and closes it.
    grpc::AddInsecureChannelFromFd(&server, fd.release());
  }

  void accept_tls(cluster::unique_fd fd, std::string peer) {
    auto ctx = current_context();
    // Only in the moment a level without TLS closes this acceptor.
    if (!ctx)
      return;
    std::string refusal;
    {
      std::lock_guard lock(connections_mutex);
      if (reap_locked() >= max_connections) {
        refusal = "connection limit reached";
      } else if (from_address_locked(address_part(peer)) >= per_address_limit()) {
        refusal = "connection limit for this address reached";
      } else {
        // Listed before its thread starts, so no running thread is ever left unowned.
        tls_session* raw = sessions.emplace_back(std::make_unique<tls_session>()).get();
        raw->address = address_part(peer);
        try {
          raw->thread =
              std::thread([this, raw, fd = std::move(fd), peer, ctx = std::move(ctx)]() mutable {
                serve_tls(std::move(fd), peer, ctx.get());
                raw->done = true;
              });
        } catch (const std::system_error&) {
          sessions.pop_back();
          refusal = "cannot start a connection thread";
        }
      }
    }
    // Reported outside the lock: the handler may take its time.
    if (!refusal.empty())
      report(peer, std::move(refusal));
  }

  /// The received-certificate check attached to `ctx`, applied to the client's chain; the
  /// handshake only proved the chain (or, when it merely requested one, nothing), the
  /// check grades it (SPEC PKI-8).
  static std::optional<std::string>
  graded_client_refusal(const std::vector<pki::certificate>& chain, const std::string& peer,
                        SSL_CTX* ctx) {
    const auto* check =
        static_cast<const client_check_fn*>(SSL_CTX_get_ex_data(ctx, client_check_index()));
    if (!check || !*check || chain.empty())
      return std::nullopt;
    return (*check)(chain, peer);
  }

  void serve_tls(cluster::unique_fd socket, const std::string& peer, SSL_CTX* ctx) {
    cluster::set_no_delay(socket.get());
    auto created =
        cluster::tls_stream::create(std::move(socket), ctx, cluster::tls_stream::role::server);
    if (!created) {
      report(peer, "cannot set up TLS: " + created.error().detail);
      return;
    }
    cluster::tls_stream& stream = **created;
    SSL* ssl = stream.native();

    auto shaken = stream.handshake(std::chrono::steady_clock::now() +
                                       std::chrono::milliseconds(handshake_timeout_ms),
                                   stop_read.get());
    if (shaken.kind == cluster::tls_outcome::failed)
      report(peer, std::move(shaken.cause));
    if (shaken.kind != cluster::tls_outcome::done)
      return;
    const auto client_chain = cluster::peer_certificates(ssl);
    if (auto refused = graded_client_refusal(client_chain, peer, ctx)) {
      report(peer, "client certificate refused: " + *refused);
      return;
    }

    connection_info info;
    info.service = service;
    info.peer_address = peer;
    info.tls = true;
    info.tls_version = SSL_get_version(ssl);
    info.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
    if (!client_chain.empty())
      info.client_certificate_subject = client_chain.front().subject();
    info.tls_exporter = cluster::line_binding_hex(ssl);
    for (const auto& cert : client_chain) {
      if (auto text = cert.to_pem())
        info.client_chain_pem.push_back(std::move(*text));
    }

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
      report(peer, "cannot create a socketpair for gRPC: " + cluster::errno_text(errno));
      return;
    }
    cluster::unique_fd ours(pair[0]);
    const int theirs = pair[1];
    const auto ticket = registry.add(theirs, std::move(info));
    // gRPC owns `theirs` from here on and closes it once our end goes away.
    grpc::AddInsecureChannelFromFd(&server, theirs);

    auto pumped = stream.pump(ours.get(), stop_read.get());
    // The entry stays: gRPC may still dispatch requests it already read from this
    // connection, and they must be attributed to it. The registry drops the entry once
    // gRPC closes the descriptor (its inode no longer matches).
    (void)ticket;
    stream.finish(pumped);
    if (pumped.kind == cluster::tls_outcome::failed)
      report(peer, std::move(pumped.cause));
  }
};

service_listener::service_listener(std::string service, std::string address,
                                   std::uint16_t plain_port, std::uint16_t tls_port,
                                   grpc::Server& server, connection_registry& registry,
                                   tls_failure_handler on_failure, std::size_t max_connections)
    : state_(std::make_unique<state>(std::move(service), std::move(address), plain_port, tls_port,
                                     server, registry, std::move(on_failure), max_connections)) {}

service_listener::~service_listener() {
  auto& s = *state_;
  {
    std::lock_guard lock(s.apply_mutex);
    s.plain_acceptor.reset();
    s.tls_acceptor.reset();
  }
  if (s.stop_write) {
    const char byte = 1;
    [[maybe_unused]] auto written = ::write(s.stop_write.get(), &byte, 1);
  }
  std::list<std::unique_ptr<tls_session>> sessions;
  {
    std::lock_guard lock(s.connections_mutex);
    sessions.swap(s.sessions);
  }
  for (auto& session : sessions)
    session->thread.join();
}

std::expected<void, std::string> service_listener::apply(pki::service_security_level level,
                                                         const pki::tls_server_material& material,
                                                         pki::tls_min_version min_version) {
  auto& s = *state_;
  std::lock_guard lock(s.apply_mutex);
  if (!s.stop_pipe_error.empty())
    return std::unexpected(s.service + ": " + s.stop_pipe_error);

  // Everything that can fail is prepared first, so a failure leaves the running level as
  // it was.
  std::shared_ptr<SSL_CTX> context;
  if (auto strength = pki::tls_strength_of(level)) {
    auto made = pki::make_server_context(*strength, min_version, material);
    if (!made)
      return std::unexpected(s.service + ": TLS material refused (" +
                             std::string(pki::to_string(made.error().code)) +
                             "): " + made.error().detail);
    context = std::move(*made);
    SSL_CTX_set_alpn_select_cb(context.get(), select_h2, nullptr);
    if (material.client_certificate_check)
      SSL_CTX_set_ex_data(context.get(), client_check_index(),
                          new client_check_fn(material.client_certificate_check));
  }
  const bool want_plain = pki::offers_plaintext(level);
  const bool want_tls = context != nullptr;

  auto prepare =
      [&](std::uint16_t requested, const std::atomic<std::uint16_t>& kept,
          std::uint16_t& bound_port) -> std::expected<std::unique_ptr<acceptor>, std::string> {
    auto bound = bind_listener(s.address, kept != 0 ? kept.load() : requested);
    if (!bound)
      return std::unexpected(s.service + ": " + bound.error());
    bound_port = bound->second;
    return acceptor::create(std::move(bound->first));
  };
  std::unique_ptr<acceptor> new_plain;
  std::unique_ptr<acceptor> new_tls;
  std::uint16_t new_plain_port = 0;
  std::uint16_t new_tls_port = 0;
  if (want_plain && !s.plain_acceptor) {
    auto prepared = prepare(s.plain_requested, s.plain_bound, new_plain_port);
    if (!prepared)
      return std::unexpected(prepared.error());
    new_plain = std::move(*prepared);
  }
  if (want_tls && !s.tls_acceptor) {
    auto prepared = prepare(s.tls_requested, s.tls_bound, new_tls_port);
    if (!prepared)
      return std::unexpected(prepared.error());
    new_tls = std::move(*prepared);
  }

  // The context is in place before a new TLS acceptor takes its first connection.
  std::shared_ptr<SSL_CTX> previous_context;
  {
    std::lock_guard context_lock(s.context_mutex);
    previous_context = std::exchange(s.context, context);
  }
  auto started = [&]() -> std::expected<void, std::string> {
    if (new_plain) {
      if (auto ok = new_plain->start([&s](cluster::unique_fd fd, std::string peer) {
            s.accept_plain(std::move(fd), std::move(peer));
          });
          !ok)
        return ok;
    }
    if (new_tls) {
      if (auto ok = new_tls->start([&s](cluster::unique_fd fd, std::string peer) {
            s.accept_tls(std::move(fd), std::move(peer));
          });
          !ok)
        return ok;
    }
    return {};
  }();
  if (!started) {
    std::lock_guard context_lock(s.context_mutex);
    s.context = std::move(previous_context);
    return std::unexpected(s.service + ": " + started.error());
  }

  if (!want_plain)
    s.plain_acceptor.reset();
  if (!want_tls)
    s.tls_acceptor.reset();
  if (new_plain) {
    s.plain_acceptor = std::move(new_plain);
    s.plain_bound = new_plain_port;
  }
  if (new_tls) {
    s.tls_acceptor = std::move(new_tls);
    s.tls_bound = new_tls_port;
  }
  s.level = level;
  return {};
}

std::uint16_t service_listener::plain_port() const {
  return state_->plain_bound.load();
}

std::uint16_t service_listener::tls_port() const {
  return state_->tls_bound.load();
}

pki::service_security_level service_listener::level() const {
  return state_->level.load();
}

} // namespace ward::node
