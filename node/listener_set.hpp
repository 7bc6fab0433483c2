#pragma once

#include "actors/security_db_actor.hpp"
#include "core/clock.hpp"
#include "node/admin/gateway.hpp"
#include "node/config.hpp"
#include "node/service_listener.hpp"
#include "pki/current_certificate.hpp"

#include <caf/actor.hpp>
#include <grpcpp/server.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace ward::node {

/// "address:port", with an IPv6 address in brackets.

/// The listeners of the administrative services Ward serves, driven by their levels, and
/// the endpoints file that tells tools which ports are open.
class listener_set final : public service_level_control {
public:
  listener_set(const node_config& config, connection_registry& registry,
               std::string metrics_endpoint, caf::actor alarms, const clock& time,
               std::shared_ptr<pki::current_certificate> identity);

  /// Creates the listeners over the started `server`; levels apply from then on.
  void start(grpc::Server& server);

  /// Closes every listener before the gRPC server goes away.
  void stop();

  std::expected<void, std::string> apply(security::service_name service,
                                         pki::service_security_level level) override;

  std::optional<std::pair<std::uint16_t, std::uint16_t>>
  ports(security::service_name service) const override;

  std::expected<void, std::string> reload(const security::security_settings& settings,
                                          const actors::pki_state& pki) override;

  std::string status_endpoint() const;

  /// Reapplies the TLS settings and identity to a TLS end that is not an admin listener.
  using tls_follower = std::function<std::expected<void, std::string>(
      const security::security_settings&, const actors::pki_state&)>;
  /// After every successful reload, `follower` applies the same settings to the node's
  /// other TLS ends (SIP over TLS, the line listener).
  void follow_with(tls_follower follower);

  /// Adds an endpoint that is not an administrative service (the line port).
  void add_endpoint(std::string name, std::string endpoint);

private:
  static bool is_served(security::service_name service);

  /// Records the ports the node has open, so tools and tests find a node whose
  /// configuration asked for port 0. Closed ports are left out.
  void write_endpoints() const;

  const node_config& config_;
  connection_registry& registry_;
  pki::tls_server_material material_;
  pki::tls_min_version minimum_tls_ = pki::tls_min_version::tls1_2;
  std::string metrics_endpoint_;
  caf::actor alarms_;
  const clock& time_;
  std::shared_ptr<pki::current_certificate> identity_;
  tls_follower other_tls_ends_;
  mutable std::mutex mutex_;
  std::map<security::service_name, std::unique_ptr<service_listener>> listeners_;
  std::map<std::string, std::string> extra_endpoints_;
};

} // namespace ward::node
