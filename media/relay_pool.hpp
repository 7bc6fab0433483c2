#pragma once

#include "media/rtp_relay.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ward::media {

struct relay_pool_options {
  /// Numeric address every worker binds its media sockets on.
  std::string address;
  /// Split into one contiguous slice per worker.
  rtp_port_range ports;
  /// Sessions the whole pool holds; each worker holds its share.
  std::size_t max_sessions = 1000;
  /// Media workers; 0 = one per core.
  std::size_t workers = 0;
};

/// The node's media workers (SPEC MED-3): one relay per worker, each with its own thread,
/// sockets and slice of the RTP port range. A session lives on one worker from allocation to
/// release; new sessions go to the worker holding the fewest. Thread-safe as rtp_relay is.
class relay_pool {
public:
  static std::expected<std::unique_ptr<relay_pool>, relay_error> start(relay_pool_options options);

  std::expected<relay_allocation, relay_error> allocate();
  std::expected<void, relay_error> set_peer(std::uint64_t id, relay_leg leg, media_endpoint peer);
  std::expected<void, relay_error> set_crypto(std::uint64_t id, relay_leg leg,
                                              std::optional<leg_crypto> crypto);
  void release(std::uint64_t id);
  /// Restricts every worker's new sessions to `allowed` (rtp_relay::set_allowed_ports).
  void set_allowed_ports(std::optional<rtp_port_range> allowed);
  /// Every worker's statistics added up.
  rtp_relay_stats stats() const;
  std::size_t workers() const { return workers_.size(); }
  /// The port range of each worker, in order.
  std::vector<rtp_port_range> slices() const { return slices_; }

private:
  relay_pool(std::vector<std::unique_ptr<rtp_relay>> workers, std::vector<rtp_port_range> slices)
      : workers_(std::move(workers)), slices_(std::move(slices)) {}
  /// The worker and the worker's own session id behind a pool id.
  std::pair<rtp_relay*, std::uint64_t> locate(std::uint64_t id) const;

  std::vector<std::unique_ptr<rtp_relay>> workers_;
  std::vector<rtp_port_range> slices_;
};

} // namespace ward::media
