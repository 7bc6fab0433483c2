#pragma once

// A telephony directory for dial plan tests: extensions, users at them, emergency numbers and
// a dial plan.
#include "telephony/directory.hpp"

#include <chrono>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace ward::test {

inline telephony::telephony_directory_data
directory_of(const telephony::dial_plan_config& plan, std::initializer_list<const char*> extensions,
             std::initializer_list<std::pair<const char*, const char*>> users,
             std::vector<std::string> emergency_numbers = {"911"}) {
  telephony::telephony_directory_data data;
  for (const auto* number : extensions)
    data.extensions.emplace(number, telephony::extension_record{number, {}, false, true});
  for (const auto& [name, extension] : users) {
    telephony::telephony_user user;
    user.name = name;
    user.extension = extension;
    data.users.emplace(user.name, user);
  }
  data.policy.emergency_numbers = std::move(emergency_numbers);
  data.dial_plan = plan;
  return data;
}

/// One carrier trunk behind 50:Main, which dials every number; the system's 9N sends the
/// number to 50:Main.
inline telephony::dial_plan_config carrier_plan() {
  using telephony::short_code_feature;
  telephony::dial_plan_config plan;
  telephony::trunk_config carrier;
  carrier.name = "carrier";
  carrier.address = "192.0.2.50";
  plan.trunks.emplace("carrier", carrier);
  plan.ars_tables.front().codes = {{"N;", short_code_feature::dial, "N", {}}};
  plan.ars_tables.front().trunks = {"carrier"};
  plan.system_short_codes = {{"9N", short_code_feature::dial, "N", "50:Main"}};
  return plan;
}

/// Monday 2026-12-07, 10:00 local time.
inline telephony::local_moment monday_morning() {
  using namespace std::chrono;
  return {year_month_day{year(2026), December, day(7)}, Monday, 600};
}

} // namespace ward::test
