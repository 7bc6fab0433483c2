#pragma once

#include "admin.pb.h"

#include <cstdint>
#include <ostream>
#include <string>

/// wardctl's text output: one printer per reply, as the integration tests and scripts read
/// it. Pure functions of the reply, written to the stream handed in.
namespace ward::cli {

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC, or `-` for 0 (never).
std::string date_text(std::int64_t unix_seconds);

/// `1d 2h 3m 4s`, leaving out the leading units that are zero.
std::string duration_text(std::int64_t seconds);

/// The role as the configuration spells it.
std::string role_name(admin::v1::NodeRole role);

/// The message as indented JSON with the proto field names and every field.
std::string to_json(const google::protobuf::Message& message);

/// A reply without a printer of its own: as JSON.
void print(std::ostream& out, const google::protobuf::Message& message);

void print(std::ostream& out, const admin::v1::StatusReply& reply);
void print(std::ostream& out, const admin::v1::ServiceUser& user);
void print(std::ostream& out, const admin::v1::ServiceUserList& list);
void print(std::ostream& out, const admin::v1::RightsGroup& group);
void print(std::ostream& out, const admin::v1::RightsGroupList& list);
void print(std::ostream& out, const admin::v1::RightList& list);
void print(std::ostream& out, const admin::v1::ServiceLevelList& list);
void print(std::ostream& out, const admin::v1::AuditRecordList& list);
void print(std::ostream& out, const admin::v1::LockoutList& list);
void print(std::ostream& out, const admin::v1::DirectoryImportReply& reply);
void print(std::ostream& out, const admin::v1::AuditVerifyReply& reply);
void print(std::ostream& out, const admin::v1::TelephonyUser& user);
void print(std::ostream& out, const admin::v1::TelephonyUserList& list);
void print(std::ostream& out, const admin::v1::Extension& ext);
void print(std::ostream& out, const admin::v1::ExtensionList& list);
/// One `key: value` line per setting, with the keys `sip set` takes.
void print(std::ostream& out, const admin::v1::SipSettings& sip);
void print(std::ostream& out, const admin::v1::CallRecordList& list);
void print(std::ostream& out, const admin::v1::CertificateInfo& cert);
void print(std::ostream& out, const admin::v1::CaInfo& ca);
void print(std::ostream& out, const admin::v1::IssuedList& list);
void print(std::ostream& out, const admin::v1::TcsList& list);
void print(std::ostream& out, const admin::v1::CheckSettings& checks);
void print(std::ostream& out, const admin::v1::TlsSettings& tls);
void print(std::ostream& out, const admin::v1::RegistrationList& list);
void print(std::ostream& out, const admin::v1::CallList& list);
void print(std::ostream& out, const admin::v1::BlacklistReply& lists);
void print(std::ostream& out, const admin::v1::ClusterStatusReply& status);

/// SPEC MED-2: the system level and the per-line overrides, one `system: LEVEL` and one
/// `line NODE: LEVEL` per line, as `media show` starts and `media set system|line` answers.
void print_media_levels(std::ostream& out, const admin::v1::SipSettings& sip);
void print_srtp_levels(std::ostream& out, const admin::v1::SipSettings& sip);

/// `media show`: the levels, then one `extension NUMBER: LEVEL` per extension override.
void print_media_overview(std::ostream& out, const admin::v1::SipSettings& sip,
                          const admin::v1::ExtensionList& extensions);

/// `media show --json`: `system`, `lines` and `extensions` (overrides only) as one object.
std::string media_overview_json(const admin::v1::SipSettings& sip,
                                const admin::v1::ExtensionList& extensions);

} // namespace ward::cli
