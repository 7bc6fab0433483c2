#include "cluster/syslog_sender.hpp"

#include "cluster/ssl_wait.hpp"
#include "cluster/syslog.hpp"
#include "core/net_address.hpp"
#include "pki/error.hpp"
#include "pki/openssl_ptr.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <random>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace ward::cluster {
namespace {

using pki::evp_pkey_ptr;
using pki::read_only_bio;
using pki::x509_ptr;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, pki::openssl_deleter<SSL_CTX_free>>;
using ssl_ptr = std::unique_ptr<SSL, pki::openssl_deleter<SSL_free>>;

/// OpenSSL's queued errors as one line, emptying the queue so the next failure starts
/// clean.
std::string openssl_errors() {
  auto queued = pki::drain_openssl_errors();
  return queued.empty() ? "no OpenSSL error recorded" : queued;
}

std::string errno_text(int error) {
  return std::strerror(error);
}

/// The numeric address of `address` (brackets allowed) and `port`.
std::optional<socket_address> parse_address(std::string_view address, std::uint16_t port) {
  auto parsed = parse_ip_address(strip_brackets(address));
  if (!parsed)
    return std::nullopt;
  return to_socket_address({*parsed, port});
}

std::expected<void, error> load_trusted_cas(SSL_CTX* ctx, const std::string& pem) {
  auto bio = read_only_bio(pem.data(), pem.size());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  while (x509_ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store, cert.get()) != 1)
      return std::unexpected(
          error{errc::invalid_config, "trusted CA not usable: " + openssl_errors()});
    ++count;
  }
  // The loop ends on the "no start line" error of the end of input; only a CA-less input
  // makes that a failure.
  ERR_clear_error();
  if (count == 0)
    return std::unexpected(error{errc::invalid_config, "trusted CA: no PEM certificate found"});
  return {};
}

std::expected<void, error> load_client_identity(SSL_CTX* ctx, const syslog_tls_config& config) {
  if (config.client_cert_pem.empty() && config.client_key_pem.empty())
    return {};
  if (config.client_cert_pem.empty() || config.client_key_pem.empty())
    return std::unexpected(
        error{errc::invalid_config, "client certificate and key must be given together"});
  auto cert_bio = read_only_bio(config.client_cert_pem.data(), config.client_cert_pem.size());
  x509_ptr cert{PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)};
  if (!cert)
    return std::unexpected(error{errc::invalid_config, "client certificate: " + openssl_errors()});
  if (SSL_CTX_use_certificate(ctx, cert.get()) != 1)
    return std::unexpected(
        error{errc::invalid_config, "client certificate not usable: " + openssl_errors()});
  // Further certificates in the PEM are the intermediates the receiver needs.
  while (x509_ptr extra{PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)}) {
    if (SSL_CTX_add1_chain_cert(ctx, extra.get()) != 1)
      return std::unexpected(
          error{errc::invalid_config, "client chain certificate not usable: " + openssl_errors()});
  }
  ERR_clear_error();
  auto key_bio = read_only_bio(config.client_key_pem.data(), config.client_key_pem.size());
  evp_pkey_ptr key{PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)};
  if (!key)
    return std::unexpected(error{errc::invalid_config, "client key: " + openssl_errors()});
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return std::unexpected(error{errc::invalid_config,
                                 "client key does not match the certificate: " + openssl_errors()});
  return {};
}

/// The TLS context of a TLS receiver; null for TCP and UDP, which need none.
std::expected<ssl_ctx_ptr, error> make_context(const syslog_tls_config& config) {
  ERR_clear_error();
  if (!parse_address(config.address, config.port))
    return std::unexpected(error{
        errc::invalid_config, "address is not a numeric IPv4 or IPv6 address: " + config.address});
  if (config.port == 0)
    return std::unexpected(error{errc::invalid_config, "port 0 cannot be connected to"});
  if (config.transport != syslog_transport::tls)
    return ssl_ctx_ptr{};
  if (config.trusted_ca_pem.empty())
    return std::unexpected(error{errc::invalid_config, "trusted CA is required"});
  ssl_ctx_ptr ctx{SSL_CTX_new(TLS_client_method())};
  if (!ctx)
    return std::unexpected(error{errc::invalid_config, "TLS context: " + openssl_errors()});
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1)
    return std::unexpected(error{errc::invalid_config, "TLS minimum version: " + openssl_errors()});
  if (auto loaded = load_trusted_cas(ctx.get(), config.trusted_ca_pem); !loaded)
    return std::unexpected(loaded.error());
  if (auto loaded = load_client_identity(ctx.get(), config); !loaded)
    return std::unexpected(loaded.error());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  // The frame buffer of a write that must be retried after WANT_WRITE is the same string,
  // but it may be reallocated between attempts only if OpenSSL is told it may move.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

enum class wait_result { ready, timeout, stopped };

} // namespace

struct syslog_tls_sender::tls_context {
  ssl_ctx_ptr ctx;
};

struct syslog_tls_sender::connection {
  int fd = -1;
  ssl_ptr ssl;
  bool established = false;

  connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() {
    if (ssl && established) {
      // Best effort close_notify: the socket is non-blocking, so this never waits, and a
      // receiver that misses it loses nothing that was written.
      SSL_shutdown(ssl.get());
    }
    ssl.reset();
    if (fd >= 0)
      ::close(fd);
  }
};

syslog_tls_sender::syslog_tls_sender(syslog_tls_config config) : config_(std::move(config)) {
  auto ctx = make_context(config_);
  if (!ctx) {
    last_error_ = "configuration: " + ctx.error().detail;
    return;
  }
  context_ = std::make_unique<tls_context>(tls_context{std::move(*ctx)});
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    last_error_ = "eventfd: " + errno_text(errno);
    return;
  }
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& error) {
    last_error_ = std::string("cannot start sender thread: ") + error.what();
  }
}

syslog_tls_sender::~syslog_tls_sender() {
  stopping_.store(true);
  wake();
  if (thread_.joinable())
    thread_.join();
  if (wake_fd_ >= 0)
    ::close(wake_fd_);
}

std::expected<void, error> syslog_tls_sender::check_config(const syslog_tls_config& config) {
  auto ctx = make_context(config);
  if (!ctx)
    return std::unexpected(ctx.error());
  return {};
}

bool syslog_tls_sender::enqueue(std::string formatted_message) {
  bool was_idle = false;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() + (in_flight_ ? 1 : 0) >= config_.max_queue) {
      ++dropped_;
      return false;
    }
    was_idle = queue_.empty() && !in_flight_;
    queue_.push_back(std::move(formatted_message));
  }
  // Only an idle thread sleeps on the wake fd; a busy one finds the message by itself.
  if (was_idle)
    wake();
  return true;
}

void syslog_tls_sender::set_minimum_tls(pki::tls_min_version minimum) {
  if (minimum_tls_.exchange(minimum) == minimum)
    return;
  reconnect_.store(true);
  wake();
}

syslog_sender_stats syslog_tls_sender::stats() const {
  std::lock_guard lock(mutex_);
  return {sent_, dropped_, queue_.size() + (in_flight_ ? 1 : 0), connected_, last_error_};
}

void syslog_tls_sender::wake() {
  if (wake_fd_ < 0)
    return;
  const std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the thread will wake anyway.
  [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
}

void syslog_tls_sender::drain_wake() {
  std::uint64_t value = 0;
  [[maybe_unused]] const auto read = ::read(wake_fd_, &value, sizeof value);
}

void syslog_tls_sender::set_error(std::string error) {
  std::lock_guard lock(mutex_);
  last_error_ = std::move(error);
}

void syslog_tls_sender::set_connected(bool connected) {
  std::lock_guard lock(mutex_);
  connected_ = connected;
}

std::chrono::milliseconds syslog_tls_sender::next_backoff() {
  backoff_ =
      backoff_.count() == 0 ? config_.reconnect_min : std::min(backoff_ * 2, config_.reconnect_max);
  backoff_ = std::max(backoff_, std::chrono::milliseconds(1));
  // Jitter in [backoff/2, backoff] keeps a cluster of nodes that lost the receiver at the
  // same moment from reconnecting in lockstep.
  std::uniform_int_distribution<std::chrono::milliseconds::rep> jitter(backoff_.count() / 2,
                                                                       backoff_.count());
  return std::chrono::milliseconds(jitter(random_));
}

void syslog_tls_sender::sleep_until(std::chrono::steady_clock::time_point deadline) {
  while (!stopping_.load()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return;
    const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    pollfd wake{wake_fd_, POLLIN, 0};
    if (::poll(&wake, 1, static_cast<int>(remaining)) > 0)
      drain_wake();
  }
}

namespace {

/// Waits until `fd` has `events`, the deadline passes or the sender stops. A wake-up for
/// new work is consumed here: the caller re-reads the queue after the I/O anyway.
wait_result wait_for(int fd, short events, int wake_fd, const std::atomic<bool>& stopping,
                     std::chrono::steady_clock::time_point deadline) {
  while (!stopping.load()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return wait_result::timeout;
    const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(remaining));
    if (ready < 0 && errno != EINTR)
      return wait_result::ready; // let the socket call report the failure
    if (ready > 0 && (fds[1].revents & POLLIN)) {
      std::uint64_t value = 0;
      [[maybe_unused]] const auto read = ::read(wake_fd, &value, sizeof value);
    }
    if (ready > 0 && fds[0].revents != 0)
      return wait_result::ready;
  }
  return wait_result::stopped;
}

/// Why an OpenSSL call failed for good with `ssl_error`; `saved_errno` is errno right after
/// the call.
error ssl_failure(int ssl_error, int saved_errno, const char* what, errc code) {
  if (ssl_error == SSL_ERROR_ZERO_RETURN)
    return error{code, std::string(what) + ": receiver closed the connection"};
  if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
    return error{code, std::string(what) + ": " +
                           (saved_errno != 0 ? errno_text(saved_errno)
                                             : std::string("connection closed by receiver"))};
  return error{code, std::string(what) + ": " + openssl_errors()};
}

/// Waits for what SSL_get_error asked for, or explains why the call failed for good (as
/// `code` unless the sender is stopping).
std::expected<void, error> wait_for_ssl(SSL* ssl, int result, int fd, int wake_fd,
                                        const std::atomic<bool>& stopping,
                                        std::chrono::steady_clock::time_point deadline,
                                        const char* what, errc code) {
  const int saved_errno = errno;
  const int ssl_error = SSL_get_error(ssl, result);
  const short events = poll_events_for(ssl_error);
  if (events == 0)
    return std::unexpected(ssl_failure(ssl_error, saved_errno, what, code));
  switch (wait_for(fd, events, wake_fd, stopping, deadline)) {
    case wait_result::ready:
      return {};
    case wait_result::timeout:
      return std::unexpected(error{code, std::string(what) + ": timed out"});
    case wait_result::stopped:
      return std::unexpected(error{errc::stopped, std::string(what) + ": sender stopped"});
  }
  return {};
}

} // namespace

std::expected<std::unique_ptr<syslog_tls_sender::connection>, error> syslog_tls_sender::connect() {
  ERR_clear_error();
  const auto address = parse_address(config_.address, config_.port);
  const std::string peer = config_.address + " port " + std::to_string(config_.port);
  const auto deadline = std::chrono::steady_clock::now() + config_.io_timeout;
  auto conn = std::make_unique<connection>();

  const bool datagram = config_.transport == syslog_transport::udp;
  conn->fd = ::socket(address->storage.ss_family,
                      (datagram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (conn->fd < 0)
    return std::unexpected(error{errc::connect_failed, "socket: " + errno_text(errno)});
  if (::connect(conn->fd, reinterpret_cast<const sockaddr*>(&address->storage), address->length) !=
      0) {
    if (errno != EINPROGRESS)
      return std::unexpected(
          error{errc::connect_failed, "connect to " + peer + ": " + errno_text(errno)});
    switch (wait_for(conn->fd, POLLOUT, wake_fd_, stopping_, deadline)) {
      case wait_result::ready:
        break;
      case wait_result::timeout:
        return std::unexpected(error{errc::connect_failed, "connect to " + peer + ": timed out"});
      case wait_result::stopped:
        return std::unexpected(error{errc::stopped, "sender stopped"});
    }
    int socket_error = 0;
    socklen_t length = sizeof socket_error;
    if (::getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &socket_error, &length) != 0)
      socket_error = errno;
    if (socket_error != 0)
      return std::unexpected(
          error{errc::connect_failed, "connect to " + peer + ": " + errno_text(socket_error)});
  }

  if (config_.transport != syslog_transport::tls) {
    // TCP and UDP carry the messages as they are: the connected socket is the link.
    conn->established = true;
    return conn;
  }
  conn->ssl.reset(SSL_new(context_->ctx.get()));
  if (!conn->ssl || SSL_set_fd(conn->ssl.get(), conn->fd) != 1)
    return std::unexpected(error{errc::connect_failed, "TLS session: " + openssl_errors()});
  const int floor =
      minimum_tls_.load() == pki::tls_min_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_set_min_proto_version(conn->ssl.get(), floor) != 1)
    return std::unexpected(error{errc::connect_failed, "TLS minimum version: " + openssl_errors()});
  const std::string name = config_.expected_name.empty()
                               ? std::string(strip_brackets(config_.address))
                               : config_.expected_name;
  // The name check is part of chain verification (OpenSSL calls X509_check_host or
  // X509_check_ip_asc), so a wrong name fails the handshake before any message is sent.
  if (is_ip_literal(name)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl.get()), name.c_str()) != 1)
      return std::unexpected(
          error{errc::connect_failed, "expected IP " + name + ": " + openssl_errors()});
  } else {
    SSL_set_hostflags(conn->ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(conn->ssl.get(), name.c_str()) != 1 ||
        SSL_set_tlsext_host_name(conn->ssl.get(), name.c_str()) != 1)
      return std::unexpected(
          error{errc::connect_failed, "expected name " + name + ": " + openssl_errors()});
  }

  for (;;) {
    errno = 0;
    const int result = SSL_connect(conn->ssl.get());
    if (result == 1)
      break;
    const long verify = SSL_get_verify_result(conn->ssl.get());
    auto waited = wait_for_ssl(conn->ssl.get(), result, conn->fd, wake_fd_, stopping_, deadline,
                               "TLS handshake", errc::connect_failed);
    if (!waited) {
      if (verify != X509_V_OK)
        return std::unexpected(error{
            errc::connect_failed,
            "TLS handshake with " + peer +
                ": certificate verification failed: " + X509_verify_cert_error_string(verify)});
      return std::unexpected(error{waited.error().code, waited.error().detail + " (" + peer + ")"});
    }
  }
  conn->established = true;
  return conn;
}

std::expected<void, error> syslog_tls_sender::check_alive(connection& conn) {
  if (config_.transport == syslog_transport::udp)
    return {}; // a refused datagram shows up as an error on the next send
  if (!conn.ssl) {
    // TCP: a readable socket that reads 0 was closed by the receiver.
    for (;;) {
      char discard[512];
      const auto got = ::recv(conn.fd, discard, sizeof discard, MSG_DONTWAIT);
      if (got > 0)
        continue;
      if (got == 0)
        return std::unexpected(error{errc::connection_lost, "receiver closed the connection"});
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return {};
      return std::unexpected(error{errc::connection_lost, "connection lost: " + errno_text(errno)});
    }
  }
  // The receiver never sends application data, but TLS 1.3 session tickets and a
  // close_notify or reset do arrive; reading them is how a dead link is noticed before
  // a message is written into it.
  for (;;) {
    pollfd fd{conn.fd, POLLIN, 0};
    if (::poll(&fd, 1, 0) <= 0)
      return {};
    char discard[512];
    ERR_clear_error();
    errno = 0;
    const int result = SSL_read(conn.ssl.get(), discard, sizeof discard);
    if (result > 0)
      continue;
    const int ssl_error = SSL_get_error(conn.ssl.get(), result);
    if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE)
      return {};
    if (ssl_error == SSL_ERROR_ZERO_RETURN ||
        (ssl_error == SSL_ERROR_SYSCALL && errno == 0 && ERR_peek_error() == 0))
      return std::unexpected(error{errc::connection_lost, "receiver closed the connection"});
    if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
      return std::unexpected(error{errc::connection_lost, "connection lost: " + errno_text(errno)});
    return std::unexpected(error{errc::connection_lost, "connection lost: " + openssl_errors()});
  }
}

std::expected<void, error> syslog_tls_sender::write_frame(connection& conn,
                                                          const std::string& frame) {
  const auto deadline = std::chrono::steady_clock::now() + config_.io_timeout;
  if (!conn.ssl) {
    std::size_t written = 0;
    while (written < frame.size()) {
      const auto sent =
          ::send(conn.fd, frame.data() + written, frame.size() - written, MSG_NOSIGNAL);
      if (sent >= 0) {
        // A datagram goes whole or not at all.
        written += config_.transport == syslog_transport::udp ? frame.size()
                                                              : static_cast<std::size_t>(sent);
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return std::unexpected(error{errc::connection_lost, "write: " + errno_text(errno)});
      switch (wait_for(conn.fd, POLLOUT, wake_fd_, stopping_, deadline)) {
        case wait_result::ready:
          break;
        case wait_result::timeout:
          return std::unexpected(error{errc::connection_lost, "write: timed out"});
        case wait_result::stopped:
          return std::unexpected(error{errc::stopped, "write: sender stopped"});
      }
    }
    return {};
  }
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int result = SSL_write(conn.ssl.get(), frame.data(), static_cast<int>(frame.size()));
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE a positive result is the whole frame.
    if (result > 0)
      return {};
    auto waited = wait_for_ssl(conn.ssl.get(), result, conn.fd, wake_fd_, stopping_, deadline,
                               "write", errc::connection_lost);
    if (!waited)
      return waited;
  }
}

void syslog_tls_sender::run() {
  // A receiver that resets the connection would otherwise kill the whole process with
  // SIGPIPE on the next write, as OpenSSL writes with write(2) and not MSG_NOSIGNAL. The
  // signal is thread-directed, so blocking it here leaves the rest of the process alone.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);

  std::unique_ptr<connection> conn;
  std::optional<std::string> frame;
  const auto drop_connection = [&](error failure) {
    // After a fatal error OpenSSL forbids SSL_shutdown on the session.
    if (conn)
      conn->established = false;
    conn.reset();
    set_connected(false);
    // Every failure is told (SPEC TLS-3); the receiver of the report caps the rate.
    if (config_.on_failure && failure.code != errc::stopped)
      config_.on_failure(join_host_port(strip_brackets(config_.address), config_.port),
                         failure.detail);
    set_error(std::move(failure.detail));
    sleep_until(std::chrono::steady_clock::now() + next_backoff());
  };

  while (!stopping_.load()) {
    // A new minimum TLS version ends the connection made under the old one (a clean
    // close_notify); the next turn reconnects without a backoff or a failure report.
    if (reconnect_.exchange(false) && conn) {
      conn.reset();
      set_connected(false);
    }
    if (!conn) {
      auto connected = connect();
      if (!connected) {
        if (!stopping_.load())
          drop_connection(std::move(connected).error());
        continue;
      }
      conn = std::move(*connected);
      backoff_ = std::chrono::milliseconds(0);
      set_connected(true);
    }

    if (!frame) {
      std::unique_lock lock(mutex_);
      if (queue_.empty()) {
        lock.unlock();
        pollfd fds[2] = {{conn->fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) > 0 && (fds[1].revents & POLLIN))
          drain_wake();
        if (auto alive = check_alive(*conn); !alive)
          drop_connection(std::move(alive).error());
        continue;
      }
      // The message stays counted against max_queue (in_flight_) until it is written.
      // RFC 5426: a datagram holds one message, unframed.
      frame = config_.transport == syslog_transport::udp ? queue_.front()
                                                         : frame_octet_counted(queue_.front());
      queue_.pop_front();
      in_flight_ = true;
    }

    if (auto alive = check_alive(*conn); !alive) {
      drop_connection(std::move(alive).error());
      continue;
    }
    if (auto written = write_frame(*conn, *frame); !written) {
      // A close_notify after a half-written record would only confuse the receiver.
      conn->established = false;
      if (!stopping_.load())
        drop_connection(std::move(written).error());
      continue;
    }
    frame.reset();
    std::lock_guard lock(mutex_);
    in_flight_ = false;
    ++sent_;
  }
  conn.reset();
  set_connected(false);
}

} // namespace ward::cluster
