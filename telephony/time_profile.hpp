#pragma once

#include "core/typed_error.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

/// A moment as the node's wall clock shows it in the node's time zone: what office hours are
/// written in. Converting from UTC is the caller's (an injected zone, see local_time_of).
struct local_moment {
  std::chrono::year_month_day date;
  std::chrono::weekday weekday;
  /// Minutes since local midnight, 0 to 1439.
  std::uint16_t minute = 0;
};

/// A span of the day, [start, end) in minutes since midnight; an end before the start runs
/// past midnight into the next day (a night shift, 22:00-06:00).
struct day_span {
  std::uint16_t start = 0;
  std::uint16_t end = 0;
  bool operator==(const day_span&) const = default;
};

/// Every week on the given days (bit 0 Sunday … bit 6 Saturday, as std::chrono::weekday).
struct weekly_entry {
  std::uint8_t days = 0;
  day_span span;
  bool operator==(const weekly_entry&) const = default;
};

/// One calendar date (a holiday, a special opening).
struct dated_entry {
  std::chrono::year_month_day date;
  day_span span;
  bool operator==(const dated_entry&) const = default;
};

/// SPEC TF-2: when a time profile is active, an ARS table routes by its own short codes;
/// outside, its out-of-hours table does. The profile is active when any weekly entry or
/// any dated entry covers the moment. Dated entries marked `closed` override the weekly
/// entries for the whole date (a public holiday on a weekday).
struct time_profile {
  std::string name;
  std::vector<weekly_entry> weekly;
  std::vector<dated_entry> dated;
  /// Dates on which the profile is inactive all day, whatever the weekly entries say.
  std::vector<std::chrono::year_month_day> closed;
  bool operator==(const time_profile&) const = default;
};

enum class time_profile_errc : std::uint8_t {
  bad_name,
  /// A span not written HH:MM-HH:MM, or a minute past 23:59.
  bad_span,
  /// A day list not made of sun mon tue wed thu fri sat, daily, weekdays, weekend.
  bad_days,
  bad_date,
  too_many_entries,
};

std::string_view to_string(time_profile_errc code);

using time_profile_error = typed_error<time_profile_errc>;

inline constexpr std::size_t max_time_profile_entries = 64;
inline constexpr std::size_t max_time_profile_name_length = 31;

/// "09:00-17:30" as minutes; "00:00-24:00" is the whole day.
std::expected<day_span, time_profile_error> parse_day_span(std::string_view text);
std::string format_day_span(day_span span);

/// "mon,tue,fri", "weekdays", "weekend", "daily" as the bit set of weekly_entry::days.
std::expected<std::uint8_t, time_profile_error> parse_days(std::string_view text);
std::string format_days(std::uint8_t days);

/// "2026-12-25".
std::expected<std::chrono::year_month_day, time_profile_error> parse_date(std::string_view text);
std::string format_date(std::chrono::year_month_day date);

/// Checks a profile's name and entry counts.
std::expected<void, time_profile_error> check_time_profile(const time_profile& profile);

/// Whether `profile` is active at `now`. A span running past midnight counts on the day it
/// starts and the morning after.
bool is_active(const time_profile& profile, const local_moment& now);

/// Converts a UTC instant to the local time of a zone. The node passes one that uses the
/// process's time zone (TZ, /etc/localtime); tests pass a fixed offset.
using zone_converter = std::function<local_moment(std::chrono::system_clock::time_point)>;

/// A converter for a fixed UTC offset.
zone_converter fixed_offset_zone(std::chrono::minutes offset);

/// A converter through localtime_r: the node's own time zone.
zone_converter system_zone();

} // namespace ward::telephony
