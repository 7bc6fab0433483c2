#pragma once

#include "cluster/syslog.hpp"
#include "core/typed_error.hpp"
#include "security/audit_log.hpp"

#include <chrono>
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::cluster {

/// The largest syslog message the receiver takes (RFC 5425 §4.3.1 asks for at least 2048
/// octets and recommends 8192); longer ones are refused, never cut.
inline constexpr std::size_t max_received_syslog = 8192;

/// The transport a syslog message arrived on.
enum class syslog_intake_transport { tls, tcp, udp };

std::string_view to_string(syslog_intake_transport transport);

/// Why a received syslog message or stream was refused.
enum class syslog_intake_errc {
  /// No `<PRI>` of 0-191 at the start.
  bad_priority,
  /// Longer than max_received_syslog.
  too_long,
  /// An octet count that is not a number, or a stream in neither RFC 6587 framing.
  bad_framing,
};

std::string_view to_string(syslog_intake_errc code);

using syslog_intake_error = typed_error<syslog_intake_errc>;

/// A syslog message as a device sent it, in RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID
/// MSGID SD MSG`) or the older RFC 3164 form (`<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`).
/// Header fields a device left out ("-", or absent in RFC 3164) are empty.
struct received_syslog {
  int facility = 1;
  syslog_severity severity = syslog_severity::notice;
  /// The sender's own time stamp; nothing when it has none or it cannot be read
  /// (RFC 3164 stamps carry no year or zone and are never trusted).
  std::optional<std::chrono::system_clock::time_point> sent;
  std::string hostname;
  std::string app_name;
  std::string proc_id;
  std::string msg_id;
  /// The STRUCTURED-DATA as sent ("" for "-"); RFC 5424 only.
  std::string structured_data;
  std::string message;
  /// 5424 or 3164.
  int format = 5424;
};

/// Parses one message (without framing; a trailing LF, CR or NUL is ignored). Anything
/// after a valid PRI is taken as well as it can be read: a device's odd header never loses
/// its message.
std::expected<received_syslog, syslog_intake_error> parse_syslog(std::string_view text);

/// RFC 6587 framing of a TCP or TLS syslog stream: octet counting ("LEN SP MSG") when a
/// frame starts with a digit, non-transparent (MSG LF) when it starts with '<'. Fed the
/// bytes as they arrive; hands out whole messages.
class syslog_stream_framer {
public:
  /// Appends received bytes.
  void feed(std::string_view bytes);
  /// The next whole message, nothing while one is incomplete, or an error once the stream
  /// cannot be framed any more (the connection is then closed).
  std::expected<std::optional<std::string>, syslog_intake_error> next();

private:
  std::string buffer_;
};

/// Where a received message came from, and how.
struct syslog_origin {
  syslog_intake_transport transport = syslog_intake_transport::tls;
  /// Numeric address and port of the sender.
  std::string address;
  std::uint16_t port = 0;
};

/// The name the primary's event store keeps a device's messages under: "syslog:" and the
/// sender's address, which is what the receiver knows for sure (the hostname in a message
/// is only what the device claims).
std::string syslog_store_name(const std::string& address);

/// The message as a record of the event store (kind syslog): sequence `sequence`, time the
/// sender's stamp when it has a readable one, else `received`; object HOST/APP, action the
/// facility and severity, reason the message, `after` every header field as JSON.
security::audit_record to_event_record(const received_syslog& message, const syslog_origin& origin,
                                       std::uint64_t sequence,
                                       std::chrono::system_clock::time_point received);

} // namespace ward::cluster
