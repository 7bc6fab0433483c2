#pragma once

// The admin gRPC services that go through the gateway, one file each
// (node/admin/<service>_service.cpp); make_admin_api (gateway.cpp) assembles them.

#include "node/admin/convert.hpp"
#include "node/admin/gateway.hpp"

#include <grpcpp/impl/service_type.h>

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace ward::node::admin_api {

using actors::security_context;
using actors::transaction_effect;
using security::security_errc;
using security::security_error;
/// What a transaction returns: its effect for the audit trail, or why it refused.
using effect_result = security::security_result<transaction_effect>;

/// A gRPC service whose handlers go through `gw_`.
template <class Service> class gateway_service : public Service {
public:
  explicit gateway_service(std::shared_ptr<gateway> gw) : gw_(std::move(gw)) {}

protected:
  std::shared_ptr<gateway> gw_;
};

/// A transaction that changes one record: `apply` makes the change (returning a
/// security_result), `answer` fills the reply from the stored result, and the audit record
/// holds `snapshot` (the trail's JSON of the record, empty where there is none) from before
/// and after. Creations start from nothing and deletions end in nothing, so they are changes
/// too.
template <class Snapshot, class Apply, class Answer>
actors::transaction_fn audited_change(std::string object, Snapshot snapshot, Apply apply,
                                      Answer answer, std::string detail = {},
                                      security::audit_kind kind = security::audit_kind::change) {
  return [=](security_context& c) -> effect_result {
    auto before = snapshot(c);
    if (auto applied = apply(c); !applied)
      return std::unexpected(applied.error());
    answer(c);
    return transaction_effect{object, before, snapshot(c), detail, kind};
  };
}

/// An `answer` for audited_change() that has no reply to fill.
inline constexpr auto no_answer = [](security_context&) {};

/// The store in `c` that holds `Database`'s records: the telephony directory or the
/// security database.
template <class Database> Database& store_of(security_context& c) {
  if constexpr (std::is_same_v<Database, telephony::telephony_directory>)
    return c.directory;
  else
    return c.security;
}

/// The transaction of a Delete call: `remove` deletes the record called `name` (the trail's
/// object `<kind>/<name>`), and the audit record holds `snapshot_of(name)` from before and
/// nothing after.
template <class Database, class SnapshotOf>
actors::transaction_fn
audited_deletion(std::string_view kind, const std::string& name, SnapshotOf snapshot_of,
                 security::security_result<void> (Database::*remove)(std::string_view)) {
  return audited_change(
      std::string(kind) + "/" + name, snapshot_of(name),
      [name, remove](security_context& c) { return (store_of<Database>(c).*remove)(name); },
      no_answer);
}

/// Reads the records of `audit` that `filter` selects into `reply`, as `action` under
/// `rule` (the Security service's AuditQuery, the System Status service's Alarms). A limit
/// of 0 means 100; more than security::max_audit_query_limit is refused.
grpc::Status read_audit_records(const gateway& gw, const grpc::ServerContext* call,
                                std::string action, const rpc_rule& rule,
                                std::shared_ptr<security::audit_log> audit,
                                security::audit_filter filter, std::uint32_t limit,
                                pb::AuditRecordList* reply);

/// Session: login, logout, password changes, telephony user login checks.
std::unique_ptr<grpc::Service> make_session_service(std::shared_ptr<gateway> gw);

/// Security: service users, rights groups, policy, service levels, unsecured interfaces,
/// reset and the audit trail (read from `audit`, checked against the anchor in `store`).
std::unique_ptr<grpc::Service> make_security_service(std::shared_ptr<gateway> gw,
                                                     std::shared_ptr<security::audit_log> audit,
                                                     std::shared_ptr<security::sealed_store> store);

/// Configuration: telephony users and extensions.
std::unique_ptr<grpc::Service> make_configuration_service(std::shared_ptr<gateway> gw);

/// Pki: the CA, issued certificates, the node identity, the TCS, checks and TLS settings.
std::unique_ptr<grpc::Service> make_pki_service(std::shared_ptr<gateway> gw);

/// Telephony: registrations, calls and blacklists of `sip` (null = no SIP service on this
/// node), the call records in `calls` (SPEC TF-8) and the cluster's SIP policy.
std::unique_ptr<grpc::Service> make_telephony_service(std::shared_ptr<gateway> gw,
                                                      std::shared_ptr<sip_service> sip,
                                                      std::shared_ptr<security::audit_log> calls,
                                                      std::shared_ptr<cluster::event_store> events);

/// DialPlanService: short codes, ARS, time profiles, barring, trunks and incoming routes
/// (SPEC TF-1..TF-9), kept with the telephony directory.
std::unique_ptr<grpc::Service> make_dial_plan_service(std::shared_ptr<gateway> gw);

/// SystemStatus: the node's alarms (from `audit`) and its lockouts, for the System Status
/// rights (SPEC MON-5).
std::unique_ptr<grpc::Service>
make_system_status_service(std::shared_ptr<gateway> gw, std::shared_ptr<security::audit_log> audit);

/// Cluster: the membership `view`, proxied calls and the `events` other nodes forwarded
/// (null except on the primary).
std::unique_ptr<grpc::Service> make_cluster_service(std::shared_ptr<gateway> gw,
                                                    std::shared_ptr<cluster::cluster_view> view,
                                                    std::shared_ptr<cluster::event_store> events);

} // namespace ward::node::admin_api
