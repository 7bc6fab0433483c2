#include "node/syslog_listener.hpp"

#include "core/net_address.hpp"
#include "node/logging.hpp"
#include "node/sip_transport.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace ward::node {
namespace {

/// Messages waiting for the writer beyond this are dropped and counted: the store, not
/// memory, is where a flood ends up being refused.
constexpr std::size_t max_queued = 20000;
/// The writer's batching window: one synced write per sender per window.
constexpr auto write_window = std::chrono::milliseconds(200);
/// A stream connection that sends nothing for this long is closed.
constexpr auto stream_idle_limit = std::chrono::minutes(10);
/// A TLS sender has this long for its handshake.
constexpr auto handshake_limit = std::chrono::seconds(10);

} // namespace

syslog_listener::syslog_listener(syslog_listener_options options)
    : options_(std::move(options)), slots_(options_.max_connections) {}

std::expected<std::unique_ptr<syslog_listener>, std::string>
syslog_listener::start(syslog_listener_options options) {
  if (!options.store || !options.time)
    return std::unexpected(std::string("syslog receiver needs a store and a clock"));
  if (options.transports.tls && !options.tls_context)
    return std::unexpected(std::string("syslog receiver over TLS needs a TLS context"));
  std::unique_ptr<syslog_listener> receiver(new syslog_listener(std::move(options)));
  std::string pipe_error;
  receiver->stop_ = cluster::make_wake_pipe(pipe_error);
  if (!pipe_error.empty())
    return std::unexpected("syslog receiver: " + pipe_error);
  if (auto bound = receiver->bind_all(); !bound)
    return std::unexpected(bound.error());
  receiver->writer_ = std::thread([raw = receiver.get()] { raw->write_loop(); });
  receiver->acceptor_ = std::thread([raw = receiver.get()] { raw->accept_loop(); });
  return receiver;
}

std::expected<void, std::string> syslog_listener::bind_all() {
  auto open = [&](bool wanted, std::uint16_t port, int type, cluster::unique_fd& fd,
                  std::uint16_t& bound) -> std::expected<void, std::string> {
    if (!wanted)
      return {};
    auto socket = bind_socket(options_.address, port, type);
    if (!socket)
      return std::unexpected(socket.error());
    fd = cluster::unique_fd(socket->first);
    bound = socket->second;
    return {};
  };
  const auto& want = options_.transports;
  if (auto done = open(want.tls, options_.tls_port, SOCK_STREAM, tls_fd_, tls_port_); !done)
    return done;
  if (auto done = open(want.tcp, options_.tcp_port, SOCK_STREAM, tcp_fd_, tcp_port_); !done)
    return done;
  return open(want.udp, options_.udp_port, SOCK_DGRAM, udp_fd_, udp_port_);
}

syslog_listener::~syslog_listener() {
  stopping_ = true;
  if (stop_.write_end) {
    char byte = 1;
    (void)::write(stop_.write_end.get(), &byte, 1);
  }
  if (acceptor_.joinable())
    acceptor_.join();
  queued_.notify_all();
  if (writer_.joinable())
    writer_.join();
}

void syslog_listener::set_tls(std::shared_ptr<SSL_CTX> context,
                              pki::client_certificate_check_fn check) {
  std::lock_guard lock(tls_mutex_);
  options_.tls_context = std::move(context);
  options_.tls_client_check = std::move(check);
}

syslog_listener_counts syslog_listener::counts() const {
  return {received_tls_.load(), received_tcp_.load(), received_udp_.load(),   malformed_.load(),
          rate_limited_.load(), queue_full_.load(),   storage_failed_.load(), refused_.load()};
}

bool syslog_listener::within_rate(const std::string& address) {
  const auto now = options_.time->now();
  const double rate = std::max<std::uint32_t>(options_.messages_per_second, 1);
  std::lock_guard lock(rate_mutex_);
  if (buckets_.size() > 4096)
    std::erase_if(buckets_, [&](const auto& entry) {
      return now - entry.second.refilled > std::chrono::minutes(1);
    });
  auto [it, fresh] = buckets_.try_emplace(address, bucket{2 * rate, now});
  auto& tokens = it->second;
  if (!fresh) {
    const std::chrono::duration<double> elapsed = now - tokens.refilled;
    tokens.tokens = std::min(2 * rate, tokens.tokens + elapsed.count() * rate);
    tokens.refilled = now;
  }
  if (tokens.tokens < 1)
    return false;
  tokens.tokens -= 1;
  return true;
}

void syslog_listener::take(std::string_view text, const cluster::syslog_origin& origin) {
  auto parsed = cluster::parse_syslog(text);
  if (!parsed) {
    ++malformed_;
    return;
  }
  if (!within_rate(origin.address)) {
    ++rate_limited_;
    return;
  }
  switch (origin.transport) {
    case cluster::syslog_intake_transport::tls:
      ++received_tls_;
      break;
    case cluster::syslog_intake_transport::tcp:
      ++received_tcp_;
      break;
    case cluster::syslog_intake_transport::udp:
      ++received_udp_;
      break;
  }
  {
    std::lock_guard lock(queue_mutex_);
    if (queue_.size() >= max_queued) {
      ++queue_full_;
      return;
    }
    queue_.emplace_back(origin, std::move(*parsed));
  }
  queued_.notify_one();
}

void syslog_listener::read_datagrams() {
  std::array<char, cluster::max_received_syslog + 1> buffer{};
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage from{};
    socklen_t length = sizeof from;
    auto got = ::recvfrom(udp_fd_.get(), buffer.data(), buffer.size(), MSG_TRUNC,
                          reinterpret_cast<sockaddr*>(&from), &length);
    if (got < 0)
      return;
    if (static_cast<std::size_t>(got) > cluster::max_received_syslog) {
      ++malformed_;
      continue;
    }
    auto sender = peer_of(from);
    take(std::string_view(buffer.data(), static_cast<std::size_t>(got)),
         {cluster::syslog_intake_transport::udp, sender.address, sender.port});
  }
}

void syslog_listener::serve_stream(cluster::unique_fd fd, cluster::syslog_origin origin) {
  cluster::syslog_stream_framer framer;
  std::array<char, 16384> chunk{};
  auto last_activity = std::chrono::steady_clock::now();
  bool open = true;
  while (open && !stopping_) {
    std::array<pollfd, 2> waiting{pollfd{fd.get(), POLLIN, 0},
                                  pollfd{stop_.read_end.get(), POLLIN, 0}};
    int ready = ::poll(waiting.data(), waiting.size(), 1000);
    if (ready <= 0 || waiting[1].revents) {
      if (std::chrono::steady_clock::now() - last_activity > stream_idle_limit)
        break;
      continue;
    }
    auto got = ::recv(fd.get(), chunk.data(), chunk.size(), 0);
    if (got <= 0)
      break;
    last_activity = std::chrono::steady_clock::now();
    framer.feed(std::string_view(chunk.data(), static_cast<std::size_t>(got)));
    while (true) {
      auto next = framer.next();
      if (!next) {
        // A stream that cannot be framed any more cannot be resynchronised either.
        ++malformed_;
        logger("syslog")->info("event=syslog_stream_closed peer={} cause={}",
                               join_host_port(origin.address, origin.port),
                               log_value(next.error().detail));
        open = false;
        break;
      }
      if (!*next)
        break;
      take(**next, origin);
    }
  }
}

void syslog_listener::serve_tls(cluster::unique_fd fd, cluster::syslog_origin origin) {
  std::shared_ptr<SSL_CTX> context;
  pki::client_certificate_check_fn check;
  {
    std::lock_guard lock(tls_mutex_);
    context = options_.tls_context;
    check = options_.tls_client_check;
  }
  const auto peer = join_host_port(origin.address, origin.port);
  auto refuse = [&](const std::string& cause) {
    if (options_.on_tls_failure)
      options_.on_tls_failure(peer, cause);
  };
  auto stream =
      cluster::tls_stream::create(std::move(fd), context.get(), cluster::tls_stream::role::server);
  if (!stream)
    return refuse("cannot set up TLS: " + stream.error().detail);
  auto shaken = (*stream)->handshake(std::chrono::steady_clock::now() + handshake_limit,
                                     stop_.read_end.get());
  if (shaken.kind == cluster::tls_outcome::failed)
    return refuse(shaken.cause);
  if (shaken.kind != cluster::tls_outcome::done)
    return;
  if (check)
    if (auto refused = check(cluster::peer_certificates((*stream)->native()), peer))
      return refuse("client certificate refused: " + *refused);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
    return;
  cluster::unique_fd plain(pair[0]);
  cluster::unique_fd ours(pair[1]);
  std::thread reader([this, plain = std::move(plain), origin]() mutable {
    serve_stream(std::move(plain), origin);
  });
  auto pumped = (*stream)->pump(ours.get(), stop_.read_end.get());
  (*stream)->finish(pumped);
  ours = cluster::unique_fd();
  reader.join();
}

void syslog_listener::accept_loop() {
  while (!stopping_) {
    readers_.reap();
    std::array<pollfd, 4> waiting{
        pollfd{tls_fd_.get(), POLLIN, 0}, pollfd{tcp_fd_.get(), POLLIN, 0},
        pollfd{udp_fd_.get(), POLLIN, 0}, pollfd{stop_.read_end.get(), POLLIN, 0}};
    if (::poll(waiting.data(), waiting.size(), 500) <= 0)
      continue;
    if (waiting[3].revents)
      break;
    if (waiting[2].revents & POLLIN)
      read_datagrams();
    for (std::size_t which = 0; which < 2; ++which) {
      if (!(waiting[which].revents & POLLIN))
        continue;
      sockaddr_storage from{};
      socklen_t length = sizeof from;
      int accepted = ::accept4(waiting[which].fd, reinterpret_cast<sockaddr*>(&from), &length,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (accepted < 0)
        continue;
      cluster::unique_fd fd(accepted);
      auto sender = peer_of(from);
      if (!slots_.admit(sender.address)) {
        ++refused_;
        continue;
      }
      const bool tls = which == 0;
      cluster::syslog_origin origin{tls ? cluster::syslog_intake_transport::tls
                                        : cluster::syslog_intake_transport::tcp,
                                    sender.address, sender.port};
      readers_.spawn([this, fd = std::move(fd), origin, tls]() mutable {
        if (tls)
          serve_tls(std::move(fd), origin);
        else
          serve_stream(std::move(fd), origin);
        slots_.release(origin.address);
      });
    }
  }
  readers_.join_all();
}

void syslog_listener::write_loop() {
  while (true) {
    std::vector<std::pair<cluster::syslog_origin, cluster::received_syslog>> batch;
    {
      std::unique_lock lock(queue_mutex_);
      queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_)
        return;
    }
    // Whatever else arrives within the window goes into the same synced write.
    if (!stopping_)
      std::this_thread::sleep_for(write_window);
    {
      std::lock_guard lock(queue_mutex_);
      batch.swap(queue_);
    }
    write_batch(std::move(batch));
  }
}

void syslog_listener::write_batch(
    std::vector<std::pair<cluster::syslog_origin, cluster::received_syslog>> batch) {
  const auto received = options_.time->now();
  std::map<std::string, std::vector<security::audit_record>> per_sender;
  for (auto& [origin, message] : batch) {
    auto name = cluster::syslog_store_name(origin.address);
    auto [next, fresh] = next_sequence_.try_emplace(name, 0);
    if (fresh)
      next->second = options_.store->stored_up_to(name) + 1;
    per_sender[name].push_back(cluster::to_event_record(message, origin, next->second++, received));
  }
  for (auto& [name, records] : per_sender) {
    auto stored = options_.store->store(name, records);
    if (stored && *stored == records.back().sequence)
      continue;
    // Start again from what the store holds, so the next batch leaves no gap.
    storage_failed_ += records.size();
    next_sequence_.erase(name);
    logger("syslog")->error(
        "event=syslog_store_failed sender={} messages={} cause={}", name, records.size(),
        log_value(stored ? std::string("stored only up to ") + std::to_string(*stored)
                         : stored.error().detail));
  }
}

} // namespace ward::node
