#pragma once

#include "telephony/directory.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ward::telephony {

/// What the dial plan makes of a dialled number (SPEC SIP-6; the short codes, ARS tables and
/// barring of SPEC TF-1..TF-5 extend it).
enum class dial_outcome : std::uint8_t {
  /// An internal extension: the call goes to where it is registered.
  extension,
  /// One of the policy's emergency numbers (SPEC TF-1 "Dial Emergency", TF-2, TF-5): never
  /// barred, rung at the emergency extension, and its media falls back to RTP where Enforce
  /// cannot be met (SPEC MED-2). `extension` is empty when no emergency route is configured.
  emergency,
  /// Nothing the dial plan knows: 404.
  unknown,
  /// The dial plan refuses this caller this number: 403.
  barred,
};

std::string_view to_string(dial_outcome outcome);

struct dial_result {
  dial_outcome outcome = dial_outcome::unknown;
  /// The extension to ring, for dial_outcome::extension and dial_outcome::emergency.
  std::string extension;
  /// For the audit trail and the call record.
  std::string detail;
};

/// Routes `dialled` (the Request-URI user) for `caller`. Emergency numbers come first, so no
/// extension can shadow one; then internal extensions. A caller's own extension is barred
/// so a phone cannot loop calls through the node.
dial_result route_dialled(const telephony_directory_data& directory, std::string_view caller,
                          std::string_view dialled);

} // namespace ward::telephony
