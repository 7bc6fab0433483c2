#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ward::cluster {

/// RFC 5424 severity, in the RFC's numeric order (emergency = 0 … debug = 7).
enum class syslog_severity {
  emergency,
  alert,
  critical,
  error,
  warning,
  notice,
  informational,
  debug,
};

/// The SD-ID of the one structured-data element Ward writes. 32473 is the private
/// enterprise number RFC 5612 reserves for documentation; Ward has no number of its own.
inline constexpr std::string_view ward_sd_id = "ward@32473";

/// One event to be sent to a syslog receiver (SPEC MON-2). Fields are taken as they are;
/// format_rfc5424 makes whatever they hold fit the RFC.
struct syslog_event {
  std::chrono::system_clock::time_point time;
  /// Facility code 0-23; any other value is sent as 1 (user-level) so the PRI stays valid.
  int facility = 1;
  syslog_severity severity = syslog_severity::informational;
  std::string hostname;
  std::string app_name;
  std::string proc_id;
  std::string msg_id;
  /// The parameters of the single SD-ELEMENT named ward_sd_id, in order; empty for none.
  std::vector<std::pair<std::string, std::string>> structured;
  /// Free text, UTF-8.
  std::string message;
};

/// The event as one RFC 5424 line (without a trailing newline or framing).
///
/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]`:
/// - TIMESTAMP is RFC 3339 UTC with microseconds and "Z"; "-" for a year outside 0-9999.
/// - Header fields keep only printable US-ASCII (33-126; anything else becomes '_'), are
///   cut to the RFC's lengths (255, 48, 128, 32 octets) and are "-" when empty.
/// - SD is `[ward@32473 name="value" ...]`, or "-" without parameters. Names keep
///   printable US-ASCII except '=', ' ', ']' and '"' (replaced by '_'), are cut to 32
///   octets, and an empty name becomes "_". In values '"', '\\' and ']' are escaped.
/// - MSG is omitted when empty; it gets the UTF-8 BOM only when it holds non-ASCII.
/// Control characters in values and MSG become spaces so that one event is one line, and
/// bytes that are not valid UTF-8 become U+FFFD because the RFC requires UTF-8 there.
std::string format_rfc5424(const syslog_event& event);

/// `message` framed by octet counting (RFC 5425 §4.3, RFC 6587 §3.4.1): "LEN SP MSG".
std::string frame_octet_counted(std::string_view message);

} // namespace ward::cluster
