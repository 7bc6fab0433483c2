#pragma once

#include "pki/certificate.hpp"

#include <cstdint>
#include <optional>
#include <string>

/// The certificate expiry warning (SPEC PKI-10), apart from the daily sweep that raises it.
namespace ward::pki {

/// A certificate within this many days of its end, or past it, raises the daily alarm.
inline constexpr std::int64_t expiry_warning_days = 60;

struct expiry_warning {
  /// Whole days left, rounded down; negative once expired.
  std::int64_t days_left = 0;
  /// For the alarm: "<role> expires in N days" or "<role> expired N days ago".
  std::string text;
};

/// The warning for `cert` at `now`, or nothing while more than expiry_warning_days are
/// left. `role` names the certificate's use, e.g. "node identity".
std::optional<expiry_warning> expiry_warning_for(const certificate& cert, const std::string& role,
                                                 time_point now);

} // namespace ward::pki
