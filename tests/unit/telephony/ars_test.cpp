// SPEC TF-2: ARS tables, the guide's copies of 50:Main, time profiles and emergency routes.
#include "telephony/ars.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ward::telephony;
using namespace std::chrono;

namespace {

using enum short_code_feature;

const std::vector<std::string> emergency{"911"};

/// Chapter 16 "User Based Barring" for a NANP site: Main restricted to local calls (0N; and
/// 1N; barred, *67 and *82 barred), Local & Long Distance allowing 1XXXN; but not 1-900,
/// Unrestricted allowing everything. Both copies fall back to Main out of hours.
std::vector<ars_table> guide_tables() {
  ars_table main;
  main.codes = {{"911", dial_emergency, "911", {}}, {"0N;", barred, "SMDR", {}},
                {"1N;", barred, "SMDR", {}},        {"*67N;", barred, "SMDR", {}},
                {"*82N;", barred, "SMDR", {}},      {"N;", dial, "N", {}}};
  main.trunks = {"carrier"};
  ars_table long_distance;
  long_distance.id = 51;
  long_distance.name = "Local & Long Distance";
  long_distance.codes = {{"911", dial_emergency, "911", {}},
                         {"1900N", barred, "SMDR", {}},
                         {"1XXXN;", dial, "1N", {}},
                         {"0N;", barred, "SMDR", {}},
                         {"*67N;", barred, "SMDR", {}},
                         {"*82N;", barred, "SMDR", {}},
                         {"N;", dial, "N", {}}};
  long_distance.trunks = {"carrier"};
  long_distance.time_profile = "office";
  long_distance.out_of_hours = main_ars_id;
  ars_table unrestricted;
  unrestricted.id = 52;
  unrestricted.name = "Unrestricted";
  unrestricted.codes = {{"911", dial_emergency, "911", {}}, {"N;", dial, "N", {}}};
  unrestricted.trunks = {"carrier", "backup"};
  unrestricted.time_profile = "office";
  unrestricted.out_of_hours = main_ars_id;
  return {main, long_distance, unrestricted};
}

std::vector<time_profile> profiles() {
  time_profile office;
  office.name = "office";
  office.weekly.push_back({*parse_days("weekdays"), *parse_day_span("08:00-18:00")});
  return {office};
}

local_moment monday(int hour) {
  const year_month_day date{year(2026), December, day(7)};
  return {date, Monday, static_cast<std::uint16_t>(hour * 60)};
}

compiled_ars compiled(const std::vector<ars_table>& tables) {
  auto ars = compile_ars(tables, profiles(), emergency);
  REQUIRE(ars.has_value());
  return *ars;
}

struct routed {
  std::uint32_t table;
  std::string number;
  int hour;
  short_code_feature want;
  std::uint32_t decided_by;
};

} // namespace

TEST_CASE("TF-2 the guide's three tables route by the table a user's short code chose") {
  const auto ars = compiled(guide_tables());
  const std::vector<routed> cases{
      {50, "5551234", 10, dial, 50},
      {50, "12125551234", 10, barred, 50},
      {50, "011442079460000", 10, barred, 50},
      {50, "*6712125551234", 10, barred, 50},
      {51, "12125551234", 10, dial, 51},
      {51, "19005551234", 10, barred, 51},
      {51, "*8212125551234", 10, barred, 51},
      {51, "011442079460000", 10, barred, 51},
      {52, "011442079460000", 10, dial, 52},
      // Out of hours the copies fall back to Main: local only.
      {51, "12125551234", 20, barred, 50},
      {52, "011442079460000", 20, barred, 50},
      {52, "5551234", 20, dial, 50},
      // Every table, in and out of hours, routes 911.
      {50, "911", 10, dial_emergency, 50},
      {51, "911", 20, dial_emergency, 50},
      {52, "911", 10, dial_emergency, 52},
  };
  for (const auto& one : cases) {
    CAPTURE(one.table);
    CAPTURE(one.number);
    CAPTURE(one.hour);
    const auto match = match_ars(ars, one.table, one.number, monday(one.hour));
    REQUIRE(match.has_value());
    REQUIRE(match->match.status == match_status::matched);
    CHECK(match->match.code->source.feature == one.want);
    CHECK(match->table->source.id == one.decided_by);
    CHECK(match->out_of_hours == (one.decided_by != one.table));
  }
  const auto dialled = match_ars(ars, 51, "12125551234", monday(10));
  CHECK(dialled->match.number == "12125551234");
  CHECK(dialled->table->source.trunks == std::vector<std::string>{"carrier"});
  CHECK_FALSE(match_ars(ars, 53, "911", monday(10)).has_value());
}

TEST_CASE("TF-2 every table routes the emergency numbers, whatever its own codes say") {
  // Without its own 911 code, and with a Barred 9N that would catch 911: still routed.
  auto tables = guide_tables();
  tables[1].codes.erase(tables[1].codes.begin());
  tables[2].codes = {{"9N", barred, {}, {}}, {"N;", dial, "N", {}}};
  const auto ars = compiled(tables);
  for (const std::uint32_t id : {50U, 51U, 52U}) {
    CAPTURE(id);
    const auto match = match_ars(ars, id, "911", monday(10));
    REQUIRE(match->match.status == match_status::matched);
    CHECK(match->match.code->source.feature == dial_emergency);
    CHECK(match->match.number == "911");
  }
  CHECK(match_ars(ars, 52, "9123", monday(10))->match.code->source.feature == barred);
  // A table's own code for exactly an emergency number must be an emergency one.
  tables = guide_tables();
  tables[1].codes[0] = {"911", barred, "SMDR", {}};
  const auto refused = compile_ars(tables, profiles(), emergency);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ars_errc::emergency_not_routed);
  CHECK(refused.error().detail.find("51:Local & Long Distance") != std::string::npos);
}

TEST_CASE("TF-2 route tables are checked: features, Main, profiles and fallbacks") {
  auto tables = guide_tables();
  tables[2].codes.push_back({"*34", outgoing_call_bar_on, {}, {}});
  CHECK(compile_ars(tables, profiles(), emergency).error().code == ars_errc::feature_not_allowed);

  tables = guide_tables();
  tables[2].codes.push_back({"8N", dial, "N", "50:Main"});
  CHECK(compile_ars(tables, profiles(), emergency).error().code == ars_errc::bad_short_code);

  tables = guide_tables();
  tables.erase(tables.begin());
  tables[0].out_of_hours = 52;
  tables[1].out_of_hours = 51;
  CHECK(compile_ars(tables, profiles(), emergency).error().code == ars_errc::missing_main);

  tables = guide_tables();
  tables[0].time_profile = "office";
  tables[0].out_of_hours = 51;
  tables[1].out_of_hours = 50;
  CHECK(compile_ars(tables, profiles(), emergency).error().code == ars_errc::bad_fallback);

  tables = guide_tables();
  tables[1].out_of_hours = 77;
  CHECK(compile_ars(tables, profiles(), emergency).error().code == ars_errc::bad_fallback);

  tables = guide_tables();
  tables[1].time_profile = "weekend";
  CHECK(compile_ars(tables, profiles(), emergency).error().code == ars_errc::unknown_time_profile);

  tables = guide_tables();
  tables[2].id = 51;
  CHECK(compile_ars(tables, profiles(), emergency).error().code == ars_errc::bad_table);

  tables = guide_tables();
  tables[2].name = "Un:restricted";
  CHECK(compile_ars(tables, profiles(), emergency).error().code == ars_errc::bad_table);
}
