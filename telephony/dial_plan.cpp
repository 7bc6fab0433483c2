#include "telephony/dial_plan.hpp"

#include <algorithm>

namespace ward::telephony {

std::string_view to_string(dial_outcome outcome) {
  switch (outcome) {
    case dial_outcome::extension:
      return "extension";
    case dial_outcome::emergency:
      return "emergency";
    case dial_outcome::unknown:
      return "unknown";
    case dial_outcome::barred:
      return "barred";
  }
  return "unknown";
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
