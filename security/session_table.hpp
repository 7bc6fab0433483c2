#pragma once

#include "core/clock.hpp"
#include "core/random.hpp"
#include "security/security_database.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace ward::security {

/// One administrative session: who proved their password, with which credentials, and
/// until when the token is honoured.
struct session {
  std::string user;
  /// The credential version the password was proven at; a later password change or
  /// account edit revokes the session.
  std::uint64_t credential_version = 0;
  clock::time_point expires_at;
};

/// The administrative sessions a node has handed out (DESIGN §4 "Admin login"). Tokens
/// come from the injected randomness, expiry from the injected clock, and every lookup
/// re-resolves the user against the current security settings. Not thread-safe: one
/// owner (the security actor) uses it.
class session_table {
public:
  /// Expired sessions are only noticed when used; once the table holds `sweep_threshold`
  /// sessions, opening another first drops the expired ones.
  static constexpr std::size_t default_sweep_threshold = 1024;

  session_table(const clock& time, const random_source& random, std::chrono::seconds lifetime,
                std::size_t sweep_threshold = default_sweep_threshold);

  /// Opens a session for `user`, whose password was just proven at `credential_version`,
  /// and returns its token: 32 random bytes as lowercase hex.
  std::string open(const std::string& user, std::uint64_t credential_version);

  /// The principal behind `token` now. Unknown and expired tokens are refused; a session
  /// whose user the settings no longer admit at its credential version (password changed,
  /// account disabled or removed) is revoked, and the settings' reason returned.
  security_result<session_principal> resolve(const std::string& token,
                                             const security_database& database);

  /// Ends the session behind `token`; the session it ended, nullopt when there was none.
  std::optional<session> close(const std::string& token);

  /// Sessions held, expired ones not yet dropped included.
  std::size_t size() const { return sessions_.size(); }

private:
  const clock& time_;
  const random_source& random_;
  std::chrono::seconds lifetime_;
  std::size_t sweep_threshold_;
  std::map<std::string, session> sessions_;
};

} // namespace ward::security
