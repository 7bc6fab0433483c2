#include "node/listener_set.hpp"

#include "core/net_address.hpp"
#include "node/logging.hpp"
#include "node/tls_material.hpp"
#include "pki/identity_store.hpp"

#include <caf/send.hpp>

#include <filesystem>

namespace ward::node {

listener_set::listener_set(const node_config& config, connection_registry& registry,
                           std::string metrics_endpoint, caf::actor alarms, const clock& time,
                           std::shared_ptr<pki::current_certificate> identity)
    : config_(config), registry_(registry), metrics_endpoint_(std::move(metrics_endpoint)),
      alarms_(std::move(alarms)), time_(time), identity_(std::move(identity)) {}

void listener_set::start(grpc::Server& server) {
  std::lock_guard lock(mutex_);
  auto on_failure = [alarms = alarms_](const tls_failure& failure) {
    logger("tls")->warn("event=tls_handshake_failed service={} peer={} cause={}", failure.service,
                        failure.peer_address, log_value(failure.cause));
    // Asynchronous: this runs on a listener thread, which must not wait for the actor.
    caf::anon_send(
        alarms, actors::tls_failure_report{failure.service, failure.peer_address, failure.cause});
  };
  auto add = [&](security::service_name service, std::uint16_t plain, std::uint16_t tls) {
    listeners_.emplace(service,
                       std::make_unique<service_listener>(std::string(security::to_string(service)),
                                                          config_.listen_address, plain, tls,
                                                          server, registry_, on_failure));
  };
  add(security::service_name::system_status, config_.status_plain_port, config_.status_port);
  add(security::service_name::configuration, config_.configuration_plain_port,
      config_.configuration_port);
  add(security::service_name::security_administration, config_.security_plain_port,
      config_.security_port);
}

void listener_set::stop() {
  std::lock_guard lock(mutex_);
  listeners_.clear();
}

std::expected<void, std::string> listener_set::apply(security::service_name service,
                                                     pki::service_security_level level) {
  std::lock_guard lock(mutex_);
  if (!is_served(service))
    return {};
  auto it = listeners_.find(service);
  if (it == listeners_.end())
    return std::unexpected("the node is not serving yet");
  auto applied = it->second->apply(level, material_, minimum_tls_);
  if (!applied)
    return applied;
  logger("admin")->info("event=service_level service={} level={} plain_port={} tls_port={}",
                        security::to_string(service), pki::to_string(level),
                        pki::offers_plaintext(level) ? it->second->plain_port() : 0,
                        pki::offers_tls(level) ? it->second->tls_port() : 0);
  write_endpoints();
  return {};
}

std::optional<std::pair<std::uint16_t, std::uint16_t>>
listener_set::ports(security::service_name service) const {
  std::lock_guard lock(mutex_);
  auto it = listeners_.find(service);
  if (it == listeners_.end())
    return std::nullopt;
  auto level = it->second->level();
  return std::pair<std::uint16_t, std::uint16_t>{
      pki::offers_plaintext(level) ? it->second->plain_port() : 0,
      pki::offers_tls(level) ? it->second->tls_port() : 0};
}

std::expected<void, std::string> listener_set::reload(const security::security_settings& settings,
                                                      const actors::pki_state& pki) {
  std::lock_guard lock(mutex_);
  if (listeners_.empty())
    return std::unexpected("the node is not serving (starting or stopping)");
  auto material = management_material(settings, pki, time_);
  auto minimum = settings.certificates.minimum_tls;
  std::vector<security::service_name> done;
  for (auto& [service, listener] : listeners_) {
    auto level = settings.service_levels.at(service);
    auto applied = listener->apply(level, material, minimum);
    if (!applied) {
      // Put back what was already switched: the old material keeps serving everywhere.
      for (auto switched : done)
        (void)listeners_.at(switched)->apply(listeners_.at(switched)->level(), material_,
                                             minimum_tls_);
      logger("tls")->warn("event=tls_reload_refused reason={}", log_value(applied.error()));
      return applied;
    }
    done.push_back(service);
  }
  material_ = std::move(material);
  identity_->set(pki.identity);
  minimum_tls_ = minimum;
  // The node's other TLS ends follow the same settings at once (SPEC TLS-1, PKI-6). Their
  // material was built from the same identity the admin listeners just took, so a failure
  // there is reported but does not undo the admin listeners' change.
  if (other_tls_ends_)
    if (auto followed = other_tls_ends_(settings, pki); !followed) {
      logger("tls")->warn("event=tls_reload_refused reason={}", log_value(followed.error()));
      return followed;
    }
  logger("tls")->info("event=tls_reloaded subject={} management_checks={}",
                      log_value(pki.identity.subject()),
                      pki::to_string(settings.certificates.management_checks));
  write_endpoints();
  return {};
}

std::string listener_set::status_endpoint() const {
  std::lock_guard lock(mutex_);
  auto status = listeners_.find(security::service_name::system_status);
  return status == listeners_.end()
             ? std::string{}
             : join_host_port(config_.listen_address, status->second->tls_port());
}

void listener_set::add_endpoint(std::string name, std::string endpoint) {
  std::lock_guard lock(mutex_);
  extra_endpoints_[std::move(name)] = std::move(endpoint);
  write_endpoints();
}

bool listener_set::is_served(security::service_name service) {
  return service == security::service_name::system_status ||
         service == security::service_name::configuration ||
         service == security::service_name::security_administration;
}

void listener_set::write_endpoints() const {
  std::string content = "metrics=" + metrics_endpoint_ + "\n";
  for (const auto& [name, endpoint] : extra_endpoints_)
    content += name + "=" + endpoint + "\n";
  auto line = [&](std::string_view name, std::uint16_t port) {
    if (port != 0)
      content += std::string(name) + "=" + join_host_port(config_.listen_address, port) + "\n";
  };
  for (auto [service, name] : {std::pair{security::service_name::system_status, "status"},
                               {security::service_name::configuration, "configuration"},
                               {security::service_name::security_administration, "security"}}) {
    auto found = listeners_.find(service);
    if (found == listeners_.end())
      continue;
    const auto& listener = found->second;
    auto level = listener->level();
    line(name, pki::offers_tls(level) ? listener->tls_port() : 0);
    line(std::string(name) + "_plain", pki::offers_plaintext(level) ? listener->plain_port() : 0);
  }
  auto run_dir = config_.data_dir / "run";
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  if (!pki::write_file_atomically(run_dir / "endpoints", content, 0644))
    logger("node")->warn("event=endpoints_not_written");
}

void listener_set::follow_with(tls_follower follower) {
  std::lock_guard lock(mutex_);
  other_tls_ends_ = std::move(follower);
}

} // namespace ward::node
