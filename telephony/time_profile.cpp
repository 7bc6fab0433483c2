#include "telephony/time_profile.hpp"

#include "core/enum_names.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace ward::telephony {
namespace {

constexpr auto time_profile_errc_names =
    name_table(enum_name{time_profile_errc::bad_name, "bad_name"},
               enum_name{time_profile_errc::bad_span, "bad_span"},
               enum_name{time_profile_errc::bad_days, "bad_days"},
               enum_name{time_profile_errc::bad_date, "bad_date"},
               enum_name{time_profile_errc::too_many_entries, "too_many_entries"});

constexpr std::array<std::string_view, 7> day_names{"sun", "mon", "tue", "wed",
                                                    "thu", "fri", "sat"};
constexpr std::uint8_t all_days = 0x7f;
constexpr std::uint8_t weekday_bits = 0x3e;
constexpr std::uint8_t weekend_bits = 0x41;
constexpr std::uint16_t minutes_per_day = 24 * 60;

time_profile_error fail(time_profile_errc code, std::string detail) {
  return {code, std::move(detail)};
}

std::optional<unsigned> parse_number(std::string_view text, std::size_t digits) {
  if (text.size() != digits)
    return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

std::optional<std::uint16_t> parse_clock(std::string_view text, bool allow_midnight_end) {
  if (text.size() != 5 || text[2] != ':')
    return std::nullopt;
  const auto hours = parse_number(text.substr(0, 2), 2);
  const auto minutes = parse_number(text.substr(3, 2), 2);
  if (!hours || !minutes || *minutes > 59)
    return std::nullopt;
  if (*hours == 24 && *minutes == 0 && allow_midnight_end)
    return minutes_per_day;
  if (*hours > 23)
    return std::nullopt;
  return static_cast<std::uint16_t>(*hours * 60 + *minutes);
}

bool covers(day_span span, std::uint16_t minute) {
  if (span.start <= span.end)
    return minute >= span.start && minute < span.end;
  return minute >= span.start || minute < span.end;
}

/// The part of a span that runs past midnight covers `minute` of the next morning.
bool covers_morning_after(day_span span, std::uint16_t minute) {
  return span.end < span.start && minute < span.end;
}

bool has_day(std::uint8_t days, std::chrono::weekday day) {
  return (days >> day.c_encoding()) & 1U;
}

} // namespace

std::string_view to_string(time_profile_errc code) {
  return name_of(time_profile_errc_names, code);
}

std::expected<day_span, time_profile_error> parse_day_span(std::string_view text) {
  const auto dash = text.find('-');
  const auto bad = [&] {
    return std::unexpected(
        fail(time_profile_errc::bad_span, "'" + std::string(text) + "' is not HH:MM-HH:MM"));
  };
  if (dash == std::string_view::npos)
    return bad();
  const auto start = parse_clock(text.substr(0, dash), false);
  const auto end = parse_clock(text.substr(dash + 1), true);
  if (!start || !end)
    return bad();
  if (*start == *end)
    return std::unexpected(fail(time_profile_errc::bad_span,
                                "'" + std::string(text) + "' is empty (start equals end)"));
  return day_span{*start, *end};
}

std::string format_day_span(day_span span) {
  char text[16];
  std::snprintf(text, sizeof text, "%02u:%02u-%02u:%02u", span.start / 60U, span.start % 60U,
                span.end / 60U, span.end % 60U);
  return text;
}

std::expected<std::uint8_t, time_profile_error> parse_days(std::string_view text) {
  if (text == "daily")
    return all_days;
  if (text == "weekdays")
    return weekday_bits;
  if (text == "weekend")
    return weekend_bits;
  std::uint8_t days = 0;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto name = text.substr(0, comma);
    const auto it = std::ranges::find(day_names, name);
    if (it == day_names.end())
      return std::unexpected(fail(time_profile_errc::bad_days,
                                  "'" + std::string(name) +
                                      "' is not a day (sun mon tue wed thu fri sat, or daily, "
                                      "weekdays, weekend)"));
    days |= static_cast<std::uint8_t>(1U << (it - day_names.begin()));
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
    if (text.empty())
      return std::unexpected(fail(time_profile_errc::bad_days, "a day list ends in ','"));
  }
  if (days == 0)
    return std::unexpected(fail(time_profile_errc::bad_days, "no days given"));
  return days;
}

std::string format_days(std::uint8_t days) {
  if (days == all_days)
    return "daily";
  if (days == weekday_bits)
    return "weekdays";
  if (days == weekend_bits)
    return "weekend";
  std::string text;
  for (std::size_t day = 0; day < day_names.size(); ++day) {
    if (!((days >> day) & 1U))
      continue;
    if (!text.empty())
      text += ',';
    text += day_names[day];
  }
  return text;
}

std::expected<std::chrono::year_month_day, time_profile_error> parse_date(std::string_view text) {
  const auto bad = [&] {
    return std::unexpected(
        fail(time_profile_errc::bad_date, "'" + std::string(text) + "' is not a YYYY-MM-DD date"));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-')
    return bad();
  const auto year = parse_number(text.substr(0, 4), 4);
  const auto month = parse_number(text.substr(5, 2), 2);
  const auto day = parse_number(text.substr(8, 2), 2);
  if (!year || !month || !day)
    return bad();
  const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(*year)),
                                         std::chrono::month(*month), std::chrono::day(*day)};
  if (!date.ok())
    return bad();
  return date;
}

std::string format_date(std::chrono::year_month_day date) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::expected<void, time_profile_error> check_time_profile(const time_profile& profile) {
  const bool name_ok = !profile.name.empty() &&
                       profile.name.size() <= max_time_profile_name_length &&
                       std::ranges::all_of(profile.name, [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
                       });
  if (!name_ok)
    return std::unexpected(
        fail(time_profile_errc::bad_name, "name: 1 to 31 letters, digits, '-', '_' or '.'"));
  if (profile.weekly.size() + profile.dated.size() + profile.closed.size() >
      max_time_profile_entries)
    return std::unexpected(fail(time_profile_errc::too_many_entries,
                                "more than " + std::to_string(max_time_profile_entries) +
                                    " entries in one time profile"));
  for (const auto& entry : profile.weekly)
    if (entry.days == 0 || entry.days > all_days || entry.span.start >= minutes_per_day ||
        entry.span.end > minutes_per_day || entry.span.start == entry.span.end)
      return std::unexpected(fail(time_profile_errc::bad_span, "a weekly entry is empty"));
  for (const auto& entry : profile.dated)
    if (!entry.date.ok() || entry.span.start >= minutes_per_day ||
        entry.span.end > minutes_per_day || entry.span.start == entry.span.end)
      return std::unexpected(fail(time_profile_errc::bad_date, "a dated entry is not valid"));
  for (const auto& date : profile.closed)
    if (!date.ok())
      return std::unexpected(fail(time_profile_errc::bad_date, "a closed date is not valid"));
  return {};
}

bool is_active(const time_profile& profile, const local_moment& now) {
  const auto today = std::chrono::sys_days(now.date);
  const std::chrono::year_month_day yesterday{today - std::chrono::days(1)};
  const auto closed = [&](std::chrono::year_month_day date) {
    return std::ranges::find(profile.closed, date) != profile.closed.end();
  };
  // A closed date silences what starts on it, including a night span's morning after.
  const bool today_open = !closed(now.date);
  const bool yesterday_open = !closed(yesterday);
  const auto previous_day = now.weekday - std::chrono::days(1);
  for (const auto& entry : profile.weekly) {
    if (today_open && has_day(entry.days, now.weekday) && covers(entry.span, now.minute) &&
        !covers_morning_after(entry.span, now.minute))
      return true;
    if (yesterday_open && has_day(entry.days, previous_day) &&
        covers_morning_after(entry.span, now.minute))
      return true;
  }
  for (const auto& entry : profile.dated) {
    if (entry.date == now.date && covers(entry.span, now.minute) &&
        !covers_morning_after(entry.span, now.minute))
      return true;
    if (entry.date == yesterday && covers_morning_after(entry.span, now.minute))
      return true;
  }
  return false;
}

zone_converter fixed_offset_zone(std::chrono::minutes offset) {
  return [offset](std::chrono::system_clock::time_point instant) {
    const auto local = std::chrono::floor<std::chrono::minutes>(instant) + offset;
    const auto day = std::chrono::floor<std::chrono::days>(local);
    return local_moment{std::chrono::year_month_day(day), std::chrono::weekday(day),
                        static_cast<std::uint16_t>((local - day).count())};
  };
}

zone_converter system_zone() {
  return [](std::chrono::system_clock::time_point instant) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(instant);
    std::tm parts{};
    ::localtime_r(&seconds, &parts);
    const std::chrono::year_month_day date{
        std::chrono::year(parts.tm_year + 1900),
        std::chrono::month(static_cast<unsigned>(parts.tm_mon + 1)),
        std::chrono::day(static_cast<unsigned>(parts.tm_mday))};
    return local_moment{date, std::chrono::weekday(static_cast<unsigned>(parts.tm_wday)),
                        static_cast<std::uint16_t>(parts.tm_hour * 60 + parts.tm_min)};
  };
}

} // namespace ward::telephony
