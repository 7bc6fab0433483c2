#include "security/security_counters.hpp"

namespace ward::security {

void security_counters::count(const audit_record& record) {
  switch (record.kind) {
    case audit_kind::login:
      ++(record.outcome == audit_outcome::success ? logins_succeeded_ : logins_failed_);
      return;
    case audit_kind::alarm:
      ++alarms_;
      if (record.action == "account_locked")
        ++lockouts_;
      return;
    default:
      return;
  }
}

} // namespace ward::security
