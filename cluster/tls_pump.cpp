#include "cluster/tls_pump.hpp"

#include "cluster/ssl_wait.hpp"
#include "core/hex.hpp"
#include "pki/error.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <optional>
#include <system_error>

namespace ward::cluster {

/// What the socket BIO reads through its data pointer.
struct tls_socket_state {
  int fd = -1;
  bool eof = false;
};

namespace {

/// Large enough for one full TLS record, so a single SSL_read never leaves plaintext
/// behind in OpenSSL that poll() on the socket could not see.
constexpr std::size_t pump_buffer_size = 16 * 1024;

// ---------------------------------------------------------------------------------------
// A socket BIO that cannot raise SIGPIPE. OpenSSL's own socket BIO writes with write(),
// which signals SIGPIPE on a connection the peer reset; Ward may not change the process
// signal disposition, so every write goes through send(MSG_NOSIGNAL) instead.

tls_socket_state* bio_state(BIO* bio) {
  return static_cast<tls_socket_state*>(BIO_get_data(bio));
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
  // from it, and sessions may outlive any one listener or line.
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

/// True when an SSL failure is only the peer going away without close_notify, which
/// gRPC clients routinely do and which HTTP/2's own framing makes harmless.
bool is_plain_disconnect(int ssl_error) {
  if (ssl_error == SSL_ERROR_ZERO_RETURN || ssl_error == SSL_ERROR_SYSCALL)
    return true;
  return ssl_error == SSL_ERROR_SSL &&
         ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/// Polls `fds` (the third slot is filled with `stop_fd`): the number ready, 0 when
/// `timeout_ms` passed, -1 when `stop_fd` fired or poll() itself fails (retrying a failing
/// poll would only spin). A negative `timeout_ms` waits indefinitely.
int wait(std::array<pollfd, 3>& fds, int stop_fd, int timeout_ms) {
  fds[2] = pollfd{stop_fd, POLLIN, 0};
  for (;;) {
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0 || fds[2].revents != 0)
      return -1;
    return ready;
  }
}

pki::certificate shared_certificate(X509* cert) {
  X509_up_ref(cert);
  return pki::certificate(std::shared_ptr<X509>(cert, X509_free));
}

} // namespace

// ---------------------------------------------------------------------------------------
// Helpers

void unique_fd::reset() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

std::string errno_text(int code) {
  return std::error_code(code, std::system_category()).message();
}

wake_pipe make_wake_pipe(std::string& error) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = "cannot create a wake-up pipe: " + errno_text(errno);
    return {};
  }
  return {unique_fd(ends[0]), unique_fd(ends[1])};
}

void set_no_delay(int fd) {
  int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

std::string line_binding_hex(SSL* ssl) {
  if (!ssl || !SSL_is_init_finished(ssl))
    return {};
  // RFC 9266: without the extended master secret a TLS 1.2 exporter is not unique to
  // the connection (triple handshake), so it must not bind anything.
  if (SSL_version(ssl) < TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1)
    return {};
  std::array<unsigned char, line_binding_size> exported{};
  ERR_clear_error();
  // use_context = 0: "no context". In TLS 1.3 that equals an empty context; in TLS 1.2
  // it does not, so both ends must make exactly this call.
  if (SSL_export_keying_material(ssl, exported.data(), exported.size(), line_binding_label.data(),
                                 line_binding_label.size(), nullptr, 0, 0) != 1) {
    ERR_clear_error();
    return {};
  }
  return to_hex(exported);
}

std::vector<pki::certificate> peer_certificates(SSL* ssl) {
  std::vector<pki::certificate> chain;
  X509* leaf = ssl ? SSL_get0_peer_certificate(ssl) : nullptr;
  if (!leaf)
    return chain;
  chain.push_back(shared_certificate(leaf));
  // On the client side OpenSSL's peer chain starts with the leaf; on the server side it
  // leaves the leaf out.
  if (STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(sent); ++i) {
      X509* cert = sk_X509_value(sent, i);
      if (i == 0 && X509_cmp(cert, leaf) == 0)
        continue;
      chain.push_back(shared_certificate(cert));
    }
  }
  return chain;
}

// ---------------------------------------------------------------------------------------
// tls_stream

tls_stream::tls_stream(unique_fd socket, SSL* ssl, std::unique_ptr<tls_socket_state> state)
    : socket_(std::move(socket)), ssl_(ssl), bio_(std::move(state)) {}

tls_stream::~tls_stream() {
  SSL_free(ssl_);
}

std::expected<std::unique_ptr<tls_stream>, error> tls_stream::create(unique_fd socket, SSL_CTX* ctx,
                                                                     role side) {
  ERR_clear_error();
  SSL* ssl = ctx ? SSL_new(ctx) : nullptr;
  BIO* bio = ssl ? BIO_new(socket_bio_method()) : nullptr;
  if (!bio) {
    SSL_free(ssl);
    return std::unexpected(error{errc::connect_failed, ctx ? pki::drain_openssl_errors()
                                                           : std::string("no TLS context")});
  }
  auto state = std::make_unique<tls_socket_state>(tls_socket_state{socket.get(), false});
  BIO_set_data(bio, state.get());
  SSL_set_bio(ssl, bio, bio);
  if (side == role::server)
    SSL_set_accept_state(ssl);
  else
    SSL_set_connect_state(ssl);
  // Partial writes let the pump hand OpenSSL whatever gRPC produced without waiting for
  // a full buffer; retries then pass a moved pointer into the same bytes.
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return std::unique_ptr<tls_stream>(new tls_stream(std::move(socket), ssl, std::move(state)));
}

void tls_stream::close_socket() {
  bio_->fd = -1;
  socket_.reset();
}

std::string tls_stream::describe_failure(int ssl_error) const {
  const unsigned long code = ERR_peek_error();
  std::string cause;
  if (ssl_error == SSL_ERROR_SSL && code != 0) {
    switch (ERR_GET_REASON(code)) {
      case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        cause = "no client certificate";
        break;
      case SSL_R_CERTIFICATE_VERIFY_FAILED:
        cause = std::string(SSL_is_server(ssl_) ? "client" : "server") + " certificate rejected: " +
                X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
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
  } else if (ssl_error == SSL_ERROR_ZERO_RETURN || bio_->eof) {
    cause = "connection closed during handshake";
  } else if (ssl_error == SSL_ERROR_SYSCALL && errno != 0) {
    cause = errno_text(errno);
  } else {
    cause = "TLS error " + std::to_string(ssl_error);
  }
  ERR_clear_error();
  return cause;
}

tls_step tls_stream::handshake(std::chrono::steady_clock::time_point deadline, int stop_fd) {
  using namespace std::chrono;
  for (;;) {
    ERR_clear_error();
    const int result = SSL_do_handshake(ssl_);
    if (result == 1)
      return {};
    const int error = SSL_get_error(ssl_, result);
    const short events = poll_events_for(error);
    if (events == 0)
      return {tls_outcome::failed, describe_failure(error), true};

    const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    if (left <= 0)
      return {tls_outcome::failed, "handshake timed out", true};
    std::array<pollfd, 3> fds{pollfd{socket_.get(), events, 0}, pollfd{-1, 0, 0}, pollfd{}};
    const int ready = wait(fds, stop_fd, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (ready < 0)
      return {tls_outcome::stopped, {}, false};
    if (ready == 0)
      return {tls_outcome::failed, "handshake timed out", true};
  }
}

tls_step tls_stream::pump(int plain_fd, int stop_fd) {
  std::vector<char> inbound(pump_buffer_size);  // TLS -> plain
  std::vector<char> outbound(pump_buffer_size); // plain -> TLS
  std::size_t in_begin = 0, in_end = 0, out_begin = 0, out_end = 0;

  auto tls_end = [&](int error) -> tls_step {
    if (is_plain_disconnect(error)) {
      ERR_clear_error();
      return {tls_outcome::done, {}, error != SSL_ERROR_ZERO_RETURN};
    }
    return {tls_outcome::failed, describe_failure(error), true};
  };

  bool progress = false;
  short tls_events = 0;
  short plain_events = 0;
  // One SSL_read_ex or SSL_write_ex (`call` stores what it moved): on success `cursor`
  // advances; when OpenSSL must wait, what for is added to tls_events. Anything else ends
  // the pump, as the returned step.
  auto tls_io = [&](auto call, std::size_t& cursor) -> std::optional<tls_step> {
    std::size_t moved = 0;
    ERR_clear_error();
    const int result = call(moved);
    if (result == 1) {
      cursor += moved;
      progress = true;
      return std::nullopt;
    }
    const int error = SSL_get_error(ssl_, result);
    if (const short events = poll_events_for(error); events != 0) {
      tls_events |= events;
      return std::nullopt;
    }
    return tls_end(error);
  };
  // The same for one send or recv on the plain socket, which waits for `blocked`; false
  // once gRPC has closed its end.
  auto plain_io = [&](ssize_t moved, std::size_t& cursor, short blocked) {
    if (moved > 0) {
      cursor += static_cast<std::size_t>(moved);
      progress = true;
      return true;
    }
    if (moved < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      plain_events |= blocked;
      return true;
    }
    return moved < 0 && errno == EINTR;
  };

  for (;;) {
    progress = false;
    tls_events = 0;
    plain_events = 0;

    // Reading only into an empty buffer keeps this simple; any plaintext OpenSSL still
    // holds is collected on the next pass, which follows at once because progress was
    // made, so SSL_pending() data never waits for the socket to become readable.
    if (in_begin == in_end) {
      in_begin = in_end = 0;
      auto read = [&](std::size_t& got) {
        return SSL_read_ex(ssl_, inbound.data(), inbound.size(), &got);
      };
      if (auto end = tls_io(read, in_end))
        return *end;
    }
    if (in_begin < in_end &&
        !plain_io(::send(plain_fd, inbound.data() + in_begin, in_end - in_begin, MSG_NOSIGNAL),
                  in_begin, POLLOUT))
      return {}; // gRPC closed its end

    if (out_begin == out_end) {
      out_begin = out_end = 0;
      if (!plain_io(::recv(plain_fd, outbound.data(), outbound.size(), 0), out_end, POLLIN))
        return {}; // gRPC closed its end
    }
    if (out_begin < out_end) {
      auto write = [&](std::size_t& put) {
        return SSL_write_ex(ssl_, outbound.data() + out_begin, out_end - out_begin, &put);
      };
      if (auto end = tls_io(write, out_begin))
        return *end;
    }

    if (progress)
      continue;
    // A descriptor nobody waits on is left out, or its POLLHUP would spin this loop.
    std::array<pollfd, 3> fds{pollfd{tls_events ? socket_.get() : -1, tls_events, 0},
                              pollfd{plain_events ? plain_fd : -1, plain_events, 0}, pollfd{}};
    if (wait(fds, stop_fd, -1) < 0)
      return {tls_outcome::stopped, {}, false};
  }
}

void tls_stream::finish(const tls_step& pumped) {
  if (!pumped.fatal && socket_ && !(SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN)) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
  }
  ERR_clear_error();
}

} // namespace ward::cluster
