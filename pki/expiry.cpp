#include "pki/expiry.hpp"

namespace ward::pki {
namespace {

std::string days_text(std::int64_t days) {
  return std::to_string(days) + (days == 1 ? " day" : " days");
}

} // namespace

std::optional<expiry_warning> expiry_warning_for(const certificate& cert, const std::string& role,
                                                 time_point now) {
  // Compared exactly, not in whole days: 60 days and an hour left is not yet "within 60
  // days".
  if (cert.not_after() - now > std::chrono::days(expiry_warning_days))
    return std::nullopt;
  auto days = cert.days_until_expiry(now);
  if (days >= 0)
    return expiry_warning{days, role + " expires in " + days_text(days)};
  auto since = std::chrono::floor<std::chrono::days>(now - cert.not_after()).count();
  return expiry_warning{days, role + " expired " + days_text(since) + " ago"};
}

} // namespace ward::pki
