#pragma once

#include "actors/fraud_actor.hpp"
#include "cluster/line_actor.hpp"
#include "core/clock.hpp"
#include "core/node_role.hpp"
#include "node/sip_service.hpp"
#include "node/syslog_listener.hpp"
#include "pki/certificate.hpp"
#include "pki/current_certificate.hpp"
#include "security/security_counters.hpp"

#include <prometheus/collectable.h>

#include <caf/fwd.hpp>

#include <string>

namespace ward::node {

/// Node-level gauges computed at scrape time (SPEC MON-4): build info, uptime, running
/// actors, start count and days until the identity certificate expires.
class node_metrics final : public prometheus::Collectable {
public:
  node_metrics(std::string node_name, node_role role, std::string version,
               std::uint64_t start_count, std::shared_ptr<const pki::current_certificate> identity,
               const clock& time, caf::actor_system& system);

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

/// Security event counters (SPEC MON-4): administrative logins by outcome, account
/// lockouts and alarms since the node started.
class security_metrics final : public prometheus::Collectable {
public:
  explicit security_metrics(std::shared_ptr<const security::security_counters> counters);
  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  std::shared_ptr<const security::security_counters> counters_;
};

/// Fraud threshold rules (SPEC TF-10): levels reached by level and action, outside calls
/// counted, rules loaded, users and trunks held on this node alone.
class fraud_metrics final : public prometheus::Collectable {
public:
  explicit fraud_metrics(std::shared_ptr<const actors::fraud_counters> counters);
  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  std::shared_ptr<const actors::fraud_counters> counters_;
};

/// Line and replication gauges from the cluster actor's published view (SPEC LINE-4,
/// MON-4): one series per other node.
class cluster_metrics final : public prometheus::Collectable {
public:
  explicit cluster_metrics(std::shared_ptr<const cluster::cluster_view> view);
  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  std::shared_ptr<const cluster::cluster_view> view_;
};

/// SIP gauges and counters (SPEC MON-4): datagrams, malformed and dropped messages,
/// registrations and blacklist sizes.
class sip_metrics final : public prometheus::Collectable {
public:
  explicit sip_metrics(std::shared_ptr<const sip_service> sip);
  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  std::shared_ptr<const sip_service> sip_;
};

/// The syslog receiver's counters (SPEC MON-2, MON-4): messages received per transport and
/// dropped per reason.
class syslog_intake_metrics final : public prometheus::Collectable {
public:
  explicit syslog_intake_metrics(std::shared_ptr<const syslog_listener> receiver);
  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  std::shared_ptr<const syslog_listener> receiver_;
};

} // namespace ward::node
