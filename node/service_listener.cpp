#include "node/service_listener.hpp"

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

using client_check_fn =
    std::function<std::optional<std::string>(const std::vector<pki::certificate>&)>;

void free_client_check(void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<client_check_fn*>(pointer);
}

/// The SSL_CTX slot holding a level's client-certificate check; freed with the context.
int client_check_index() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_client_check);
  return index;
}

/// Large enough for one full TLS record, so a single SSL_read never leaves plaintext
/// behind in OpenSSL that poll() on the socket could not see.
constexpr std::size_t pump_buffer_size = 16 * 1024;
/// How long an acceptor backs off when accept() fails for want of resources, instead of
/// spinning on a connection that stays queued.
constexpr int accept_backoff_ms = 100;

class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~unique_fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }
  explicit operator bool() const { return fd_ >= 0; }

private:
  int fd_ = -1;
};

std::string errno_text(int code) {
  return std::error_code(code, std::system_category()).message();
}

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

struct wake_pipe {
  unique_fd read_end;
  unique_fd write_end;
};

/// A non-blocking pipe; the error text is empty on success. (Not std::expected: GCC 12
/// at -O2 mistakes the destruction of that one for freeing a non-heap object.)
wake_pipe make_pipe(std::string& error) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = "cannot create a wake-up pipe: " + errno_text(errno);
    return {};
  }
  return {unique_fd(ends[0]), unique_fd(ends[1])};
}

/// "127.0.0.1:5555" or "[::1]:5555"; IPv4 clients of a dual-stack socket appear as IPv4.
std::string format_peer(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &v4.sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(v4.sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    const auto port = std::to_string(ntohs(v6.sin6_port));
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
      ::inet_ntop(AF_INET, &v6.sin6_addr.s6_addr[12], host, sizeof(host));
      return std::string(host) + ":" + port;
    }
    ::inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + port;
  }
  return "unknown";
}

void set_no_delay(int fd) {
  // HTTP/2 frames are small and latency-bound; Nagle would hold them back.
  int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/// A listening socket on `address`:`port`, with the number actually bound.
std::expected<std::pair<unique_fd, std::uint16_t>, std::string>
bind_listener(const std::string& address, std::uint16_t port) {
  const std::string where =
      (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" +
      std::to_string(port);
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

  unique_fd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd)
    return std::unexpected("cannot listen on " + where + ": " + errno_text(errno));
  // Re-binding the kept port number after a level change must not wait for TIME_WAIT of
  // the connections the previous acceptor served.
  int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0 ||
      ::listen(fd.get(), SOMAXCONN) != 0)
    return std::unexpected("cannot listen on " + where + ": " + errno_text(errno));

  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0)
    return std::unexpected("cannot read bound port of " + where + ": " + errno_text(errno));
  const std::uint16_t number =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                        : reinterpret_cast<sockaddr_in&>(bound).sin_port);
  return std::pair{std::move(fd), number};
}

// ---------------------------------------------------------------------------------------
// A socket BIO that cannot raise SIGPIPE. OpenSSL's own socket BIO writes with write(),
// which signals SIGPIPE on a connection the client reset; Ward may not change the process
// signal disposition, so every write goes through send(MSG_NOSIGNAL) instead.

struct socket_bio_state {
  int fd = -1;
  bool eof = false;
};

socket_bio_state* bio_state(BIO* bio) {
  return static_cast<socket_bio_state*>(BIO_get_data(bio));
}

int socket_bio_write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
  BIO_clear_retry_flags(bio);
  for (;;) {
    ssize_t sent = ::send(bio_state(bio)->fd, data, size, MSG_NOSIGNAL);
    if (sent >= 0) {
      *written = static_cast<std::size_t>(sent);
      return 1;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      BIO_set_retry_write(bio);
    return 0;
  }
}

int socket_bio_read(BIO* bio, char* data, std::size_t size, std::size_t* read) {
  BIO_clear_retry_flags(bio);
  for (;;) {
    ssize_t got = ::recv(bio_state(bio)->fd, data, size, 0);
    if (got > 0) {
      *read = static_cast<std::size_t>(got);
      return 1;
    }
    if (got == 0) {
      bio_state(bio)->eof = true;
      return 0;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      BIO_set_retry_read(bio);
    return 0;
  }
}

long socket_bio_ctrl(BIO* bio, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;
    // OpenSSL asks this to tell a peer's EOF from a transient failure.
    case BIO_CTRL_EOF:
      return bio_state(bio)->eof ? 1 : 0;
    default:
      return 0;
  }
}

int socket_bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* socket_bio_method() {
  // Created once and kept for the life of the process; OpenSSL needs it for every BIO made
  // from it, and sessions may outlive any one listener.
  static BIO_METHOD* method = [] {
    BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ward socket");
    if (made) {
      BIO_meth_set_write_ex(made, socket_bio_write);
      BIO_meth_set_read_ex(made, socket_bio_read);
      BIO_meth_set_ctrl(made, socket_bio_ctrl);
      BIO_meth_set_create(made, socket_bio_create);
    }
    return made;
  }();
  return method;
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

/// A cause for a failed SSL call, in words an administrator can act on. OpenSSL's own
/// reason is used where it is already clear.
std::string describe_failure(SSL* ssl, int ssl_error, const socket_bio_state& socket) {
  const unsigned long code = ERR_peek_error();
  std::string cause;
  if (ssl_error == SSL_ERROR_SSL && code != 0) {
    switch (ERR_GET_REASON(code)) {
      case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        cause = "no client certificate";
        break;
      case SSL_R_CERTIFICATE_VERIFY_FAILED:
        cause = std::string("client certificate rejected: ") +
                X509_verify_cert_error_string(SSL_get_verify_result(ssl));
        break;
      case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        cause = "connection closed during handshake";
        break;
      default:
        if (const char* reason = ERR_reason_error_string(code)) {
          cause = reason;
        } else {
          char buffer[256];
          ERR_error_string_n(code, buffer, sizeof(buffer));
          cause = buffer;
        }
    }
  } else if (ssl_error == SSL_ERROR_ZERO_RETURN || socket.eof) {
    cause = "connection closed during handshake";
  } else if (ssl_error == SSL_ERROR_SYSCALL && errno != 0) {
    cause = errno_text(errno);
  } else {
    cause = "TLS error " + std::to_string(ssl_error);
  }
  ERR_clear_error();
  return cause;
}

/// True when an SSL failure is only the peer going away without close_notify, which
/// gRPC clients routinely do and which HTTP/2's own framing makes harmless.
bool is_plain_disconnect(int ssl_error) {
  if (ssl_error == SSL_ERROR_ZERO_RETURN || ssl_error == SSL_ERROR_SYSCALL)
    return true;
  return ssl_error == SSL_ERROR_SSL &&
         ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

struct ssl_deleter {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;

enum class outcome { done, stopped, failed };

struct step_result {
  outcome kind = outcome::done;
  std::string cause;
  /// OpenSSL forbids further I/O, close_notify included, after a fatal error.
  bool fatal = false;
};

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
  using handler = std::function<void(unique_fd, std::string)>;

  /// Prepared but not yet accepting, so apply() can fail before anything changes.
  static std::expected<std::unique_ptr<acceptor>, std::string> create(unique_fd listener) {
    std::string error;
    auto wake = make_pipe(error);
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
  acceptor(unique_fd listener, unique_fd wake_read, unique_fd wake_write)
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
      on_accept_(unique_fd(fd), format_peer(peer));
    }
  }

  unique_fd listener_;
  unique_fd wake_read_;
  unique_fd wake_write_;
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
    auto pipe = make_pipe(stop_pipe_error);
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
  unique_fd stop_read;
  unique_fd stop_write;
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

  void accept_plain(unique_fd fd, std::string peer) {
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
    set_no_delay(fd.get());
    registry.add(fd.get(), connection_info{service, std::move(peer), false, {}, {}, {}});
    // gRPC owns the descriptor from here on and closes it.
    grpc::AddInsecureChannelFromFd(&server, fd.release());
  }

  void accept_tls(unique_fd fd, std::string peer) {
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
  /// handshake only proved the chain, the check grades it (SPEC PKI-8).
  static std::optional<std::string> graded_client_refusal(SSL* ssl, SSL_CTX* ctx) {
    const auto* check =
        static_cast<const client_check_fn*>(SSL_CTX_get_ex_data(ctx, client_check_index()));
    X509* leaf = SSL_get0_peer_certificate(ssl);
    if (!check || !*check || !leaf)
      return std::nullopt;
    std::vector<pki::certificate> chain;
    X509_up_ref(leaf);
    chain.emplace_back(std::shared_ptr<X509>(leaf, X509_free));
    // On the server side the peer chain excludes the leaf.
    if (STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl))
      for (int i = 0; i < sk_X509_num(sent); ++i) {
        X509* cert = sk_X509_value(sent, i);
        X509_up_ref(cert);
        chain.emplace_back(std::shared_ptr<X509>(cert, X509_free));
      }
    return (*check)(chain);
  }

  void serve_tls(unique_fd socket, const std::string& peer, SSL_CTX* ctx) {
    set_no_delay(socket.get());
    ERR_clear_error();
    ssl_ptr ssl(SSL_new(ctx));
    BIO* bio = ssl ? BIO_new(socket_bio_method()) : nullptr;
    if (!bio) {
      report(peer, "cannot set up TLS: " + pki::drain_openssl_errors());
      return;
    }
    socket_bio_state socket_state{socket.get(), false};
    BIO_set_data(bio, &socket_state);
    SSL_set_bio(ssl.get(), bio, bio);
    SSL_set_accept_state(ssl.get());
    // Partial writes let the pump hand OpenSSL whatever gRPC produced without waiting for
    // a full buffer; retries then pass a moved pointer into the same bytes.
    SSL_set_mode(ssl.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    auto shaken = handshake(ssl.get(), socket_state);
    if (shaken.kind == outcome::failed)
      report(peer, std::move(shaken.cause));
    if (shaken.kind != outcome::done)
      return;
    if (auto refused = graded_client_refusal(ssl.get(), ctx)) {
      report(peer, "client certificate refused: " + *refused);
      return;
    }

    connection_info info{service,
                         peer,
                         true,
                         SSL_get_version(ssl.get()),
                         SSL_CIPHER_get_name(SSL_get_current_cipher(ssl.get())),
                         {}};
    if (X509* client = SSL_get0_peer_certificate(ssl.get())) {
      X509_up_ref(client);
      info.client_certificate_subject =
          pki::certificate(std::shared_ptr<X509>(client, X509_free)).subject();
    }

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
      report(peer, "cannot create a socketpair for gRPC: " + errno_text(errno));
      return;
    }
    unique_fd ours(pair[0]);
    const int theirs = pair[1];
    const auto ticket = registry.add(theirs, std::move(info));
    // gRPC owns `theirs` from here on and closes it once our end goes away.
    grpc::AddInsecureChannelFromFd(&server, theirs);

    auto pumped = pump(ssl.get(), socket_state, ours.get());
    // The entry stays: gRPC may still dispatch requests it already read from this
    // connection, and they must be attributed to it. The registry drops the entry once
    // gRPC closes the descriptor (its inode no longer matches).
    (void)ticket;
    if (!pumped.fatal && !(SSL_get_shutdown(ssl.get()) & SSL_SENT_SHUTDOWN)) {
      // One non-blocking attempt at close_notify; a peer that is gone does not wait for it.
      ERR_clear_error();
      SSL_shutdown(ssl.get());
    }
    ERR_clear_error();
    if (pumped.kind == outcome::failed)
      report(peer, std::move(pumped.cause));
  }

  /// Polls `fds` (the third slot is filled with the stop pipe): the number ready, 0 when
  /// `timeout_ms` passed, -1 when the listener stops or poll() itself fails (retrying a
  /// failing poll would only spin). A negative `timeout_ms` waits indefinitely.
  int wait(std::array<pollfd, 3>& fds, int timeout_ms) const {
    fds[2] = pollfd{stop_read.get(), POLLIN, 0};
    for (;;) {
      const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready < 0 || fds[2].revents != 0)
        return -1;
      return ready;
    }
  }

  step_result handshake(SSL* ssl, const socket_bio_state& socket) const {
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + milliseconds(handshake_timeout_ms);
    for (;;) {
      ERR_clear_error();
      const int result = SSL_do_handshake(ssl);
      if (result == 1)
        return {};
      const int error = SSL_get_error(ssl, result);
      short events = 0;
      if (error == SSL_ERROR_WANT_READ)
        events = POLLIN;
      else if (error == SSL_ERROR_WANT_WRITE)
        events = POLLOUT;
      else
        return {outcome::failed, describe_failure(ssl, error, socket), true};

      const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
      if (left <= 0)
        return {outcome::failed, "handshake timed out", true};
      std::array<pollfd, 3> fds{pollfd{socket.fd, events, 0}, pollfd{-1, 0, 0}, pollfd{}};
      const int ready = wait(fds, static_cast<int>(left));
      if (ready < 0)
        return {outcome::stopped, {}, false};
      if (ready == 0)
        return {outcome::failed, "handshake timed out", true};
    }
  }

  /// Moves bytes both ways between the TLS connection and gRPC's socketpair end until
  /// either side closes, a TLS error occurs or the listener stops.
  step_result pump(SSL* ssl, const socket_bio_state& socket, int grpc_fd) const {
    std::vector<char> inbound(pump_buffer_size);  // TLS -> gRPC
    std::vector<char> outbound(pump_buffer_size); // gRPC -> TLS
    std::size_t in_begin = 0, in_end = 0, out_begin = 0, out_end = 0;

    auto tls_end = [&](int error) -> step_result {
      if (is_plain_disconnect(error)) {
        ERR_clear_error();
        return {outcome::done, {}, error != SSL_ERROR_ZERO_RETURN};
      }
      return {outcome::failed, describe_failure(ssl, error, socket), true};
    };

    for (;;) {
      bool progress = false;
      short tls_events = 0;
      short grpc_events = 0;

      // Reading only into an empty buffer keeps this simple; any plaintext OpenSSL still
      // holds is collected on the next pass, which follows at once because progress was
      // made, so SSL_pending() data never waits for the socket to become readable.
      if (in_begin == in_end) {
        in_begin = in_end = 0;
        std::size_t got = 0;
        ERR_clear_error();
        const int result = SSL_read_ex(ssl, inbound.data(), inbound.size(), &got);
        if (result == 1) {
          in_end = got;
          progress = true;
        } else {
          const int error = SSL_get_error(ssl, result);
          if (error == SSL_ERROR_WANT_READ)
            tls_events |= POLLIN;
          else if (error == SSL_ERROR_WANT_WRITE)
            tls_events |= POLLOUT;
          else
            return tls_end(error);
        }
      }
      if (in_begin < in_end) {
        const ssize_t sent =
            ::send(grpc_fd, inbound.data() + in_begin, in_end - in_begin, MSG_NOSIGNAL);
        if (sent > 0) {
          in_begin += static_cast<std::size_t>(sent);
          progress = true;
        } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          grpc_events |= POLLOUT;
        } else if (!(sent < 0 && errno == EINTR)) {
          return {}; // gRPC closed the channel
        }
      }

      if (out_begin == out_end) {
        out_begin = out_end = 0;
        const ssize_t got = ::recv(grpc_fd, outbound.data(), outbound.size(), 0);
        if (got > 0) {
          out_end = static_cast<std::size_t>(got);
          progress = true;
        } else if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          grpc_events |= POLLIN;
        } else if (!(got < 0 && errno == EINTR)) {
          return {}; // gRPC closed the channel
        }
      }
      if (out_begin < out_end) {
        std::size_t put = 0;
        ERR_clear_error();
        const int result =
            SSL_write_ex(ssl, outbound.data() + out_begin, out_end - out_begin, &put);
        if (result == 1) {
          out_begin += put;
          progress = true;
        } else {
          const int error = SSL_get_error(ssl, result);
          if (error == SSL_ERROR_WANT_WRITE)
            tls_events |= POLLOUT;
          else if (error == SSL_ERROR_WANT_READ)
            tls_events |= POLLIN;
          else
            return tls_end(error);
        }
      }

      if (progress)
        continue;
      // A descriptor nobody waits on is left out, or its POLLHUP would spin this loop.
      std::array<pollfd, 3> fds{pollfd{tls_events ? socket.fd : -1, tls_events, 0},
                                pollfd{grpc_events ? grpc_fd : -1, grpc_events, 0}, pollfd{}};
      if (wait(fds, -1) < 0)
        return {outcome::stopped, {}, false};
    }
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
      if (auto ok = new_plain->start([&s](unique_fd fd, std::string peer) {
            s.accept_plain(std::move(fd), std::move(peer));
          });
          !ok)
        return ok;
    }
    if (new_tls) {
      if (auto ok = new_tls->start([&s](unique_fd fd, std::string peer) {
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
