#include "node/relay_anchor.hpp"

namespace ward::node {

std::expected<relay_anchor::ports, telephony::error> relay_anchor::allocate() {
  if (!relay_)
    return std::unexpected(telephony::error{telephony::errc::media_unavailable, "no media relay"});
  auto allocation = relay_->allocate();
  if (!allocation)
    return std::unexpected(
        telephony::error{telephony::errc::media_unavailable, allocation.error().detail});
  return ports{allocation->id, allocation->port_a, allocation->port_b};
}

void relay_anchor::set_peer(std::uint64_t id, bool caller, const std::string& address,
                            std::uint16_t port) {
  if (relay_)
    (void)relay_->set_peer(id, caller ? media::relay_leg::a : media::relay_leg::b,
                           media::media_endpoint{address, port});
}

void relay_anchor::release(std::uint64_t id) {
  if (relay_)
    relay_->release(id);
}

void relay_anchor::set_crypto(std::uint64_t id, bool caller, const std::optional<leg_keys>& keys) {
  if (!relay_)
    return;
  std::optional<media::leg_crypto> crypto;
  if (keys)
    crypto = media::leg_crypto{keys->inbound, keys->outbound};
  (void)relay_->set_crypto(id, caller ? media::relay_leg::a : media::relay_leg::b, crypto);
}

} // namespace ward::node
