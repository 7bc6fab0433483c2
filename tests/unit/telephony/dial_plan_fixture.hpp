#pragma once

// A telephony directory for dial plan tests: extensions, users at them, emergency numbers and
// a dial plan.
#include "telephony/directory.hpp"

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

} // namespace ward::test
