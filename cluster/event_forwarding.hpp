#pragma once

#include "line.pb.h"
#include "security/audit_log.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// Event forwarding (SPEC MON-2, LINE-4): every node sends its audit records up its line to
/// the primary from a persistent cursor, the primary stores them and acknowledges. These
/// are the pure parts; the line actor sends, stores and acknowledges.
namespace ward::cluster {

/// Forwarded records per frame.
inline constexpr std::size_t forward_batch = 256;
/// A forwarded batch not acknowledged within this time is sent again.
inline constexpr auto forward_retry = std::chrono::seconds(10);
/// Failed logins older than this when they reach the primary no longer count (they are
/// outside any lockout window worth enforcing and are replays after an outage).
inline constexpr auto login_report_window = std::chrono::minutes(10);

/// The next batch to read from the trail: up to forward_batch records after `cursor`,
/// oldest first.
security::audit_filter next_batch(std::uint64_t cursor);

/// The records as they travel on a line.
line::AuditEvents events_message(const std::vector<security::audit_record>& records);

/// The records a line carried. A kind or outcome this build does not know reads as a
/// change and a failure.
std::vector<security::audit_record> records_of(const line::AuditEvents& events);

/// Whether a forwarded record is a login the writer counts for cluster-wide lockout
/// (SPEC POL-7): a named Login checked on another node, recent at `now`.
bool counts_for_lockout(const security::audit_record& record,
                        std::chrono::system_clock::time_point now);

/// The stream of call records (SPEC TF-8) beside the audit trail's (""), and the name the
/// primary keeps a node's call records under in its event store.
inline constexpr std::string_view calls_stream = "calls";
std::string call_records_source(std::string_view node);

/// A cursor as persisted ("forward/acked", "syslog/own"): decimal, 0 when absent.
std::uint64_t parse_cursor(const std::optional<std::string>& stored);

} // namespace ward::cluster
