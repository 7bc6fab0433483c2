#include "node/admin/convert.hpp"
#include "node/admin/services.hpp"

#include "admin.grpc.pb.h"

#include <chrono>

namespace ward::node::admin_api {
namespace {

/// One row of the lockout view, or nothing when `state` holds no lock at `now`.
std::optional<pb::Lockout> lockout_of(std::string_view kind, const std::string& name,
                                      const security::lock_state& state, security::time_point now) {
  if (!security::is_locked(state, now))
    return std::nullopt;
  pb::Lockout row;
  row.set_kind(std::string(kind));
  row.set_name(name);
  row.set_until_unlocked(state.locked_permanently);
  if (!state.locked_permanently && state.locked_until)
    row.set_locked_until_unix(
        std::chrono::duration_cast<std::chrono::seconds>(state.locked_until->time_since_epoch())
            .count());
  row.set_recent_failures(static_cast<std::uint32_t>(state.recent_failures.size()));
  return row;
}

/// SPEC MON-5: alarms and lockouts for an account that holds only the System Status rights
/// (the "System Status Application" of the guide); nothing here changes a record.
class system_status_service final : public gateway_service<pb::SystemStatus::Service> {
public:
  system_status_service(std::shared_ptr<gateway> gw, std::shared_ptr<security::audit_log> audit)
      : gateway_service(std::move(gw)), audit_(std::move(audit)) {}

  grpc::Status Alarms(grpc::ServerContext* call, const pb::AlarmQueryRequest* request,
                      pb::AuditRecordList* reply) override {
    security::audit_filter filter;
    filter.kind = security::audit_kind::alarm;
    filter.after_sequence = request->after_sequence();
    return read_audit_records(*gw_, call, "Alarms", status_read, audit_, filter, request->limit(),
                              reply);
  }

  grpc::Status Lockouts(grpc::ServerContext* call, const pb::Empty*,
                        pb::LockoutList* reply) override {
    return gw_->read(call, "Lockouts", status_read, [reply](security_context& c) {
      auto add = [&](std::string_view kind, const std::string& name,
                     const security::lock_state& state) {
        if (auto row = lockout_of(kind, name, state, c.now))
          *reply->add_lockouts() = std::move(*row);
      };
      for (const auto& [name, user] : c.security.settings().users)
        add("service_user", name, user.lock);
      for (const auto& [name, user] : c.directory.data().users)
        add("telephony_user", name, user.lock);
      if (c.source_locks)
        for (const auto& [address, state] : *c.source_locks)
          add("source_address", address, state);
    });
  }

private:
  std::shared_ptr<security::audit_log> audit_;
};

} // namespace

std::unique_ptr<grpc::Service>
make_system_status_service(std::shared_ptr<gateway> gw,
                           std::shared_ptr<security::audit_log> audit) {
  return std::make_unique<system_status_service>(std::move(gw), std::move(audit));
}

} // namespace ward::node::admin_api
