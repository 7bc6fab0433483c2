#pragma once

#include "media/relay_pool.hpp"
#include "telephony/b2bua.hpp"

#include <memory>
#include <string>

namespace ward::node {

/// The node's RTP relay as the B2BUA's media anchor: every call's relay session is a
/// relay_pool allocation, leg a being the caller's. Without a relay every allocation fails,
/// so calls needing the relay are refused.
class relay_anchor final : public telephony::media_anchor {
public:
  relay_anchor(std::shared_ptr<media::relay_pool> relay, std::string address)
      : relay_(std::move(relay)), address_(std::move(address)) {}
  std::string address() const override { return address_; }
  std::expected<ports, telephony::error> allocate() override;
  void set_peer(std::uint64_t id, bool caller, const std::string& address,
                std::uint16_t port) override;
  void release(std::uint64_t id) override;
  void set_crypto(std::uint64_t id, bool caller, const std::optional<leg_keys>& keys) override;

private:
  std::shared_ptr<media::relay_pool> relay_;
  std::string address_;
};

} // namespace ward::node
