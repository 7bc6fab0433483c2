#include "security/session_table.hpp"

#include "core/hex.hpp"

#include <array>
#include <span>

namespace ward::security {
session_table::session_table(const clock& time, const random_source& random,
                             std::chrono::seconds lifetime, std::size_t sweep_threshold)
    : time_(time), random_(random), lifetime_(lifetime), sweep_threshold_(sweep_threshold) {}

std::string session_table::open(const std::string& user, std::uint64_t credential_version) {
  std::array<std::byte, 32> bytes{};
  random_(bytes);
  auto token = to_hex(bytes);
  auto now = time_.now();
  if (sessions_.size() >= sweep_threshold_)
    std::erase_if(sessions_, [now](const auto& entry) { return now >= entry.second.expires_at; });
  sessions_[token] = session{user, credential_version, now + lifetime_};
  return token;
}

security_result<session_principal> session_table::resolve(const std::string& token,
                                                          const security_database& database) {
  auto now = time_.now();
  auto it = sessions_.find(token);
  if (token.empty() || it == sessions_.end())
    return std::unexpected(security_error{security_errc::unauthenticated, "session",
                                          "no valid session: log in first"});
  if (now >= it->second.expires_at) {
    sessions_.erase(it);
    return std::unexpected(
        security_error{security_errc::unauthenticated, "session", "session expired: log in again"});
  }
  auto principal = database.principal(it->second.user, it->second.credential_version, now);
  if (!principal)
    sessions_.erase(it);
  return principal;
}

std::optional<session> session_table::close(const std::string& token) {
  auto it = sessions_.find(token);
  if (it == sessions_.end())
    return std::nullopt;
  auto ended = std::move(it->second);
  sessions_.erase(it);
  return ended;
}

} // namespace ward::security
