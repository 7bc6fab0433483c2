#pragma once

#include "pki/certificate.hpp"

#include <mutex>

namespace ward::pki {

/// The certificate in use right now, shared between whoever replaces it (a TLS reload)
/// and whoever reports it (status, metrics), so reports never show a retired identity.
class current_certificate {
public:
  explicit current_certificate(certificate initial) : cert_(std::move(initial)) {}

  certificate get() const {
    std::lock_guard lock(mutex_);
    return cert_;
  }

  void set(certificate replacement) {
    std::lock_guard lock(mutex_);
    cert_ = std::move(replacement);
  }

private:
  mutable std::mutex mutex_;
  certificate cert_;
};

} // namespace ward::pki
