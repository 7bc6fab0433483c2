// SPEC TF-2: time profiles switch an ARS table to its out-of-hours fallback.
#include "telephony/time_profile.hpp"

#include <doctest/doctest.h>

using namespace ward::telephony;
using namespace std::chrono;

namespace {

/// 2026-12-07 was a Monday.
local_moment at(int day_of_december, int hour, int minute) {
  const year_month_day date{year(2026), December, day(static_cast<unsigned>(day_of_december))};
  return {date, weekday(sys_days(date)), static_cast<std::uint16_t>(hour * 60 + minute)};
}

time_profile office_hours() {
  time_profile profile;
  profile.name = "office";
  profile.weekly.push_back({*parse_days("weekdays"), *parse_day_span("08:30-17:30")});
  profile.weekly.push_back({*parse_days("sat"), *parse_day_span("09:00-12:00")});
  profile.dated.push_back({*parse_date("2026-12-13"), *parse_day_span("10:00-14:00")});
  profile.closed.push_back(*parse_date("2026-12-25"));
  return profile;
}

} // namespace

TEST_CASE("TF-2 a weekly profile is active inside its spans, on its days") {
  const auto profile = office_hours();
  CHECK(is_active(profile, at(7, 8, 30)));
  CHECK(is_active(profile, at(7, 17, 29)));
  CHECK_FALSE(is_active(profile, at(7, 17, 30)));
  CHECK_FALSE(is_active(profile, at(7, 8, 29)));
  CHECK(is_active(profile, at(12, 11, 0)));       // Saturday morning
  CHECK_FALSE(is_active(profile, at(12, 13, 0))); // Saturday afternoon
  CHECK(is_active(profile, at(13, 10, 0)));       // a Sunday opening on its date
  CHECK_FALSE(is_active(profile, at(20, 10, 0))); // the next Sunday: no entry
  CHECK_FALSE(is_active(profile, at(25, 10, 0))); // Christmas, a Friday, closed
  CHECK(is_active(profile, at(24, 10, 0)));
}

TEST_CASE("TF-2 a span past midnight belongs to the day it starts") {
  time_profile night;
  night.name = "night";
  night.weekly.push_back({*parse_days("fri"), *parse_day_span("22:00-06:00")});
  CHECK(is_active(night, at(11, 23, 0)));      // Friday night
  CHECK(is_active(night, at(12, 5, 59)));      // Saturday morning after
  CHECK_FALSE(is_active(night, at(12, 6, 0))); // over
  CHECK_FALSE(is_active(night, at(11, 3, 0))); // Friday morning follows Thursday
  night.closed.push_back(*parse_date("2026-12-11"));
  CHECK_FALSE(is_active(night, at(12, 1, 0))); // the closed Friday's night is closed too
}

TEST_CASE("TF-2 the node's zone converts UTC; a fixed offset stands in for it in tests") {
  const auto zone = fixed_offset_zone(minutes(-5 * 60));
  // 2026-12-08 03:00 UTC is 22:00 on Monday the 7th at UTC-5.
  const auto instant = sys_days(year_month_day{year(2026), December, day(8)}) + hours(3);
  const auto local = zone(instant);
  CHECK(local.date == year_month_day{year(2026), December, day(7)});
  CHECK(local.weekday == Monday);
  CHECK(local.minute == 22 * 60);
}

TEST_CASE("TF-2 spans, days and dates are read strictly and written back the same") {
  CHECK(format_day_span(*parse_day_span("08:30-17:30")) == "08:30-17:30");
  CHECK(format_day_span(*parse_day_span("00:00-24:00")) == "00:00-24:00");
  CHECK(format_days(*parse_days("mon,wed,fri")) == "mon,wed,fri");
  CHECK(format_days(*parse_days("sat,sun")) == "weekend");
  CHECK(format_date(*parse_date("2026-02-28")) == "2026-02-28");
  for (const auto* bad : {"8:30-17:30", "08:30", "24:00-08:00", "08:60-09:00", "09:00-09:00"})
    CHECK(parse_day_span(bad).error().code == time_profile_errc::bad_span);
  for (const auto* bad : {"", "monday", "mon,", "mon,,tue"})
    CHECK(parse_days(bad).error().code == time_profile_errc::bad_days);
  for (const auto* bad : {"2026-02-30", "2026-2-3", "26-02-03"})
    CHECK(parse_date(bad).error().code == time_profile_errc::bad_date);
  time_profile unnamed;
  CHECK(check_time_profile(unnamed).error().code == time_profile_errc::bad_name);
  auto many = office_hours();
  many.closed.resize(max_time_profile_entries, *parse_date("2027-01-01"));
  CHECK(check_time_profile(many).error().code == time_profile_errc::too_many_entries);
  CHECK(check_time_profile(office_hours()).has_value());
}
