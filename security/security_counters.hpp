#pragma once

#include "security/audit_log.hpp"

#include <atomic>
#include <cstdint>

namespace ward::security {

/// Running counts of the security events an operator graphs and alerts on (SPEC MON-4),
/// taken from the audit records as they are written: administrative logins by outcome,
/// account lockouts (service and telephony users) and alarms. Thread-safe: the security
/// actor counts, the metrics exposer reads.
class security_counters {
public:
  void count(const audit_record& record);

  std::uint64_t logins_succeeded() const { return logins_succeeded_.load(); }
  std::uint64_t logins_failed() const { return logins_failed_.load(); }
  std::uint64_t lockouts() const { return lockouts_.load(); }
  std::uint64_t alarms() const { return alarms_.load(); }

private:
  std::atomic<std::uint64_t> logins_succeeded_{0};
  std::atomic<std::uint64_t> logins_failed_{0};
  std::atomic<std::uint64_t> lockouts_{0};
  std::atomic<std::uint64_t> alarms_{0};
};

} // namespace ward::security
