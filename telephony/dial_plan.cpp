#include "telephony/dial_plan.hpp"

namespace ward::telephony {

std::string_view to_string(dial_outcome outcome) {
  switch (outcome) {
    case dial_outcome::extension:
      return "extension";
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
  auto it = directory.extensions.find(std::string(dialled));
  if (it == directory.extensions.end())
    return {dial_outcome::unknown, {}, "no extension " + std::string(dialled)};
  if (dialled == caller)
    return {dial_outcome::barred, {}, "an extension cannot call itself"};
  return {dial_outcome::extension, it->first, "internal extension"};
}

} // namespace ward::telephony
