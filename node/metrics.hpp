#pragma once

#include "core/clock.hpp"
#include "core/node_role.hpp"
#include "pki/certificate.hpp"
#include "pki/current_certificate.hpp"

#include <prometheus/collectable.h>

#include <caf/fwd.hpp>

#include <string>

namespace ward::node {

/// Node-level gauges computed at scrape time (SPEC MON-4): build info, uptime, running
/// actors, start count and days until the identity certificate expires.
class node_metrics final : public prometheus::Collectable {
public:
  node_metrics(std::string node_name, node_role role, std::string version,
               std::uint64_t start_count,
               std::shared_ptr<const pki::current_certificate> identity, const clock& time,
               caf::actor_system& system);

  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  std::string node_name_;
  node_role role_;
  std::string version_;
  std::uint64_t start_count_;
  std::shared_ptr<const pki::current_certificate> identity_;
  const clock& time_;
  clock::time_point started_;
  caf::actor_system& system_;
};

} // namespace ward::node
