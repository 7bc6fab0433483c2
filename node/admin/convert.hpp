#pragma once

// Protobuf <-> library conversions of the admin API (proto/admin.proto). Pure functions:
// no actors, no I/O; the services call them on the security actor's thread or before a
// request reaches it.

#include "admin.pb.h"
#include "core/node_role.hpp"
#include "media/media_policy.hpp"
#include "pki/certificate_authority.hpp"
#include "pki/trust_store.hpp"
#include "security/audit_log.hpp"
#include "security/pki_record.hpp"
#include "security/security_database.hpp"
#include "telephony/directory.hpp"
#include "telephony/registrar.hpp"
#include "telephony/sip_guard.hpp"

#include <grpcpp/support/status.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace ward::actors {
struct node_status;
}

namespace ward::cluster {
struct cluster_snapshot;
}

namespace ward::telephony {
struct call_view;
}

namespace ward::node::admin_api {

namespace pb = ward::admin::v1;

// ---- errors and times -----------------------------------------------------------------

/// The gRPC status a security error answers with; the field prefixes the message of an
/// invalid argument.
grpc::Status to_status(const security::security_error& error);

/// An invalid-argument error about `field`.
security::security_error invalid(std::string field, std::string message);

/// A PKI library error as the API reports it: the caller's input is an invalid argument,
/// I/O and crypto failures are storage failures.
security::security_error from_pki(const pki::error& error, std::string field);

/// The latest instant the API accepts (9999-12-31T23:59:59Z); beyond it the nanosecond
/// clock would overflow.
inline constexpr std::int64_t latest_unix = 253402300799;

/// Seconds since the epoch; 0 for "never".
std::int64_t to_unix(std::optional<security::time_point> when);

/// Milliseconds since the epoch.
std::int64_t to_unix_ms(security::time_point when);

/// The instant `seconds` after the epoch, clamped to [0, latest_unix].
security::time_point from_unix(std::int64_t seconds);

// ---- system status ----------------------------------------------------------------------

/// The proto role of a node role.
pb::NodeRole to_proto(node_role role);

/// The Admin/Status reply for a node's status.
void fill(pb::StatusReply* out, const actors::node_status& status);

// ---- security administration ------------------------------------------------------------

void fill(pb::ServiceUser* out, const security::service_user& user,
          const security::security_settings& settings, security::time_point now);
void fill(pb::RightsGroup* out, const security::rights_group& group);
void fill(pb::LockoutRule* out, const security::lockout_rule& rule);
void fill(pb::Policy* out, const security::security_settings& settings);
void fill(pb::UnsecuredInterfaces* out, const security::unsecured_interfaces& in);
void fill(pb::AuditRecord* out, const security::audit_record& record);

/// A lockout rule; errors name the field `<prefix>.reject_action`.
security::security_result<security::lockout_rule> parse_lockout(const pb::LockoutRule& in,
                                                                const std::string& prefix);

/// A complexity level ("low", "medium", "high"); errors name `field`.
security::security_result<security::complexity> parse_complexity(const std::string& text,
                                                                 const std::string& field);

/// The rights a group request names; an unknown name is an invalid argument.
security::security_result<std::set<security::right>> parse_rights(const pb::RightsGroup& request);

/// The service user a create request describes.
security::security_result<security::new_service_user>
parse_new_user(const pb::CreateServiceUserRequest& request);

/// The changes an update request asks for (its name is not part of them).
security::security_result<security::service_user_update>
parse_user_update(const pb::UpdateServiceUserRequest& request);

/// `current` with the service user policy of `in` applied.
security::security_result<security::service_user_policy>
merged(const pb::ServiceUserPolicy& in, security::service_user_policy current);

/// `current` with the telephony user policy of `in` applied.
security::security_result<security::telephony_user_policy>
merged(const pb::TelephonyUserPolicy& in, security::telephony_user_policy current);

/// The record called `name` in `records`; else not found, on the field "name":
/// "<what> <name> does not exist".
template <class Map>
security::security_result<const typename Map::mapped_type*>
find_named(const Map& records, const std::string& name, std::string_view what) {
  auto it = records.find(name);
  if (it == records.end())
    return std::unexpected(
        security::security_error{security::security_errc::not_found, "name",
                                 std::string(what) + " " + name + " does not exist"});
  return &it->second;
}

/// The audit trail's JSON of a service user (secrets redacted); empty when there is none.
std::string user_json(const security::security_settings& settings, std::string_view name,
                      security::time_point now);

/// The audit trail's JSON of a rights group; empty when there is none.
std::string group_json(const security::security_settings& settings, std::string_view name);

// ---- configuration ---------------------------------------------------------------------

void fill(pb::TelephonyUser* out, const telephony::telephony_user& user, security::time_point now);
void fill(pb::Extension* out, const telephony::extension_record& record);
void fill(pb::SipSettings* out, const telephony::sip_policy& policy);

/// SPEC MED-2: an extension's override as the API shows it; "system" when it has none.
std::string media_security_text(std::optional<media::media_security> level);

/// A media security level from the API; "system" only where `system_allowed` (then
/// nullopt).
security::security_result<std::optional<media::media_security>>
media_security_of(const std::string& text, std::string field, bool system_allowed);

/// `current` with the fields present in `in` replaced; the read-only times are ignored.
security::security_result<telephony::sip_policy> merged(const pb::SipSettings& in,
                                                        telephony::sip_policy current);

/// The fields a telephony user request sets.
telephony::telephony_user_fields fields_of(const pb::TelephonyUserRequest& request);

/// The fields an extension request sets.
security::security_result<telephony::extension_fields>
extension_fields_of(const pb::ExtensionRequest& request);

/// The audit trail's JSON of a telephony user (no secrets); empty when there is none.
std::string telephony_user_json(const telephony::telephony_directory_data& data,
                                std::string_view name);

/// The audit trail's JSON of an extension; empty when there is none.
std::string extension_json(const telephony::telephony_directory_data& data,
                           std::string_view number);

// ---- PKI ---------------------------------------------------------------------------------

void fill(pb::CertificateInfo* out, const pki::certificate& cert, security::time_point now);
void fill(pb::CaInfo* out, const pki::certificate_authority& ca, security::time_point now);
void fill(pb::IssuedList* out, const security::pki_record& record);
void fill(pb::TcsList* out, const pki::trust_store& trust, security::time_point now);
void fill(pb::CheckSettings* out, const security::certificate_settings& settings);
void fill(pb::TlsSettings* out, const security::certificate_settings& settings);

/// The device certificate an Issue request asks for, with the API's defaults (730 days,
/// 2048 bits, SHA-256).
security::security_result<pki::device_request> parse_device_request(const pb::IssueRequest& in);

/// A serial number as the issued register spells it: upper-case hex without colons.
std::string normalized_serial(std::string serial);

// ---- cluster and telephony status ------------------------------------------------------------

void fill(pb::ClusterStatusReply* out, const cluster::cluster_snapshot& snapshot);
void fill(pb::Registration* out, const telephony::registration_binding& binding,
          security::time_point now);
void fill(pb::ActiveCall* out, const telephony::call_view& view);
void fill(pb::BlacklistEntry* out, const telephony::sip_guard::blacklist_entry& entry);

} // namespace ward::node::admin_api
