#pragma once

#include <string>
#include <string_view>

namespace ward::pki {

/// `text` with everything but printable ASCII shown as '?', so a hostile value cannot
/// forge lines in the log an error message ends up in.
inline std::string loggable(std::string_view text) {
  std::string shown(text.substr(0, 256));
  for (auto& c : shown)
    if (c < 0x20 || c > 0x7e)
      c = '?';
  return shown;
}

} // namespace ward::pki
