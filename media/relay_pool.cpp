#include "media/relay_pool.hpp"

#include <algorithm>
#include <thread>

namespace ward::media {

std::expected<std::unique_ptr<relay_pool>, relay_error>
relay_pool::start(relay_pool_options options) {
  std::size_t wanted = options.workers != 0
                           ? options.workers
                           : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  if (options.ports.last <= options.ports.first)
    return std::unexpected(relay_error{relay_errc::invalid_config, "the RTP port range is empty"});
  std::size_t span = std::size_t{options.ports.last} - options.ports.first + 1;
  // A session takes two port pairs; every worker needs room for at least two sessions.
  std::size_t count = std::clamp<std::size_t>(span / 8, 1, std::max<std::size_t>(wanted, 1));
  count = std::min(count, wanted);
  std::size_t slice = (span / count) & ~std::size_t{3};
  std::vector<std::unique_ptr<rtp_relay>> workers;
  std::vector<rtp_port_range> slices;
  for (std::size_t i = 0; i < count; ++i) {
    rtp_port_range range;
    range.first = static_cast<std::uint16_t>(options.ports.first + i * slice);
    range.last =
        i + 1 == count ? options.ports.last : static_cast<std::uint16_t>(range.first + slice - 1);
    rtp_relay_options worker;
    worker.address = options.address;
    worker.ports = range;
    worker.max_sessions = std::max<std::size_t>(1, (options.max_sessions + count - 1) / count);
    auto started = rtp_relay::start(worker);
    if (!started)
      return std::unexpected(relay_error{started.error().code, "media worker " + std::to_string(i) +
                                                                   ": " + started.error().detail});
    workers.push_back(std::move(*started));
    slices.push_back(range);
  }
  return std::unique_ptr<relay_pool>(new relay_pool(std::move(workers), std::move(slices)));
}

std::pair<rtp_relay*, std::uint64_t> relay_pool::locate(std::uint64_t id) const {
  auto count = workers_.size();
  return {workers_[id % count].get(), id / count};
}

std::expected<relay_allocation, relay_error> relay_pool::allocate() {
  // The least loaded worker first, then the others: one full slice does not refuse a call.
  std::vector<std::pair<std::size_t, std::size_t>> order;
  for (std::size_t i = 0; i < workers_.size(); ++i)
    order.emplace_back(workers_[i]->stats().active_sessions, i);
  std::ranges::sort(order);
  std::optional<relay_error> last;
  for (auto [load, index] : order) {
    auto allocated = workers_[index]->allocate();
    if (allocated) {
      allocated->id = allocated->id * workers_.size() + index;
      return *allocated;
    }
    last = allocated.error();
    if (last->code != relay_errc::exhausted)
      break;
  }
  return std::unexpected(last.value_or(relay_error{relay_errc::exhausted, "no media worker"}));
}

std::expected<void, relay_error> relay_pool::set_peer(std::uint64_t id, relay_leg leg,
                                                      media_endpoint peer) {
  auto [worker, local] = locate(id);
  return worker->set_peer(local, leg, std::move(peer));
}

std::expected<void, relay_error> relay_pool::set_crypto(std::uint64_t id, relay_leg leg,
                                                        std::optional<leg_crypto> crypto) {
  auto [worker, local] = locate(id);
  return worker->set_crypto(local, leg, std::move(crypto));
}

void relay_pool::release(std::uint64_t id) {
  auto [worker, local] = locate(id);
  worker->release(local);
}

void relay_pool::set_allowed_ports(std::optional<rtp_port_range> allowed) {
  for (auto& worker : workers_)
    worker->set_allowed_ports(allowed);
}

rtp_relay_stats relay_pool::stats() const {
  rtp_relay_stats total;
  for (const auto& worker : workers_) {
    auto one = worker->stats();
    total.active_sessions += one.active_sessions;
    total.max_sessions += one.max_sessions;
    total.packets_relayed += one.packets_relayed;
    total.packets_dropped += one.packets_dropped;
    total.packets_from_wrong_source += one.packets_from_wrong_source;
    total.packets_auth_failed += one.packets_auth_failed;
    total.packets_protected += one.packets_protected;
    total.packets_unprotected += one.packets_unprotected;
  }
  return total;
}

} // namespace ward::media
