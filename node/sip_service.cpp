#include "node/sip_service.hpp"

#include "node/logging.hpp"
#include "node/relay_anchor.hpp"
#include "node/sip_transport.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <unordered_map>

namespace ward::node {

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
  // A transport that is off keeps descriptor -1 (poll ignores it) and reports port 0.
  std::array<std::pair<int, std::uint16_t>, 3> sockets{{{-1, 0}, {-1, 0}, {-1, 0}}};
  auto close_all = [&sockets] {
    for (auto& socket : sockets)
      if (socket.first >= 0)
        ::close(socket.first);
  };
  if (options.transports.tls && !options.tls_context)
    return std::unexpected("no TLS context for SIP over TLS");
  const std::array<std::tuple<bool, std::uint16_t, int>, 3> wanted{
      {{options.transports.udp, options.udp_port, SOCK_DGRAM},
       {options.transports.tcp, options.tcp_port, SOCK_STREAM},
       {options.transports.tls, options.tls_port, SOCK_STREAM}}};
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    auto [enabled, port, type] = wanted[i];
    if (!enabled)
      continue;
    auto bound = bind_socket(options.address, port, type);
    if (!bound) {
      close_all();
      return std::unexpected(bound.error());
    }
    sockets[i] = *bound;
  }
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int stop[2] = {-1, -1};
  if (wake < 0 || ::pipe2(stop, O_CLOEXEC | O_NONBLOCK) != 0) {
    close_all();
    for (int fd : {wake, stop[0], stop[1]})
      if (fd >= 0)
        ::close(fd);
    return std::unexpected(std::string("cannot create wake descriptors: ") + std::strerror(errno));
  }
  auto [udp, tcp, tls] = sockets;
  return std::unique_ptr<sip_service>(new sip_service(
      std::move(options), udp.first, udp.second, tcp.first, tcp.second, tls.first, tls.second, wake,
      stop[0], stop[1], std::move(*registrar), std::move(*guard)));
}

sip_service::sip_service(sip_service_options options, int fd, std::uint16_t port, int tcp_fd,
                         std::uint16_t tcp_port, int tls_fd, std::uint16_t tls_port, int wake_fd,
                         int stop_read, int stop_write, telephony::registrar registrar,
                         telephony::sip_guard guard)
    : options_(std::move(options)), fd_(fd), port_(port), registrar_(std::move(registrar)),
      guard_(std::move(guard)), tcp_fd_(tcp_fd), tcp_port_(tcp_port), tls_fd_(tls_fd),
      tls_port_(tls_port), stop_read_(stop_read), stop_write_(stop_write), wake_fd_(wake_fd),
      inbox_(std::make_unique<sip_inbox>(wake_fd)),
      streams_(std::make_unique<stream_listener>(
          stream_listener::settings{.tcp_fd = tcp_fd,
                                    .tls_fd = tls_fd,
                                    .stop_fd = stop_read,
                                    .max_connections = options_.max_tcp_connections,
                                    .tls_context = options_.tls_context,
                                    .tls_client_check = options_.tls_client_check,
                                    .on_tls_failure = options_.on_tls_failure},
          *inbox_, stopping_)),
      worker_([this] { run(); }) {}

void sip_service::set_tls(std::shared_ptr<SSL_CTX> context,
                          pki::client_certificate_check_fn check) {
  streams_->set_tls(std::move(context), std::move(check));
}

void sip_service::stop() {
  stopping_ = true;
  char byte = 1;
  (void)::write(stop_write_, &byte, 1);
  std::call_once(stopped_, [this] {
    streams_->join();
    if (worker_.joinable())
      worker_.join();
  });
}

sip_service::~sip_service() {
  stop();
  for (int fd : {fd_, tcp_fd_, tls_fd_})
    if (fd >= 0)
      ::close(fd);
  ::close(wake_fd_);
  ::close(stop_read_);
  ::close(stop_write_);
}

std::array<std::uint64_t, telephony::bar_reason_count> sip_service::barred_calls() const {
  std::array<std::uint64_t, telephony::bar_reason_count> counts{};
  for (std::size_t i = 0; i < counts.size(); ++i)
    counts[i] = barred_calls_[i].load();
  return counts;
}

std::vector<std::string> sip_service::trunk_names() const {
  std::vector<std::string> names;
  if (options_.directory)
    for (const auto& [name, _] : options_.directory->current()->dial_plan.trunks)
      names.push_back(name);
  return names;
}

std::uint64_t sip_service::malformed() const {
  return malformed_.load() + streams_->broken();
}

std::uint64_t sip_service::dropped() const {
  return dropped_.load() + streams_->refused();
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
  if (text.size() > telephony::max_sip_message)
    return;
  sip_inbound message;
  message.kind = telephony::transport::line;
  message.text = std::move(text);
  message.node = std::move(node);
  inbox_->post(std::move(message));
}

void sip_service::apply_locations(std::string node, std::vector<std::string> extensions) {
  std::ranges::sort(extensions);
  std::lock_guard lock(commands_mutex_);
  commands_.push_back([this, node = std::move(node), extensions = std::move(extensions)]() mutable {
    locations_.replace(std::move(node), std::move(extensions), options_.time->now());
  });
}

void sip_service::set_fraud_holds(telephony::fraud_holds holds) {
  std::lock_guard lock(commands_mutex_);
  commands_.push_back([this, holds = std::move(holds)]() mutable {
    fraud_holds_ = std::move(holds);
    fraud_holds_changed_ = true;
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

std::string stream_key(const telephony::sip_endpoint& endpoint) {
  return std::string(telephony::to_string(endpoint.kind)) + "|" +
         telephony::endpoint_text(endpoint);
}

telephony::b2bua_settings call_settings_of(const sip_service_options& options,
                                           std::uint16_t udp_port, std::uint16_t tcp_port,
                                           std::uint16_t tls_port) {
  telephony::b2bua_settings settings;
  settings.node = options.node;
  settings.address = options.address;
  settings.udp_port = udp_port;
  settings.tcp_port = tcp_port;
  settings.tls_port = tls_port;
  settings.ring_timeout = options.ring_timeout;
  settings.max_calls = options.max_calls;
  // SPEC MED-4: one unit per relay session; an SRTP call takes two.
  settings.media_capacity = options.relay ? options.relay->stats().max_sessions : 0;
  return settings;
}

} // namespace

struct sip_service::worker {
  explicit worker(sip_service& service)
      : service(service), options(service.options_), log(logger("sip")),
        anchor(options.relay, options.address),
        calls(call_settings_of(options, service.port_, service.tcp_port_, service.tls_port_),
              anchor),
        pipeline(options.node, service.registrar_, service.guard_, calls, service.locations_,
                 options.random) {
    last_sweep = last_publish = last_tick = options.time->now();
  }

  /// Follows the cluster's SIP policy as it changes.
  void follow_policy(const telephony::telephony_directory_data& directory);
  /// Takes what stream readers and lines queued.
  void take_inbox(clock::time_point now, const telephony::telephony_directory_data& directory);
  /// Reads and processes one batch of datagrams.
  void take_datagrams(clock::time_point now, const telephony::telephony_directory_data& directory);
  /// One message through the pipeline, and its outcome counted.
  void process(std::string_view data, const telephony::sip_endpoint& from, clock::time_point now,
               const telephony::telephony_directory_data& directory);
  void count(const telephony::sip_outcome& outcome);
  /// The calls' retransmissions and timeouts, and the calls that ended.
  void tick(clock::time_point now);
  /// Sends what the pipeline and the calls produced.
  void dispatch();
  void run_commands();
  /// Once a second: expired bindings and responses, closed streams, the SRTP alarm.
  void sweep(clock::time_point now);
  /// At most four times a second: the bindings, blacklists and calls others read.
  void publish(clock::time_point now);

  sip_service& service;
  const sip_service_options& options;
  std::shared_ptr<spdlog::logger> log;
  relay_anchor anchor;
  telephony::b2bua calls;
  telephony::sip_pipeline pipeline;
  udp_batch datagrams;
  udp_outbox outbox;
  std::vector<telephony::sip_send> sends;
  /// Stream connections by transport and peer, so requests reach phones on TCP and TLS.
  std::unordered_map<std::string, std::weak_ptr<sip_connection>> streams;
  clock::time_point last_sweep, last_publish, last_tick;
  clock::time_point last_announce{}, last_media_alarm{};
  std::uint64_t auth_failed_seen = 0;
  std::vector<std::string> announced;
  bool bindings_changed = true;
  bool strict_sips = false;
  std::optional<std::pair<std::uint16_t, std::uint16_t>> allowed_rtp_ports;
};

void sip_service::worker::follow_policy(const telephony::telephony_directory_data& directory) {
  if (directory.policy.strict_sips != strict_sips) {
    strict_sips = directory.policy.strict_sips;
    calls.set_strict_sips(strict_sips);
  }
  // SPEC SIP-5, MED-3: the cluster's RTP port range bounds new relay sessions inside the
  // node's own media.rtp_ports.
  if (const auto wanted = std::pair{directory.policy.rtp_port_min, directory.policy.rtp_port_max};
      options.relay && allowed_rtp_ports != wanted) {
    allowed_rtp_ports = wanted;
    options.relay->set_allowed_ports(media::rtp_port_range{wanted.first, wanted.second});
    if (options.relay->stats().max_sessions == 0)
      log->error("event=rtp_ports_disjoint allowed={}-{}: no port of media.rtp_ports lies in "
                 "the cluster's RTP port range; calls needing the relay get 503",
                 wanted.first, wanted.second);
  }
}

void sip_service::worker::take_inbox(clock::time_point now,
                                     const telephony::telephony_directory_data& directory) {
  for (auto& message : service.inbox_->take()) {
    ++service.datagrams_;
    telephony::sip_endpoint from{message.kind, message.address, message.port, message.node};
    if (message.connection)
      streams[stream_key(from)] = message.connection;
    process(message.text, from, now, directory);
  }
}

void sip_service::worker::take_datagrams(clock::time_point now,
                                         const telephony::telephony_directory_data& directory) {
  auto received = datagrams.receive(service.fd_);
  for (std::size_t i = 0; i < received; ++i) {
    ++service.datagrams_;
    auto who = peer_of(datagrams.source(i));
    process(datagrams.datagram(i),
            telephony::sip_endpoint{telephony::transport::udp, who.address, who.port, {}}, now,
            directory);
  }
}

void sip_service::worker::process(std::string_view data, const telephony::sip_endpoint& from,
                                  clock::time_point now,
                                  const telephony::telephony_directory_data& directory) {
  count(pipeline.process(data, from, now, directory, sends));
}

void sip_service::worker::count(const telephony::sip_outcome& outcome) {
  if (outcome.refusal) {
    switch (*outcome.refusal) {
      case telephony::sip_refusal::guarded:
        ++service.dropped_;
        break;
      case telephony::sip_refusal::not_sip:
      case telephony::sip_refusal::malformed:
        ++service.malformed_;
        break;
      case telephony::sip_refusal::user_agent:
        ++service.refused_user_agents_;
        break;
      default:
        break;
    }
  }
  if (const auto& emergency = outcome.emergency) {
    ++service.emergency_calls_;
    log->warn("event=emergency_call caller={} dialled={} route={}", emergency->caller,
              emergency->dialled, emergency->route.empty() ? "-" : emergency->route);
    if (options.on_emergency_call)
      options.on_emergency_call(emergency->caller, emergency->dialled, emergency->route);
  }
  if (const auto& barred = outcome.barred) {
    ++service.barred_calls_[static_cast<std::size_t>(barred->reason)];
    log->info("event=call_barred caller={} dialled={} reason={} detail=\"{}\"", barred->caller,
              barred->dialled, telephony::to_string(barred->reason), barred->detail);
    if (options.on_barred_call)
      options.on_barred_call(*barred);
  }
  if (outcome.outside_call && options.on_outside_call)
    options.on_outside_call(*outcome.outside_call);
  if (outcome.call_started) {
    ++service.calls_started_;
    service.direct_calls_.store(calls.direct_calls_started());
  }
  if (outcome.bindings_changed)
    bindings_changed = true;
  if (outcome.auto_created && options.on_auto_create)
    options.on_auto_create(outcome.auto_created->first, outcome.auto_created->second);
}

void sip_service::worker::tick(clock::time_point now) {
  if (now - last_tick < std::chrono::milliseconds(50))
    return;
  last_tick = now;
  auto due = calls.tick(now, options.random);
  sends.insert(sends.end(), std::make_move_iterator(due.begin()),
               std::make_move_iterator(due.end()));
  for (auto& [view, end] : calls.drain_ended()) {
    if (view.answered != clock::time_point{})
      ++service.calls_answered_;
    if (options.on_call_ended)
      options.on_call_ended(view, end);
  }
  bindings_changed = true;
}

void sip_service::worker::dispatch() {
  for (auto& send : sends) {
    switch (send.to.kind) {
      case telephony::transport::udp:
        if (auto target = sockaddr_of(send.to.address, send.to.port))
          outbox.add(std::move(send.text), *target);
        break;
      case telephony::transport::tcp:
      case telephony::transport::tls:
        if (auto it = streams.find(stream_key(send.to)); it != streams.end())
          if (auto connection = it->second.lock(); connection && !connection->closed)
            connection->send(send.text);
        break;
      case telephony::transport::line:
        if (options.send_over_line)
          options.send_over_line(send.to.node, std::move(send.text));
        break;
    }
  }
  sends.clear();
  outbox.flush(service.fd_);
}

void sip_service::worker::run_commands() {
  std::vector<std::function<void()>> commands;
  {
    std::lock_guard lock(service.commands_mutex_);
    commands.swap(service.commands_);
  }
  for (auto& command : commands) {
    command();
    bindings_changed = true;
  }
  if (service.fraud_holds_changed_) {
    service.fraud_holds_changed_ = false;
    pipeline.set_fraud_holds(service.fraud_holds_);
  }
  for (auto& event : service.guard_.drain_events())
    if (options.on_guard_event)
      options.on_guard_event(event);
}

void sip_service::worker::sweep(clock::time_point now) {
  if (now - last_sweep < std::chrono::seconds(1))
    return;
  last_sweep = now;
  bindings_changed = true;
  (void)service.registrar_.expire(now);
  pipeline.expire(now);
  std::erase_if(streams, [](const auto& entry) { return entry.second.expired(); });
  // SPEC MED-5: a burst of packets failing SRTP authentication is an attack on a call.
  if (options.relay) {
    auto failed = options.relay->stats().packets_auth_failed;
    auto burst = failed - auth_failed_seen;
    auth_failed_seen = failed;
    if (burst >= options.srtp_auth_failure_alarm_per_second && options.on_media_alarm &&
        now - last_media_alarm >= std::chrono::minutes(1)) {
      last_media_alarm = now;
      options.on_media_alarm(std::to_string(burst) +
                             " SRTP packets failed authentication or replay checks in one "
                             "second and were dropped");
    }
  }
}

void sip_service::worker::publish(clock::time_point now) {
  // Published at most four times a second: under load the list is rebuilt rarely.
  if (!bindings_changed || now - last_publish < std::chrono::milliseconds(250))
    return;
  last_publish = now;
  auto current = service.registrar_.bindings(now);
  blacklist_snapshot lists{service.guard_.blacklisted_addresses(now),
                           service.guard_.blacklisted_extensions(now)};
  std::vector<std::string> registered;
  for (const auto& binding : current)
    if (registered.empty() || registered.back() != binding.extension)
      registered.push_back(binding.extension);
  if (options.on_locations &&
      (registered != announced || now - last_announce >= std::chrono::seconds(20))) {
    announced = registered;
    last_announce = now;
    options.on_locations(std::move(registered));
  }
  auto active = calls.calls();
  std::pair<std::size_t, std::size_t> capacity{calls.media_units(), calls.media_capacity()};
  std::lock_guard lock(service.bindings_mutex_);
  service.media_capacity_ = capacity;
  service.bindings_ = std::move(current);
  service.blacklists_ = std::move(lists);
  service.calls_ = std::move(active);
  bindings_changed = false;
}

void sip_service::run() {
  worker state(*this);
  while (!stopping_) {
    std::array<pollfd, 2> waiting{pollfd{fd_, POLLIN, 0}, pollfd{wake_fd_, POLLIN, 0}};
    int ready = ::poll(waiting.data(), waiting.size(), 100);
    auto now = options_.time->now();
    auto directory = options_.directory->current();
    state.follow_policy(*directory);
    if (ready > 0 && (waiting[1].revents & POLLIN))
      state.take_inbox(now, *directory);
    if (ready > 0 && (waiting[0].revents & POLLIN))
      state.take_datagrams(now, *directory);
    state.tick(now);
    state.dispatch();
    state.run_commands();
    state.sweep(now);
    state.publish(now);
  }
  state.log->info("event=sip_stopped datagrams={} malformed={} dropped={}", datagrams_.load(),
                  malformed(), dropped());
}

} // namespace ward::node
