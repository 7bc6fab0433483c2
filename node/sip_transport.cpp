#include "node/sip_transport.hpp"

#include "cluster/tls_pump.hpp"
#include "core/net_address.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace ward::node {

peer peer_of(const sockaddr_storage& from) {
  char text[INET6_ADDRSTRLEN] = {};
  if (from.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(from);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    return {text, ntohs(v6.sin6_port)};
  }
  const auto& v4 = reinterpret_cast<const sockaddr_in&>(from);
  ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
  return {text, ntohs(v4.sin_port)};
}

std::optional<sockaddr_storage> sockaddr_of(const std::string& address, std::uint16_t port) {
  auto parsed = parse_ip_address(address);
  if (!parsed)
    return std::nullopt;
  return to_socket_address({*parsed, port}).storage;
}

std::expected<std::pair<int, std::uint16_t>, std::string>
bind_socket(const std::string& address, std::uint16_t port, int type) {
  auto storage = sockaddr_of(address, port);
  if (!storage)
    return std::unexpected("not an IP address: " + address);
  socklen_t length = storage->ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  int fd = ::socket(storage->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return std::unexpected(std::string("cannot create a socket: ") + std::strerror(errno));
  int yes = 1;
  if (type == SOCK_STREAM)
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  // Bursts of registrations must not overflow the socket while the worker answers a batch.
  int buffer = 4 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&*storage), length) != 0) {
    auto why = std::string(std::strerror(errno));
    ::close(fd);
    return std::unexpected(
        std::string(type == SOCK_STREAM ? "cannot bind TCP " : "cannot bind UDP ") + address + ":" +
        std::to_string(port) + ": " + why);
  }
  if (type == SOCK_STREAM && ::listen(fd, 128) != 0) {
    auto why = std::string(std::strerror(errno));
    ::close(fd);
    return std::unexpected("cannot listen on TCP " + address + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  return std::pair{fd, peer_of(bound).port};
}

void sip_connection::send(const std::string& text) {
  std::lock_guard lock(write_mutex);
  std::size_t done = 0;
  while (!closed && done < text.size()) {
    auto written = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (written > 0) {
      done += static_cast<std::size_t>(written);
      continue;
    }
    if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd out{fd, POLLOUT, 0};
      if (::poll(&out, 1, 2000) > 0)
        continue;
    }
    closed = true;
  }
}

void sip_inbox::post(sip_inbound message) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(message));
  }
  std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
}

std::vector<sip_inbound> sip_inbox::take() {
  std::uint64_t count = 0;
  (void)::read(wake_fd_, &count, sizeof count);
  std::vector<sip_inbound> taken;
  std::lock_guard lock(mutex_);
  taken.swap(queue_);
  return taken;
}

udp_batch::udp_batch() : buffers_(size) {}

std::size_t udp_batch::receive(int fd) {
  for (std::size_t i = 0; i < size; ++i) {
    vectors_[i] = {buffers_[i].data(), buffers_[i].size()};
    messages_[i] = {};
    messages_[i].msg_hdr.msg_iov = &vectors_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
    messages_[i].msg_hdr.msg_name = &sources_[i];
    messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  int received = ::recvmmsg(fd, messages_.data(), size, MSG_DONTWAIT, nullptr);
  return received > 0 ? static_cast<std::size_t>(received) : 0;
}

void udp_outbox::flush(int fd) {
  if (outgoing_.empty())
    return;
  // With UDP off nothing can be sent over it; what was queued for a UDP peer is dropped.
  if (fd < 0) {
    outgoing_.clear();
    return;
  }
  std::vector<mmsghdr> out(outgoing_.size());
  std::vector<iovec> out_vectors(outgoing_.size());
  for (std::size_t i = 0; i < outgoing_.size(); ++i) {
    out_vectors[i] = {outgoing_[i].first.data(), outgoing_[i].first.size()};
    out[i] = {};
    out[i].msg_hdr.msg_iov = &out_vectors[i];
    out[i].msg_hdr.msg_iovlen = 1;
    out[i].msg_hdr.msg_name = &outgoing_[i].second;
    out[i].msg_hdr.msg_namelen =
        outgoing_[i].second.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }
  (void)::sendmmsg(fd, out.data(), static_cast<unsigned>(out.size()), MSG_DONTWAIT);
  outgoing_.clear();
}

stream_listener::stream_listener(settings settings, sip_inbox& inbox,
                                 const std::atomic<bool>& stopping)
    : settings_(std::move(settings)), slots_(settings_.max_connections), inbox_(inbox),
      stopping_(stopping), acceptor_([this] { accept_loop(); }) {}

void stream_listener::set_tls(std::shared_ptr<SSL_CTX> context,
                              pki::client_certificate_check_fn check) {
  std::lock_guard lock(tls_context_mutex_);
  settings_.tls_context = std::move(context);
  settings_.tls_client_check = std::move(check);
}

void stream_listener::join() {
  std::call_once(joined_, [this] {
    if (acceptor_.joinable())
      acceptor_.join();
  });
}

void stream_listener::serve_tls(int fd, std::string address, std::uint16_t port) {
  std::shared_ptr<SSL_CTX> context;
  pki::client_certificate_check_fn check;
  {
    std::lock_guard lock(tls_context_mutex_);
    context = settings_.tls_context;
    check = settings_.tls_client_check;
  }
  const auto peer = join_host_port(address, port);
  auto refuse = [&](const std::string& cause) {
    if (settings_.on_tls_failure)
      settings_.on_tls_failure(peer, cause);
    slots_.release(address);
  };
  auto stream = cluster::tls_stream::create(cluster::unique_fd(fd), context.get(),
                                            cluster::tls_stream::role::server);
  if (!stream)
    return refuse("cannot set up TLS: " + stream.error().detail);
  auto shaken = (*stream)->handshake(std::chrono::steady_clock::now() + std::chrono::seconds(10),
                                     settings_.stop_fd);
  if (shaken.kind == cluster::tls_outcome::failed)
    return refuse(shaken.cause);
  if (shaken.kind != cluster::tls_outcome::done) {
    slots_.release(address);
    return;
  }
  if (check)
    if (auto refused = check(cluster::peer_certificates((*stream)->native()), peer))
      return refuse("client certificate refused: " + *refused);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
    slots_.release(address);
    return;
  }
  // The decrypted side is served like any TCP connection, tagged as TLS; its slot is
  // released by that reader.
  auto connection = std::make_shared<sip_connection>();
  connection->fd = pair[0];
  connection->address = address;
  connection->port = port;
  connection->kind = telephony::transport::tls;
  std::thread reader([this, connection] { serve_tcp(connection); });
  cluster::unique_fd ours(pair[1]);
  auto pumped = (*stream)->pump(ours.get(), settings_.stop_fd);
  (*stream)->finish(pumped);
  ours = cluster::unique_fd();
  reader.join();
}

void stream_listener::accept_loop() {
  while (!stopping_) {
    readers_.reap();
    std::array<pollfd, 2> waiting{pollfd{settings_.tcp_fd, POLLIN, 0},
                                  pollfd{settings_.tls_fd, POLLIN, 0}};
    if (::poll(waiting.data(), waiting.size(), 200) <= 0)
      continue;
    for (std::size_t which = 0; which < waiting.size(); ++which) {
      if (!(waiting[which].revents & POLLIN))
        continue;
      sockaddr_storage from{};
      socklen_t length = sizeof from;
      int fd = ::accept4(waiting[which].fd, reinterpret_cast<sockaddr*>(&from), &length,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      auto who = peer_of(from);
      if (!slots_.admit(who.address)) {
        ::close(fd);
        ++refused_;
        continue;
      }
      if (which == 1) {
        readers_.spawn(
            [this, fd, address = who.address, port = who.port] { serve_tls(fd, address, port); });
        continue;
      }
      auto connection = std::make_shared<sip_connection>();
      connection->fd = fd;
      connection->address = who.address;
      connection->port = who.port;
      readers_.spawn([this, connection] { serve_tcp(connection); });
    }
  }
  readers_.join_all();
}

void stream_listener::serve_tcp(std::shared_ptr<sip_connection> connection) {
  std::string buffer;
  std::array<char, 16384> chunk{};
  auto last_activity = std::chrono::steady_clock::now();
  while (!stopping_ && !connection->closed) {
    pollfd waiting{connection->fd, POLLIN, 0};
    int ready = ::poll(&waiting, 1, 200);
    if (ready <= 0) {
      // Idle connections end after 10 minutes; phones keep theirs alive with CRLF.
      if (std::chrono::steady_clock::now() - last_activity > std::chrono::minutes(10))
        break;
      continue;
    }
    auto got = ::recv(connection->fd, chunk.data(), chunk.size(), 0);
    if (got <= 0)
      break;
    last_activity = std::chrono::steady_clock::now();
    buffer.append(chunk.data(), static_cast<std::size_t>(got));
    bool broken = false;
    while (true) {
      buffer.erase(0, telephony::keep_alive_prefix(buffer));
      auto length = telephony::framed_length(buffer);
      if (!length) {
        broken = true;
        break;
      }
      if (*length == 0)
        break;
      inbox_.post({connection->kind,
                   buffer.substr(0, *length),
                   connection->address,
                   connection->port,
                   connection,
                   {}});
      buffer.erase(0, *length);
    }
    if (broken) {
      ++broken_;
      break;
    }
  }
  connection->closed = true;
  {
    std::lock_guard write(connection->write_mutex);
    ::close(connection->fd);
  }
  slots_.release(connection->address);
}

} // namespace ward::node
