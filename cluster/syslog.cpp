#include "cluster/syslog.hpp"

#include "core/utf8.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace ward::cluster {
namespace {

constexpr std::string_view nil_value = "-";
constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

bool is_print_us_ascii(unsigned char c) {
  return c >= 33 && c <= 126;
}

/// A header field as the RFC allows it: PRINTUSASCII only, at most `limit` octets.
std::string header_field(std::string_view value, std::size_t limit) {
  if (value.empty())
    return std::string(nil_value);
  std::string out;
  out.reserve(std::min(value.size(), limit));
  for (const char ch : value.substr(0, limit))
    out.push_back(is_print_us_ascii(static_cast<unsigned char>(ch)) ? ch : '_');
  return out;
}

/// An SD-NAME: 1-32 printable US-ASCII characters other than '=', ' ', ']' and '"'.
std::string param_name(std::string_view name) {
  if (name.empty())
    return "_";
  std::string out;
  for (const char ch : name.substr(0, 32)) {
    const auto c = static_cast<unsigned char>(ch);
    const bool allowed = is_print_us_ascii(c) && ch != '=' && ch != ']' && ch != '"';
    out.push_back(allowed ? ch : '_');
  }
  return out;
}

/// `text` as valid UTF-8 on one line: C0, DEL and C1 controls become spaces (a newline
/// would split the event for receivers that do not use octet counting), invalid bytes
/// become U+FFFD, and the characters in `escaped` get a backslash in front.
std::string single_line_utf8(std::string_view text, std::string_view escaped) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    char32_t code_point = 0;
    const std::size_t length = utf8_sequence(text, code_point);
    if (length == 0) {
      out.append(replacement_character);
      text.remove_prefix(1);
      continue;
    }
    if (code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F)) {
      out.push_back(' ');
    } else {
      if (length == 1 && escaped.find(text[0]) != std::string_view::npos)
        out.push_back('\\');
      out.append(text.substr(0, length));
    }
    text.remove_prefix(length);
  }
  return out;
}

bool is_ascii(std::string_view text) {
  for (const char ch : text)
    if (static_cast<unsigned char>(ch) >= 0x80)
      return false;
  return true;
}

std::string timestamp(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto micros = floor<microseconds>(time);
  const auto day = floor<days>(micros);
  const year_month_day date{day};
  const int year = static_cast<int>(date.year());
  if (year < 0 || year > 9999)
    return std::string(nil_value);
  const hh_mm_ss clock{micros - day};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", year,
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()),
                static_cast<int>(clock.subseconds().count()));
  return buffer;
}

} // namespace

std::string format_rfc5424(const syslog_event& event) {
  const int facility = event.facility >= 0 && event.facility <= 23 ? event.facility : 1;
  const int priority = facility * 8 + static_cast<int>(event.severity);

  std::string out = "<" + std::to_string(priority) + ">1 ";
  out += timestamp(event.time);
  out += ' ';
  out += header_field(event.hostname, 255);
  out += ' ';
  out += header_field(event.app_name, 48);
  out += ' ';
  out += header_field(event.proc_id, 128);
  out += ' ';
  out += header_field(event.msg_id, 32);
  out += ' ';

  if (event.structured.empty()) {
    out += nil_value;
  } else {
    out += '[';
    out += ward_sd_id;
    for (const auto& [name, value] : event.structured) {
      out += ' ';
      out += param_name(name);
      out += "=\"";
      out += single_line_utf8(value, "\"\\]");
      out += '"';
    }
    out += ']';
  }

  if (!event.message.empty()) {
    const std::string message = single_line_utf8(event.message, {});
    out += ' ';
    // RFC 5424 §6.4: the BOM marks MSG as UTF-8. Pure ASCII needs no marker, and leaving
    // it out keeps such lines readable by receivers that do not strip it.
    if (!is_ascii(message))
      out += utf8_bom;
    out += message;
  }
  return out;
}

std::string frame_octet_counted(std::string_view message) {
  std::string out = std::to_string(message.size());
  out.reserve(out.size() + 1 + message.size());
  out += ' ';
  out += message;
  return out;
}

} // namespace ward::cluster
