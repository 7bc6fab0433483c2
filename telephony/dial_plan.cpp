#include "telephony/dial_plan.hpp"

#include "core/enum_names.hpp"

#include <algorithm>

namespace ward::telephony {

constexpr auto dial_outcome_names = name_table(enum_name{dial_outcome::extension, "extension"},
                                               enum_name{dial_outcome::emergency, "emergency"},
                                               enum_name{dial_outcome::unknown, "unknown"},
                                               enum_name{dial_outcome::barred, "barred"});

std::string_view to_string(dial_outcome outcome) {
  return name_of(dial_outcome_names, outcome);
}

dial_result route_dialled(const telephony_directory_data& directory, std::string_view caller,
                          std::string_view dialled) {
  if (dialled.empty())
    return {dial_outcome::unknown, {}, "no number dialled"};
  const auto& policy = directory.policy;
  if (std::ranges::find(policy.emergency_numbers, dialled) != policy.emergency_numbers.end()) {
    if (policy.emergency_extension.empty())
      return {dial_outcome::emergency,
              {},
              "emergency number " + std::string(dialled) + " with no emergency route configured"};
    return {dial_outcome::emergency, policy.emergency_extension,
            "emergency number " + std::string(dialled)};
  }
  auto it = directory.extensions.find(std::string(dialled));
  if (it == directory.extensions.end())
    return {dial_outcome::unknown, {}, "no extension " + std::string(dialled)};
  if (dialled == caller)
    return {dial_outcome::barred, {}, "an extension cannot call itself"};
  return {dial_outcome::extension, it->first, "internal extension"};
}

} // namespace ward::telephony
