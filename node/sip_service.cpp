#include "node/sip_service.hpp"

#include "node/logging.hpp"
#include "node/tls_pump.hpp"
#include "telephony/dial_plan.hpp"
#include "telephony/sip_message.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include <cerrno>
#include <cstring>
#include <future>
#include <unordered_map>

namespace ward::node {
namespace {

constexpr std::size_t batch = 32;
constexpr std::size_t max_datagram = 65'536;
/// How long a response is kept for retransmissions of its request (RFC 3261 Timer J).
constexpr auto retransmission_window = std::chrono::seconds(32);
constexpr std::size_t max_cached_responses = 200'000;

std::string hex_token(const random_source& random, std::size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::vector<std::byte> raw(bytes);
  random(raw);
  std::string out;
  for (auto b : raw) {
    out += digits[std::to_integer<unsigned>(b) >> 4];
    out += digits[std::to_integer<unsigned>(b) & 0xf];
  }
  return out;
}

struct peer {
  std::string address;
  std::uint16_t port = 0;
};

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

std::expected<std::pair<int, std::uint16_t>, std::string>
bind_socket(const std::string& address, std::uint16_t port, int type) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (address.find(':') != std::string::npos) {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(storage);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    if (::inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr) != 1)
      return std::unexpected("not an IP address: " + address);
    length = sizeof v6;
  } else {
    auto& v4 = reinterpret_cast<sockaddr_in&>(storage);
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &v4.sin_addr) != 1)
      return std::unexpected("not an IP address: " + address);
    length = sizeof v4;
  }
  int fd = ::socket(storage.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return std::unexpected(std::string("cannot create a socket: ") + std::strerror(errno));
  int yes = 1;
  if (type == SOCK_STREAM)
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  // Bursts of registrations must not overflow the socket while the worker answers a batch.
  int buffer = 4 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
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

} // namespace

void directory_feed::publish(telephony::telephony_directory_data data) {
  auto fresh = std::make_shared<const telephony::telephony_directory_data>(std::move(data));
  std::lock_guard lock(mutex_);
  data_ = std::move(fresh);
}

std::shared_ptr<const telephony::telephony_directory_data> directory_feed::current() const {
  std::lock_guard lock(mutex_);
  return data_;
}

std::expected<std::unique_ptr<sip_service>, std::string>
sip_service::start(sip_service_options options) {
  std::array<std::byte, 32> secret{};
  options.random(secret);
  std::array<std::byte, 8> seed{};
  options.random(seed);
  std::uint64_t hash_seed = 0;
  for (auto b : seed)
    hash_seed = (hash_seed << 8) | std::to_integer<std::uint64_t>(b);
  options.guard.hash_seed = hash_seed;
  telephony::registrar_settings registrar_settings;
  if (options.prefer_md5)
    registrar_settings.preferred = telephony::digest_algorithm::md5;
  registrar_settings.offer_sha256 = !options.md5_only;
  auto registrar = telephony::registrar::create(
      telephony::nonce_authority(secret, options.realm, options.nonce_lifetime),
      registrar_settings);
  if (!registrar)
    return std::unexpected("registrar: " + registrar.error().detail);
  auto guard = telephony::sip_guard::create(options.guard);
  if (!guard)
    return std::unexpected("guard: " + guard.error().detail);
  auto bound = bind_socket(options.address, options.udp_port, SOCK_DGRAM);
  if (!bound)
    return std::unexpected(bound.error());
  auto tcp = bind_socket(options.address, options.tcp_port, SOCK_STREAM);
  if (!tcp) {
    ::close(bound->first);
    return std::unexpected(tcp.error());
  }
  if (!options.tls_context) {
    ::close(bound->first);
    ::close(tcp->first);
    return std::unexpected("no TLS context for SIP over TLS");
  }
  auto tls = bind_socket(options.address, options.tls_port, SOCK_STREAM);
  if (!tls) {
    ::close(bound->first);
    ::close(tcp->first);
    return std::unexpected(tls.error());
  }
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int stop[2] = {-1, -1};
  if (wake < 0 || ::pipe2(stop, O_CLOEXEC | O_NONBLOCK) != 0) {
    for (int fd : {bound->first, tcp->first, tls->first, wake, stop[0], stop[1]})
      if (fd >= 0)
        ::close(fd);
    return std::unexpected(std::string("cannot create wake descriptors: ") + std::strerror(errno));
  }
  return std::unique_ptr<sip_service>(new sip_service(
      std::move(options), bound->first, bound->second, tcp->first, tcp->second, tls->first,
      tls->second, wake, stop[0], stop[1], std::move(*registrar), std::move(*guard)));
}

/// One SIP over TCP connection: the reader thread frames messages, the worker writes the
/// responses.
struct sip_service::tcp_connection {
  int fd = -1;
  telephony::transport kind = telephony::transport::tcp;
  std::string address;
  std::uint16_t port = 0;
  std::mutex write_mutex;
  std::atomic<bool> closed{false};

  /// Writes `text` whole, waiting at most 2 s for a slow reader; closes on failure.
  void send(const std::string& text) {
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
};

sip_service::sip_service(sip_service_options options, int fd, std::uint16_t port, int tcp_fd,
                         std::uint16_t tcp_port, int tls_fd, std::uint16_t tls_port, int wake_fd,
                         int stop_read, int stop_write, telephony::registrar registrar,
                         telephony::sip_guard guard)
    : options_(std::move(options)), fd_(fd), port_(port), registrar_(std::move(registrar)),
      guard_(std::move(guard)), tcp_fd_(tcp_fd), tcp_port_(tcp_port), tls_fd_(tls_fd),
      tls_port_(tls_port), stop_read_(stop_read), stop_write_(stop_write), wake_fd_(wake_fd),
      acceptor_([this] { accept_tcp(); }), worker_([this] { run(); }) {}

void sip_service::set_tls_context(std::shared_ptr<SSL_CTX> context) {
  std::lock_guard lock(tls_context_mutex_);
  options_.tls_context = std::move(context);
}

bool sip_service::admit_stream(const std::string& address) {
  std::lock_guard lock(tcp_mutex_);
  // Slots are shared, a quarter at most per address, so one host cannot take them all.
  if (tcp_open_ >= options_.max_tcp_connections ||
      tcp_per_address_[address] >= std::max<std::size_t>(1, options_.max_tcp_connections / 4)) {
    if (tcp_per_address_[address] == 0)
      tcp_per_address_.erase(address);
    return false;
  }
  ++tcp_open_;
  ++tcp_per_address_[address];
  return true;
}

void sip_service::serve_tls(int fd, std::string address, std::uint16_t port) {
  std::shared_ptr<SSL_CTX> context;
  {
    std::lock_guard lock(tls_context_mutex_);
    context = options_.tls_context;
  }
  auto release = [&] {
    std::lock_guard lock(tcp_mutex_);
    --tcp_open_;
    if (--tcp_per_address_[address] == 0)
      tcp_per_address_.erase(address);
  };
  auto stream = tls_stream::create(unique_fd(fd), context.get(), tls_stream::role::server);
  if (!stream) {
    release();
    return;
  }
  auto shaken =
      (*stream)->handshake(std::chrono::steady_clock::now() + std::chrono::seconds(10), stop_read_);
  int pair[2];
  if (shaken.kind != tls_outcome::done ||
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
    release();
    return;
  }
  // The decrypted side is served like any TCP connection, tagged as TLS; its slot is
  // released by that reader.
  auto connection = std::make_shared<tcp_connection>();
  connection->fd = pair[0];
  connection->address = address;
  connection->port = port;
  connection->kind = telephony::transport::tls;
  std::thread reader([this, connection] { serve_tcp(connection); });
  unique_fd ours(pair[1]);
  auto pumped = (*stream)->pump(ours.get(), stop_read_);
  (*stream)->finish(pumped);
  ours = unique_fd();
  reader.join();
}

void sip_service::accept_tcp() {
  auto spawn = [this](std::function<void()> work) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    tcp_readers_.push_back({std::thread([work = std::move(work), done] {
                              work();
                              *done = true;
                            }),
                            done});
  };
  while (!stopping_) {
    {
      // Ended readers are joined as we go, so a busy node does not keep their threads.
      std::vector<reader> ended;
      {
        std::lock_guard lock(tcp_mutex_);
        for (auto it = tcp_readers_.begin(); it != tcp_readers_.end();)
          if (*it->done) {
            ended.push_back(std::move(*it));
            it = tcp_readers_.erase(it);
          } else {
            ++it;
          }
      }
      for (auto& finished : ended)
        finished.thread.join();
    }
    std::array<pollfd, 2> waiting{pollfd{tcp_fd_, POLLIN, 0}, pollfd{tls_fd_, POLLIN, 0}};
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
      if (!admit_stream(who.address)) {
        ::close(fd);
        ++dropped_;
        continue;
      }
      std::lock_guard lock(tcp_mutex_);
      if (which == 1) {
        spawn([this, fd, address = who.address, port = who.port] { serve_tls(fd, address, port); });
        continue;
      }
      auto connection = std::make_shared<tcp_connection>();
      connection->fd = fd;
      connection->address = who.address;
      connection->port = who.port;
      spawn([this, connection] { serve_tcp(connection); });
    }
  }
  std::vector<reader> readers;
  {
    std::lock_guard lock(tcp_mutex_);
    readers.swap(tcp_readers_);
  }
  for (auto& finished : readers)
    finished.thread.join();
}

namespace {

/// The length of the first whole SIP message at the start of `buffer` (RFC 3261 18.3: over
/// a stream, Content-Length frames the body); 0 while incomplete; nullopt when the framing
/// is broken (no or a bad Content-Length, oversized).
std::optional<std::size_t> framed_length(std::string_view buffer) {
  auto end = buffer.find("\r\n\r\n");
  if (end == std::string_view::npos)
    return buffer.size() > max_datagram ? std::nullopt : std::optional<std::size_t>{0};
  auto headers = buffer.substr(0, end + 2);
  std::optional<std::size_t> body;
  std::size_t at = 0;
  while (at < headers.size()) {
    auto line_end = headers.find("\r\n", at);
    auto line = headers.substr(at, line_end - at);
    at = line_end + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
      name.remove_suffix(1);
    std::string lower(name);
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower != "content-length" && lower != "l")
      continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    std::size_t length = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec != std::errc{})
      return std::nullopt;
    body = length;
  }
  if (!body || end + 4 + *body > max_datagram)
    return std::nullopt;
  return buffer.size() >= end + 4 + *body ? std::optional<std::size_t>{end + 4 + *body}
                                          : std::optional<std::size_t>{0};
}

} // namespace

void sip_service::serve_tcp(std::shared_ptr<tcp_connection> connection) {
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
      // Keep-alive CRLFs between messages (RFC 5626) are not messages.
      auto skip = buffer.find_first_not_of("\r\n");
      buffer.erase(0, skip == std::string::npos ? buffer.size() : skip);
      auto length = framed_length(buffer);
      if (!length) {
        broken = true;
        break;
      }
      if (*length == 0)
        break;
      {
        std::lock_guard lock(tcp_mutex_);
        tcp_inbox_.push_back({connection->kind, buffer.substr(0, *length), connection->address,
                              connection->port, connection});
      }
      std::uint64_t one = 1;
      (void)::write(wake_fd_, &one, sizeof one);
      buffer.erase(0, *length);
    }
    if (broken) {
      ++malformed_;
      break;
    }
  }
  connection->closed = true;
  {
    std::lock_guard write(connection->write_mutex);
    ::close(connection->fd);
  }
  std::lock_guard lock(tcp_mutex_);
  --tcp_open_;
  if (--tcp_per_address_[connection->address] == 0)
    tcp_per_address_.erase(connection->address);
}

void sip_service::stop() {
  stopping_ = true;
  char byte = 1;
  (void)::write(stop_write_, &byte, 1);
  std::call_once(stopped_, [this] {
    if (acceptor_.joinable())
      acceptor_.join();
    if (worker_.joinable())
      worker_.join();
  });
}

sip_service::~sip_service() {
  stop();
  ::close(fd_);
  ::close(tcp_fd_);
  ::close(tls_fd_);
  ::close(wake_fd_);
  ::close(stop_read_);
  ::close(stop_write_);
}

sip_service::blacklist_snapshot sip_service::blacklists() const {
  std::lock_guard lock(bindings_mutex_);
  return blacklists_;
}

std::expected<bool, std::string> sip_service::reset_blacklist(bool address, std::string key) {
  auto done = std::make_shared<std::promise<bool>>();
  auto answer = done->get_future();
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back([this, done, address, key = std::move(key)] {
      done->set_value(address ? guard_.reset_address(key) : guard_.reset_extension(key));
    });
  }
  if (answer.wait_for(std::chrono::seconds(3)) != std::future_status::ready)
    return std::unexpected("the SIP worker did not answer");
  return answer.get();
}

void sip_service::apply_remote(telephony::guard_event event) {
  std::lock_guard lock(commands_mutex_);
  commands_.push_back(
      [this, event = std::move(event)] { guard_.apply_remote(event, options_.time->now()); });
}

std::vector<telephony::registration_binding> sip_service::bindings() const {
  std::lock_guard lock(bindings_mutex_);
  return bindings_;
}

void sip_service::deliver_from_line(std::string node, std::string text) {
  if (text.size() > max_datagram)
    return;
  {
    std::lock_guard lock(tcp_mutex_);
    tcp_message message;
    message.kind = telephony::transport::line;
    message.text = std::move(text);
    message.node = std::move(node);
    tcp_inbox_.push_back(std::move(message));
  }
  std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
}

void sip_service::apply_locations(std::string node, std::vector<std::string> extensions) {
  std::ranges::sort(extensions);
  std::lock_guard lock(commands_mutex_);
  commands_.push_back([this, node = std::move(node), extensions = std::move(extensions)]() mutable {
    locations_[node] = remote_locations{std::move(extensions), options_.time->now()};
  });
}

std::vector<telephony::call_view> sip_service::calls() const {
  std::lock_guard lock(bindings_mutex_);
  return calls_;
}

std::pair<std::size_t, std::size_t> sip_service::media_capacity() const {
  std::lock_guard lock(bindings_mutex_);
  return media_capacity_;
}

namespace {

/// The node's RTP relay as the B2BUA's media anchor.
class relay_anchor final : public telephony::media_anchor {
public:
  relay_anchor(std::shared_ptr<media::relay_pool> relay, std::string address)
      : relay_(std::move(relay)), address_(std::move(address)) {}
  std::string address() const override { return address_; }
  std::expected<ports, telephony::error> allocate() override {
    if (!relay_)
      return std::unexpected(telephony::error{telephony::errc::media_unavailable, "no media relay"});
    auto allocation = relay_->allocate();
    if (!allocation)
      return std::unexpected(
          telephony::error{telephony::errc::media_unavailable, allocation.error().detail});
    return ports{allocation->id, allocation->port_a, allocation->port_b};
  }
  void set_peer(std::uint64_t id, bool caller, const std::string& address,
                std::uint16_t port) override {
    if (relay_)
      (void)relay_->set_peer(id, caller ? media::relay_leg::a : media::relay_leg::b,
                             media::media_endpoint{address, port});
  }
  void release(std::uint64_t id) override {
    if (relay_)
      relay_->release(id);
  }
  void set_crypto(std::uint64_t id, bool caller, const std::optional<leg_keys>& keys) override {
    if (!relay_)
      return;
    std::optional<media::leg_crypto> crypto;
    if (keys)
      crypto = media::leg_crypto{keys->inbound, keys->outbound};
    (void)relay_->set_crypto(id, caller ? media::relay_leg::a : media::relay_leg::b, crypto);
  }

private:
  std::shared_ptr<media::relay_pool> relay_;
  std::string address_;
};

std::optional<sockaddr_storage> socket_address(const std::string& address, std::uint16_t port) {
  sockaddr_storage storage{};
  if (address.find(':') != std::string::npos) {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(storage);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    if (::inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr) != 1)
      return std::nullopt;
    return storage;
  }
  auto& v4 = reinterpret_cast<sockaddr_in&>(storage);
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &v4.sin_addr) != 1)
    return std::nullopt;
  return storage;
}

std::string stream_key(const telephony::sip_endpoint& endpoint) {
  return std::string(telephony::to_string(endpoint.kind)) + "|" +
         telephony::endpoint_text(endpoint);
}

constexpr std::string_view allowed_methods = "INVITE, ACK, BYE, CANCEL, REGISTER, OPTIONS";

} // namespace

void sip_service::run() {
  auto log = logger("sip");
  std::vector<std::array<char, max_datagram>> buffers(batch);
  std::array<mmsghdr, batch> messages{};
  std::array<iovec, batch> vectors{};
  std::array<sockaddr_storage, batch> sources{};
  struct cached {
    std::string response;
    clock::time_point until;
  };
  std::unordered_map<std::string, cached> responses;
  std::vector<std::pair<std::string, sockaddr_storage>> outgoing;
  /// Stream connections by transport and peer, so requests reach phones on TCP and TLS.
  std::unordered_map<std::string, std::weak_ptr<tcp_connection>> streams;
  auto last_sweep = options_.time->now();
  auto last_publish = last_sweep;
  auto last_tick = last_sweep;
  auto last_announce = clock::time_point{};
  auto last_media_alarm = clock::time_point{};
  std::uint64_t auth_failed_seen = 0;
  std::vector<std::string> announced;
  bool bindings_changed = true;

  relay_anchor anchor(options_.relay, options_.address);
  telephony::b2bua_settings call_settings;
  call_settings.node = options_.node;
  call_settings.address = options_.address;
  call_settings.udp_port = port_;
  call_settings.tcp_port = tcp_port_;
  call_settings.tls_port = tls_port_;
  call_settings.ring_timeout = options_.ring_timeout;
  call_settings.max_calls = options_.max_calls;
  // SPEC MED-4: one unit per relay session; an SRTP call takes two.
  call_settings.media_capacity = options_.relay ? options_.relay->stats().max_sessions : 0;
  telephony::b2bua calls(call_settings, anchor);
  bool strict_sips = false;
  std::optional<std::pair<std::uint16_t, std::uint16_t>> allowed_rtp_ports;

  auto dispatch = [&](std::vector<telephony::sip_send>& sends) {
    for (auto& send : sends) {
      switch (send.to.kind) {
        case telephony::transport::udp:
          if (auto target = socket_address(send.to.address, send.to.port))
            outgoing.emplace_back(std::move(send.text), *target);
          break;
        case telephony::transport::tcp:
        case telephony::transport::tls:
          if (auto it = streams.find(stream_key(send.to)); it != streams.end())
            if (auto connection = it->second.lock(); connection && !connection->closed)
              connection->send(send.text);
          break;
        case telephony::transport::line:
          if (options_.send_over_line)
            options_.send_over_line(send.to.node, std::move(send.text));
          break;
      }
    }
    sends.clear();
  };

  // Where an extension is registered: its newest binding here, else a node whose location
  // table lists it (SPEC SIP-6). Calls that came over a line are only delivered here.
  auto locate = [&](const std::string& extension, bool local_only,
                    clock::time_point now) -> telephony::call_target {
    telephony::call_target target;
    target.extension = extension;
    auto here = registrar_.lookup(extension, now);
    if (!here.empty()) {
      target.binding =
          *std::ranges::max_element(here, {}, &telephony::registration_binding::expires_at);
      return target;
    }
    if (local_only)
      return target;
    for (const auto& [node, entry] : locations_)
      if (node != options_.node && now - entry.refreshed < std::chrono::minutes(1) &&
          std::ranges::binary_search(entry.extensions, extension)) {
        target.node = node;
        break;
      }
    return target;
  };

  std::vector<telephony::sip_send> sends;
  // One message from `from`: the guard first, then the parser, then the B2BUA's dialogs, then
  // the method. What it answers or sends goes into `sends`.
  auto process = [&](std::string_view data, const telephony::sip_endpoint& from,
                     clock::time_point now, const telephony::telephony_directory_data& directory) {
    bool from_line = from.kind == telephony::transport::line;
    // The guard decides before anything is parsed: blacklisted, refused and flooding
    // sources cost one lookup (SPEC SIP-4). Lines are authenticated nodes.
    if (!from_line && guard_.admit(from.address, now) != telephony::guard_verdict::pass) {
      ++dropped_;
      return;
    }
    if (data.size() <= 4)
      return; // keep-alives
    // STUN keep-alives (RFC 5626 section 4.4.2) carry the magic cookie; phones send them to
    // the SIP port, and they are not malformed SIP.
    if (data.size() >= 20 && static_cast<unsigned char>(data[0]) < 2 &&
        data.substr(4, 4) == std::string_view("\x21\x12\xa4\x42", 4))
      return;
    bool is_request = telephony::first_line_method(data).has_value();
    if (!is_request && !data.starts_with("SIP/2.0 ")) {
      // Neither a request line nor a status line: not SIP at all.
      ++malformed_;
      if (!from_line)
        guard_.record_malformed(from.address, now);
      return;
    }
    auto message = telephony::parse_sip_message(data);
    if (!message) {
      ++malformed_;
      if (!from_line)
        guard_.record_malformed(from.address, now);
      return;
    }
    auto received_address = from_line ? std::string_view() : std::string_view(from.address);
    auto received_port = from_line ? std::uint16_t{0} : from.port;
    if (!message->is_request) {
      if (auto answer = calls.handle(*message, from, now, options_.random))
        sends.insert(sends.end(), std::make_move_iterator(answer->begin()),
                     std::make_move_iterator(answer->end()));
      return;
    }
    // SPEC SIP-4: scanners announce themselves; they get no answer at all.
    if (!from_line && !telephony::user_agent_permitted(directory.policy, message->user_agent)) {
      ++refused_user_agents_;
      guard_.record_malformed(from.address, now);
      return;
    }
    if (auto answer = calls.handle(*message, from, now, options_.random)) {
      sends.insert(sends.end(), std::make_move_iterator(answer->begin()),
                   std::make_move_iterator(answer->end()));
      return;
    }
    if (message->method == "ACK")
      return;
    auto reply = [&](int code, std::string_view reason,
                     const std::vector<std::pair<std::string, std::string>>& headers = {}) {
      auto text =
          telephony::build_response(*message, code, reason, headers, hex_token(options_.random, 8),
                                    received_address, received_port);
      sends.push_back({from, std::move(text)});
    };
    // SPEC SIP-4: a blacklisted extension neither registers nor calls, whatever password it
    // offers, until the blacklisting lapses or is reset.
    if (!from_line && (message->method == "REGISTER" || message->method == "INVITE")) {
      const auto& extension =
          message->method == "REGISTER" ? message->to.uri.user : message->from.uri.user;
      if (!extension.empty() && guard_.is_extension_blacklisted(extension, now))
        return reply(403, "Forbidden");
    }
    if (message->method == "INVITE") {
      if (!message->to.tag.empty())
        return reply(481, "Call/Transaction Does Not Exist");
      std::string caller;
      if (from_line) {
        caller = message->from.uri.user;
      } else {
        auto outcome = registrar_.authorize_request(*message, directory, now, options_.random);
        if (outcome.auth_failure)
          guard_.record_auth_failure(from.address, outcome.extension, now);
        if (outcome.code != 200)
          return reply(outcome.code, outcome.reason, outcome.headers);
        guard_.record_auth_success(from.address, outcome.extension);
        caller = outcome.extension;
      }
      auto route = telephony::route_dialled(directory, caller, message->request_uri.user);
      if (route.outcome == telephony::dial_outcome::unknown)
        return reply(404, "Not Found");
      if (route.outcome == telephony::dial_outcome::barred)
        return reply(403, "Forbidden");
      // SPEC MED-2, TF-2: an emergency call, dialled here or marked so by the node that
      // passed it over a line (a phone's own Priority header is not trusted).
      const bool emergency = route.outcome == telephony::dial_outcome::emergency ||
                             (from_line && message->priority == "emergency");
      if (emergency) {
        ++emergency_calls_;
        log->warn("event=emergency_call caller={} dialled={} route={}", caller,
                  message->request_uri.user, route.extension.empty() ? "-" : route.extension);
        if (options_.on_emergency_call)
          options_.on_emergency_call(caller, message->request_uri.user, route.extension);
        if (route.extension.empty())
          return reply(503, "Service Unavailable",
                       {{"Warning", "399 ward \"no emergency route is configured\""}});
      }
      auto target = locate(route.extension, from_line, now);
      if (!target.binding && target.node.empty())
        return reply(480, "Temporarily Unavailable");
      // SPEC MED-2: each leg's media security: the extension's override, or the line's for a
      // leg that is a cluster line, else the system setting.
      telephony::call_media_policy media_policy;
      media_policy.caller = from_line ? telephony::media_security_for_line(directory, from.node)
                                      : telephony::media_security_for_extension(directory, caller);
      media_policy.callee =
          target.binding ? telephony::media_security_for_extension(directory, target.extension)
                         : telephony::media_security_for_line(directory, target.node);
      media_policy.emergency = emergency;
      // SPEC MED-3: direct media only between phones on this node's own network.
      auto remote_worker = [&](const std::string& number) {
        auto it = directory.extensions.find(number);
        return it != directory.extensions.end() && !it->second.remote_worker_address.empty();
      };
      media_policy.direct_media = directory.policy.direct_media && !from_line &&
                                  target.binding.has_value() && !remote_worker(caller) &&
                                  !remote_worker(target.extension);
      ++calls_started_;
      auto started =
          calls.start_call(*message, from, caller, target, now, options_.random, media_policy);
      direct_calls_.store(calls.direct_calls_started());
      sends.insert(sends.end(), std::make_move_iterator(started.begin()),
                   std::make_move_iterator(started.end()));
      return;
    }
    if (message->method == "BYE" || message->method == "CANCEL")
      return reply(481, "Call/Transaction Does Not Exist");

    auto source = telephony::endpoint_text(from);
    std::string key = (message->vias.empty() ? std::string{} : message->vias.front().branch) + "|" +
                      source + "|" + message->method + "|" + std::to_string(message->cseq);
    if (auto hit = responses.find(key); hit != responses.end() && hit->second.until > now) {
      sends.push_back({from, hit->second.response});
      return;
    }
    std::string response;
    auto tag = hex_token(options_.random, 8);
    if (message->method == "REGISTER" && !from_line) {
      // SPEC SIP-5: a remote worker's extension registers from its pinned address only, and
      // only over TLS while remote workers are enabled.
      const auto& number = message->to.uri.user;
      if (auto it = directory.extensions.find(number);
          it != directory.extensions.end() && !it->second.remote_worker_address.empty() &&
          (it->second.remote_worker_address != from.address ||
           (directory.policy.remote_workers && from.kind != telephony::transport::tls))) {
        guard_.record_auth_failure(from.address, number, now);
        response = telephony::build_response(*message, 403, "Forbidden",
                                             {{"Warning", "399 ward \"remote worker rules\""}}, tag,
                                             received_address, received_port);
      } else {
        auto outcome = registrar_.handle_register(*message, source, from.kind, directory, now,
                                                  options_.random);
        if (outcome.auth_failure)
          guard_.record_auth_failure(from.address, outcome.extension, now);
        else if (outcome.code == 200) {
          guard_.record_auth_success(from.address, outcome.extension);
          bindings_changed = true;
          if (outcome.auto_created && options_.on_auto_create)
            options_.on_auto_create(outcome.extension, source);
        }
        response = telephony::build_response(*message, outcome.code, outcome.reason,
                                             outcome.headers, tag, received_address, received_port);
      }
    } else if (message->method == "OPTIONS") {
      response = telephony::build_response(
          *message, 200, "OK",
          {{"Allow", std::string(allowed_methods)}, {"Accept", "application/sdp"}}, tag,
          received_address, received_port);
    } else {
      response = telephony::build_response(*message, 501, "Not Implemented",
                                           {{"Allow", std::string(allowed_methods)}}, tag,
                                           received_address, received_port);
    }
    if (responses.size() < max_cached_responses)
      responses[key] = cached{response, now + retransmission_window};
    sends.push_back({from, std::move(response)});
  };

  while (!stopping_) {
    std::array<pollfd, 2> waiting{pollfd{fd_, POLLIN, 0}, pollfd{wake_fd_, POLLIN, 0}};
    int ready = ::poll(waiting.data(), waiting.size(), 100);
    auto now = options_.time->now();
    auto directory = options_.directory->current();
    if (directory->policy.strict_sips != strict_sips) {
      strict_sips = directory->policy.strict_sips;
      calls.set_strict_sips(strict_sips);
    }
    // SPEC SIP-5, MED-3: the cluster's RTP port range bounds new relay sessions inside the
    // node's own media.rtp_ports.
    if (const auto wanted =
            std::pair{directory->policy.rtp_port_min, directory->policy.rtp_port_max};
        options_.relay && allowed_rtp_ports != wanted) {
      allowed_rtp_ports = wanted;
      options_.relay->set_allowed_ports(media::rtp_port_range{wanted.first, wanted.second});
      if (options_.relay->stats().max_sessions == 0)
        log->error("event=rtp_ports_disjoint allowed={}-{}: no port of media.rtp_ports lies in "
                   "the cluster's RTP port range; calls needing the relay get 503",
                   wanted.first, wanted.second);
    }
    if (ready > 0 && (waiting[1].revents & POLLIN)) {
      std::uint64_t count = 0;
      (void)::read(wake_fd_, &count, sizeof count);
      std::vector<tcp_message> inbox;
      {
        std::lock_guard lock(tcp_mutex_);
        inbox.swap(tcp_inbox_);
      }
      for (auto& message : inbox) {
        ++datagrams_;
        telephony::sip_endpoint from{message.kind, message.address, message.port, message.node};
        if (message.connection)
          streams[stream_key(from)] = message.connection;
        process(message.text, from, now, *directory);
      }
    }
    if (ready > 0 && (waiting[0].revents & POLLIN)) {
      for (std::size_t i = 0; i < batch; ++i) {
        vectors[i] = {buffers[i].data(), buffers[i].size()};
        messages[i] = {};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &sources[i];
        messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      }
      int received = ::recvmmsg(fd_, messages.data(), batch, MSG_DONTWAIT, nullptr);
      for (int i = 0; i < received; ++i) {
        ++datagrams_;
        std::string_view data(buffers[i].data(), messages[i].msg_len);
        auto who = peer_of(sources[i]);
        process(data, telephony::sip_endpoint{telephony::transport::udp, who.address, who.port, {}},
                now, *directory);
      }
    }
    if (now - last_tick >= std::chrono::milliseconds(50)) {
      last_tick = now;
      auto due = calls.tick(now, options_.random);
      sends.insert(sends.end(), std::make_move_iterator(due.begin()),
                   std::make_move_iterator(due.end()));
      for (auto& [view, end] : calls.drain_ended()) {
        if (view.answered != clock::time_point{})
          ++calls_answered_;
        if (options_.on_call_ended)
          options_.on_call_ended(view, end);
      }
      bindings_changed = true;
    }
    dispatch(sends);
    if (!outgoing.empty()) {
      std::vector<mmsghdr> out(outgoing.size());
      std::vector<iovec> out_vectors(outgoing.size());
      for (std::size_t i = 0; i < outgoing.size(); ++i) {
        out_vectors[i] = {outgoing[i].first.data(), outgoing[i].first.size()};
        out[i] = {};
        out[i].msg_hdr.msg_iov = &out_vectors[i];
        out[i].msg_hdr.msg_iovlen = 1;
        out[i].msg_hdr.msg_name = &outgoing[i].second;
        out[i].msg_hdr.msg_namelen =
            outgoing[i].second.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
      }
      (void)::sendmmsg(fd_, out.data(), static_cast<unsigned>(out.size()), MSG_DONTWAIT);
      outgoing.clear();
    }
    std::vector<std::function<void()>> commands;
    {
      std::lock_guard lock(commands_mutex_);
      commands.swap(commands_);
    }
    for (auto& command : commands) {
      command();
      bindings_changed = true;
    }
    for (auto& event : guard_.drain_events())
      if (options_.on_guard_event)
        options_.on_guard_event(event);
    if (now - last_sweep >= std::chrono::seconds(1)) {
      last_sweep = now;
      bindings_changed = true;
      if (!registrar_.expire(now).empty())
        bindings_changed = true;
      std::erase_if(responses, [now](const auto& entry) { return entry.second.until <= now; });
      std::erase_if(streams, [](const auto& entry) { return entry.second.expired(); });
      // SPEC MED-5: a burst of packets failing SRTP authentication is an attack on a call.
      if (options_.relay) {
        auto failed = options_.relay->stats().packets_auth_failed;
        auto burst = failed - auth_failed_seen;
        auth_failed_seen = failed;
        if (burst >= options_.srtp_auth_failure_alarm_per_second && options_.on_media_alarm &&
            now - last_media_alarm >= std::chrono::minutes(1)) {
          last_media_alarm = now;
          options_.on_media_alarm(std::to_string(burst) +
                                  " SRTP packets failed authentication or replay checks in one "
                                  "second and were dropped");
        }
      }
    }
    // Published at most four times a second: under load the list is rebuilt rarely.
    if (bindings_changed && now - last_publish >= std::chrono::milliseconds(250)) {
      last_publish = now;
      auto current = registrar_.bindings(now);
      blacklist_snapshot lists{guard_.blacklisted_addresses(now),
                               guard_.blacklisted_extensions(now)};
      std::vector<std::string> registered;
      for (const auto& binding : current)
        if (registered.empty() || registered.back() != binding.extension)
          registered.push_back(binding.extension);
      if (options_.on_locations &&
          (registered != announced || now - last_announce >= std::chrono::seconds(20))) {
        announced = registered;
        last_announce = now;
        options_.on_locations(std::move(registered));
      }
      auto active = calls.calls();
      std::pair<std::size_t, std::size_t> capacity{calls.media_units(), calls.media_capacity()};
      std::lock_guard lock(bindings_mutex_);
      media_capacity_ = capacity;
      bindings_ = std::move(current);
      blacklists_ = std::move(lists);
      calls_ = std::move(active);
      bindings_changed = false;
    }
  }
  log->info("event=sip_stopped datagrams={} malformed={} dropped={}", datagrams_.load(),
            malformed_.load(), dropped_.load());
}

} // namespace ward::node
