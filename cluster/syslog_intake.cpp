#include "cluster/syslog_intake.hpp"

#include "core/enum_names.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cctype>
#include <charconv>

namespace ward::cluster {
namespace {

constexpr auto transport_names = name_table(enum_name{syslog_intake_transport::tls, "tls"},
                                            enum_name{syslog_intake_transport::tcp, "tcp"},
                                            enum_name{syslog_intake_transport::udp, "udp"});

constexpr auto errc_names = name_table(enum_name{syslog_intake_errc::bad_priority, "bad_priority"},
                                       enum_name{syslog_intake_errc::too_long, "too_long"},
                                       enum_name{syslog_intake_errc::bad_framing, "bad_framing"});

constexpr std::array<std::string_view, 24> facility_names{
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
    "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};

constexpr std::array<std::string_view, 8> severity_names{"emerg",   "alert",  "crit", "err",
                                                         "warning", "notice", "info", "debug"};

syslog_intake_error failure(syslog_intake_errc code, std::string detail) {
  return {code, std::move(detail)};
}

/// Cuts the next space-separated header field off `rest`.
std::string_view take_field(std::string_view& rest) {
  auto end = rest.find(' ');
  auto field = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  return field;
}

std::string nil_as_empty(std::string_view field) {
  return field == "-" ? std::string{} : std::string(field);
}

template <class Number> std::optional<Number> number(std::string_view text) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return value;
}

/// An RFC 3339 time stamp as RFC 5424 §6.2.3 allows it: date, 'T', time, up to six
/// fraction digits, and 'Z' or a numeric offset.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  auto y = number<int>(text.substr(0, 4));
  auto mo = number<unsigned>(text.substr(5, 2));
  auto d = number<unsigned>(text.substr(8, 2));
  auto h = number<int>(text.substr(11, 2));
  auto mi = number<int>(text.substr(14, 2));
  auto s = number<int>(text.substr(17, 2));
  if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 60)
    return std::nullopt;
  year_month_day date{year{*y}, month{*mo}, day{*d}};
  if (!date.ok())
    return std::nullopt;
  auto rest = text.substr(19);
  microseconds fraction{0};
  if (!rest.empty() && rest.front() == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits])))
      ++digits;
    if (digits == 1 || digits > 7)
      return std::nullopt;
    auto value = *number<long>(rest.substr(1, digits - 1));
    for (std::size_t i = digits - 1; i < 6; ++i)
      value *= 10;
    fraction = microseconds{value};
    rest = rest.substr(digits);
  }
  minutes offset{0};
  if (rest == "Z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    auto oh = number<int>(rest.substr(1, 2));
    auto om = number<int>(rest.substr(4, 2));
    if (!oh || !om || *oh > 23 || *om > 59)
      return std::nullopt;
    offset = minutes{*oh * 60 + *om} * (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  auto local = sys_days{date} + hours{*h} + minutes{*mi} + seconds{std::min(*s, 59)} + fraction;
  return time_point_cast<std::chrono::system_clock::duration>(local - offset);
}

/// RFC 5424 STRUCTURED-DATA: "-" or one or more "[...]" elements, where ']' inside a
/// quoted value is escaped. Returns the SD text and leaves `rest` at the message.
std::string take_structured_data(std::string_view& rest) {
  if (rest.empty() || rest.front() != '[') {
    auto field = take_field(rest);
    return nil_as_empty(field);
  }
  std::size_t i = 0;
  while (i < rest.size() && rest[i] == '[') {
    bool quoted = false;
    for (++i; i < rest.size(); ++i) {
      char c = rest[i];
      if (quoted && c == '\\') {
        ++i;
        continue;
      }
      if (c == '"')
        quoted = !quoted;
      else if (c == ']' && !quoted)
        break;
    }
    if (i < rest.size())
      ++i; // past ']'
  }
  std::string data(rest.substr(0, i));
  rest = rest.substr(i);
  if (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  return data;
}

std::string message_text(std::string_view text) {
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  if (text.starts_with(bom))
    text.remove_prefix(bom.size());
  return std::string(text);
}

void parse_rfc5424(std::string_view rest, received_syslog& message) {
  message.format = 5424;
  message.sent = parse_rfc3339(take_field(rest));
  message.hostname = nil_as_empty(take_field(rest));
  message.app_name = nil_as_empty(take_field(rest));
  message.proc_id = nil_as_empty(take_field(rest));
  message.msg_id = nil_as_empty(take_field(rest));
  message.structured_data = take_structured_data(rest);
  message.message = message_text(rest);
}

bool is_rfc3164_stamp(std::string_view text) {
  // "Mmm dd hh:mm:ss" with the day space-padded: 15 characters.
  return text.size() >= 16 && std::isalpha(static_cast<unsigned char>(text[0])) && text[3] == ' ' &&
         text[6] == ' ' && text[9] == ':' && text[12] == ':' && text[15] == ' ';
}

void parse_rfc3164(std::string_view rest, received_syslog& message) {
  message.format = 3164;
  if (is_rfc3164_stamp(rest)) {
    rest.remove_prefix(16);
    message.hostname = std::string(take_field(rest));
  }
  // TAG: up to 32 alphanumerics, optionally "[pid]", then ':'.
  auto colon = rest.find(": ");
  auto tag = rest.substr(0, colon);
  if (colon != std::string_view::npos && tag.size() <= 48 &&
      tag.find(' ') == std::string_view::npos) {
    auto bracket = tag.find('[');
    message.app_name = std::string(tag.substr(0, bracket));
    if (bracket != std::string_view::npos && tag.back() == ']')
      message.proc_id = std::string(tag.substr(bracket + 1, tag.size() - bracket - 2));
    rest = rest.substr(colon + 2);
  }
  message.message = std::string(rest);
}

std::string peer_text(const syslog_origin& origin) {
  bool v6 = origin.address.find(':') != std::string::npos;
  return (v6 ? "ipv6:[" + origin.address + "]:" : "ipv4:" + origin.address + ":") +
         std::to_string(origin.port);
}

} // namespace

std::string_view to_string(syslog_intake_transport transport) {
  return name_of(transport_names, transport);
}

std::string_view to_string(syslog_intake_errc code) {
  return name_of(errc_names, code);
}

std::expected<received_syslog, syslog_intake_error> parse_syslog(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == '\0'))
    text.remove_suffix(1);
  if (text.size() > max_received_syslog)
    return std::unexpected(
        failure(syslog_intake_errc::too_long, std::to_string(text.size()) + " octets, at most " +
                                                  std::to_string(max_received_syslog)));
  auto close = text.find('>');
  if (text.empty() || text.front() != '<' || close == std::string_view::npos || close < 2 ||
      close > 4)
    return std::unexpected(failure(syslog_intake_errc::bad_priority, "no <PRI> at the start"));
  auto priority = number<int>(text.substr(1, close - 1));
  if (!priority || *priority > 191 || (close > 2 && text[1] == '0'))
    return std::unexpected(
        failure(syslog_intake_errc::bad_priority, "PRI must be 0-191 without leading zeros"));
  received_syslog message;
  message.facility = *priority / 8;
  message.severity = static_cast<syslog_severity>(*priority % 8);
  auto rest = text.substr(close + 1);
  if (rest.starts_with("1 "))
    parse_rfc5424(rest.substr(2), message);
  else
    parse_rfc3164(rest, message);
  return message;
}

void syslog_stream_framer::feed(std::string_view bytes) {
  buffer_.append(bytes);
}

std::expected<std::optional<std::string>, syslog_intake_error> syslog_stream_framer::next() {
  // Line ends and NULs between frames carry nothing.
  std::size_t start = 0;
  while (start < buffer_.size() &&
         (buffer_[start] == '\n' || buffer_[start] == '\r' || buffer_[start] == '\0'))
    ++start;
  buffer_.erase(0, start);
  if (buffer_.empty())
    return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(buffer_.front()))) {
    auto space = buffer_.find(' ');
    if (space == std::string::npos) {
      if (buffer_.size() > 5)
        return std::unexpected(failure(syslog_intake_errc::bad_framing, "octet count too long"));
      return std::nullopt;
    }
    auto length = number<std::size_t>(std::string_view(buffer_).substr(0, space));
    if (!length || buffer_.front() == '0')
      return std::unexpected(
          failure(syslog_intake_errc::bad_framing, "octet count is not a number"));
    if (*length > max_received_syslog)
      return std::unexpected(
          failure(syslog_intake_errc::too_long, "frame of " + std::to_string(*length) + " octets"));
    if (buffer_.size() < space + 1 + *length)
      return std::nullopt;
    std::string message = buffer_.substr(space + 1, *length);
    buffer_.erase(0, space + 1 + *length);
    return message;
  }
  if (buffer_.front() != '<')
    return std::unexpected(failure(syslog_intake_errc::bad_framing,
                                   "a frame starts with neither an octet count nor '<'"));
  auto end = buffer_.find_first_of(std::string_view("\n\0", 2));
  if (end == std::string::npos) {
    if (buffer_.size() > max_received_syslog)
      return std::unexpected(
          failure(syslog_intake_errc::too_long, "no line end within the longest message"));
    return std::nullopt;
  }
  std::string message = buffer_.substr(0, end);
  buffer_.erase(0, end + 1);
  return message;
}

std::string syslog_store_name(const std::string& address) {
  return "syslog:" + address;
}

security::audit_record to_event_record(const received_syslog& message, const syslog_origin& origin,
                                       std::uint64_t sequence,
                                       std::chrono::system_clock::time_point received) {
  security::audit_record record;
  record.sequence = sequence;
  record.time =
      std::chrono::time_point_cast<std::chrono::microseconds>(message.sent.value_or(received));
  record.kind = security::audit_kind::syslog;
  record.outcome = security::audit_outcome::success;
  record.source = peer_text(origin);
  record.service = "syslog/" + std::string(to_string(origin.transport));
  auto facility = message.facility >= 0 && message.facility < 24
                      ? facility_names[static_cast<std::size_t>(message.facility)]
                      : std::string_view("user");
  record.action = std::string(facility) + "." +
                  std::string(severity_names[static_cast<std::size_t>(message.severity)]);
  record.object = (message.hostname.empty() ? origin.address : message.hostname) +
                  (message.app_name.empty() ? "" : "/" + message.app_name);
  record.reason = message.message;
  nlohmann::json fields{{"format", message.format},
                        {"hostname", message.hostname},
                        {"app_name", message.app_name},
                        {"proc_id", message.proc_id},
                        {"msg_id", message.msg_id},
                        {"structured_data", message.structured_data},
                        {"sender_time_readable", message.sent.has_value()}};
  record.after = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return record;
}

} // namespace ward::cluster
