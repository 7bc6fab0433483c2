#pragma once

#include "security/credential_rules.hpp"
#include "security/lockout.hpp"
#include "security/password_hash.hpp"
#include "security/security_database.hpp"

#include <map>
#include <optional>
#include <string>

namespace ward::telephony {

using security::time_point;

/// SIP digest secrets of one identity, as HA1 values (SPEC SEC-9): never the secret itself.
struct digest_secrets {
  std::string ha1_md5;
  std::string ha1_sha256;
  bool operator==(const digest_secrets&) const = default;
};

/// HA1 = H(username ":" realm ":" secret) for MD5 and SHA-256 (RFC 2617, RFC 8760).
digest_secrets make_digest_secrets(std::string_view username, std::string_view realm,
                                   std::string_view secret);

/// A telephony user (SPEC SEC-2): lives in the configuration, not the security settings.
struct telephony_user {
  std::string name;
  std::string full_name;
  std::string extension;
  /// Argon2id of the user password (portal, applications); empty = none set.
  std::string password_hash;
  /// The login code, as digest secrets for SIP registration under the extension number and
  /// as Argon2id for phone login; empty = none set.
  digest_secrets login_code_digest;
  std::string login_code_hash;
  /// Argon2id of the voicemail code; empty = none set.
  std::string voicemail_code_hash;
  security::lock_state lock;
};

/// A SIP extension (SPEC SIP-2): its phone password as digest secrets.
struct extension_record {
  std::string number;
  digest_secrets phone_password_digest;
  bool has_phone_password = false;
  /// Registration must authenticate (SPEC SIP-2: on by default).
  bool force_authorization = true;
};

struct telephony_directory_data {
  std::uint64_t version = 1;
  std::map<std::string, telephony_user> users;
  std::map<std::string, extension_record> extensions;
};

/// Fields of a telephony user to set; unset fields stay as they are.
struct telephony_user_fields {
  std::optional<std::string> full_name;
  std::optional<std::string> extension;
  std::optional<std::string> password;
  std::optional<std::string> login_code;
  std::optional<std::string> voicemail_code;
};

struct extension_fields {
  std::optional<std::string> phone_password;
  std::optional<bool> force_authorization;
};

enum class user_login_outcome : std::uint8_t { success, bad_credentials, locked };

struct user_login_result {
  user_login_outcome outcome = user_login_outcome::bad_credentials;
  security::lockout_event lock_event = security::lockout_event::none;
};

/// The telephony users and extensions of the configuration, with the policies of the
/// security settings applied to every secret (SPEC POL-2, POL-5, POL-6). Pure.
class telephony_directory {
public:
  telephony_directory(telephony_directory_data data, std::string realm, security::argon2_cost cost)
      : data_(std::move(data)), realm_(std::move(realm)), cost_(cost) {}

  const telephony_directory_data& data() const { return data_; }
  /// Replaces the users and extensions with a copy replicated from the primary (SPEC
  /// LINE-2 configuration pushes); realm and hashing cost stay.
  void replace_data(telephony_directory_data data) { data_ = std::move(data); }
  const std::string& realm() const { return realm_; }

  security::security_result<void> create_user(std::string_view name,
                                              const telephony_user_fields& fields,
                                              const security::security_settings& policy);
  security::security_result<void> update_user(std::string_view name,
                                              const telephony_user_fields& fields,
                                              const security::security_settings& policy);
  security::security_result<void> delete_user(std::string_view name);
  security::security_result<void> unlock_user(std::string_view name);

  security::security_result<void> create_extension(std::string_view number,
                                                   const extension_fields& fields,
                                                   const security::security_settings& policy);
  security::security_result<void> update_extension(std::string_view number,
                                                   const extension_fields& fields,
                                                   const security::security_settings& policy);
  security::security_result<void> delete_extension(std::string_view number);

  /// The password hash a user login checks against, or a dummy for unknown users.
  std::string password_hash_for(std::string_view name) const;
  bool is_locked(std::string_view name, time_point now) const;
  /// Records a checked user password attempt under the telephony user policy (SPEC POL-4).
  user_login_result complete_login(std::string_view name, bool password_matched,
                                   const security::security_settings& policy, time_point now);

private:
  security::security_result<void> apply(telephony_user& user, const telephony_user_fields& fields,
                                        const security::security_settings& policy);
  security::security_result<std::string> hash(std::string_view secret) const;

  telephony_directory_data data_;
  std::string realm_;
  security::argon2_cost cost_;
};

std::string encode_directory(const telephony_directory_data& data);
std::expected<telephony_directory_data, std::string> decode_directory(std::string_view text);

} // namespace ward::telephony
