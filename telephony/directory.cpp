#include "telephony/directory.hpp"

#include "core/hex.hpp"
#include "core/net_address.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <utility>

namespace ward::telephony {
namespace {

using security::security_errc;
using security::security_error;

security_error invalid(std::string field, std::string message) {
  return {security_errc::invalid_argument, std::move(field), std::move(message)};
}

std::string hex_digest(const EVP_MD* md, std::string_view input) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, md, nullptr);
  return to_hex(std::span(digest, size));
}

bool is_digits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<security_error> check_extension_number(std::string_view number) {
  if (number.size() < 2 || number.size() > 15 || !is_digits(number))
    return invalid("extension", "must be 2 to 15 digits");
  return std::nullopt;
}

std::optional<security_error> check_user_name(std::string_view name) {
  if (name.empty() || name.size() > 31)
    return invalid("name", "must be 1 to 31 characters");
  if (!std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
      }))
    return invalid("name", "may contain only letters, digits and . _ -");
  return std::nullopt;
}

/// A numeric IPv4 or IPv6 address in the form inet_ntop writes it, so that the registrar
/// compares it with a source address as text; hosts and the unspecified address refused.
security::security_result<std::string> canonical_address(std::string_view field,
                                                         std::string_view text) {
  auto refused = [&] {
    return std::unexpected(invalid(std::string(field), "must be a numeric IPv4 or IPv6 address"));
  };
  auto parsed = parse_ip_address(text);
  if (!parsed)
    return refused();
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address its packets come from.
  auto address = unmapped(*parsed);
  if (is_unspecified(address))
    return std::unexpected(invalid(std::string(field), "must not be the unspecified address"));
  return to_string(address);
}

char fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool contains_folded(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char a, char b) { return fold(a) == fold(b); }) != haystack.end();
}

std::optional<security_error> check_user_agent_rules(std::string_view field,
                                                     const std::vector<std::string>& rules) {
  if (rules.size() > max_user_agent_rules)
    return invalid(std::string(field), "must have at most 64 entries");
  for (const auto& rule : rules) {
    if (rule.empty() || rule.size() > max_user_agent_rule_length)
      return invalid(std::string(field), "entries must be 1 to 128 characters");
    if (!std::all_of(rule.begin(), rule.end(), [](char c) { return c >= 0x20 && c <= 0x7e; }))
      return invalid(std::string(field), "entries may contain only printable ASCII characters");
  }
  return std::nullopt;
}

/// A node name as a line media security override takes it (SPEC MED-2).
/// The cluster's own rule for node names (lowercase letters, digits, hyphens), so an override
/// can only name a node that could exist.
bool valid_line_node_name(std::string_view name) {
  return !name.empty() && name.size() <= max_line_node_name_length &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

template <class Override>
std::optional<security_error>
check_line_overrides(std::string_view field, const std::map<std::string, Override>& overrides) {
  if (overrides.size() > max_line_media_overrides)
    return invalid(std::string(field), "must have at most 64 entries");
  for (const auto& [node, _] : overrides)
    if (!valid_line_node_name(node))
      return invalid(std::string(field),
                     "node names must be 1 to 63 of a-z 0-9 -, got '" + node + "'");
  return std::nullopt;
}

/// SPEC TF-1, TF-2: what the dial plan matches as an emergency call, and the extension it
/// rings. The extension follows the rule for every extension number.
std::optional<security_error> check_emergency_route(const sip_policy& policy) {
  const auto& numbers = policy.emergency_numbers;
  if (numbers.size() > max_emergency_numbers)
    return invalid("emergency_numbers", "must have at most 16 entries");
  for (auto it = numbers.begin(); it != numbers.end(); ++it) {
    if (it->empty() || it->size() > max_emergency_number_length ||
        !std::all_of(it->begin(), it->end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '*' || c == '#'; }))
      return invalid("emergency_numbers", "entries must be 1 to 15 of 0-9 * #");
    // Only an entry that passed the rule above is echoed.
    if (std::find(numbers.begin(), it, *it) != it)
      return invalid("emergency_numbers", "'" + *it + "' is given twice");
  }
  if (policy.emergency_extension.empty())
    return std::nullopt;
  if (auto bad = check_extension_number(policy.emergency_extension))
    return invalid("emergency_extension", bad->message);
  if (std::find(numbers.begin(), numbers.end(), policy.emergency_extension) != numbers.end())
    return invalid("emergency_extension", "must not be one of the emergency numbers");
  return std::nullopt;
}

std::optional<security_error> check_sip_policy(const sip_policy& policy) {
  if (policy.rtp_port_min < 1024)
    return invalid("rtp_port_min", "must be at least 1024");
  if (policy.rtp_port_min % 2 != 0)
    return invalid("rtp_port_min", "must be even (RTP takes even ports, RTCP the next odd one)");
  if (policy.rtp_port_max <= policy.rtp_port_min)
    return invalid("rtp_port_max", "must be above rtp_port_min");
  if (policy.remote_workers && policy.rtp_port_max > remote_worker_rtp_port_max)
    return invalid("rtp_port_max", "must be at most 50750 while remote workers are enabled");
  if (auto bad = check_user_agent_rules("user_agent_allow", policy.user_agent_allow))
    return bad;
  if (auto bad = check_user_agent_rules("user_agent_block", policy.user_agent_block))
    return bad;
  if (auto bad = check_line_overrides("line_media_security", policy.line_media_security))
    return bad;
  if (auto bad = check_line_overrides("line_srtp", policy.line_srtp))
    return bad;
  return check_emergency_route(policy);
}

std::optional<security_error> check_code(std::string_view field, std::string_view code,
                                         std::string_view extension,
                                         const security::pin_rules& rules) {
  if (auto rejected = security::check_pin(code, extension, rules))
    return invalid(std::string(field),
                   security::describe(*rejected, rules.min_length, rules.max_length));
  return std::nullopt;
}

/// What the directory keeps under a key, as its errors name it.
struct entry_kind {
  /// The request field that holds the key.
  std::string_view field;
  std::string_view noun;
};

constexpr entry_kind user_entry{"name", "telephony user"};
constexpr entry_kind extension_entry{"number", "extension"};

/// A dial plan that does not compile, as the field and reason its detail names.
security_error dial_plan_error(const error& refused) {
  const auto colon = refused.detail.find(": ");
  if (colon == std::string::npos)
    return invalid("dial_plan", refused.detail);
  return invalid(refused.detail.substr(0, colon), refused.detail.substr(colon + 2));
}

security_error not_found(const entry_kind& kind) {
  return {security_errc::not_found, std::string(kind.field),
          std::string(kind.noun) + " does not exist"};
}

/// Why `key` cannot name a new entry: `bad_key` from the key's own rule, else the key is
/// taken.
template <class Map>
std::optional<security_error> check_new_key(const Map& entries, std::string_view key,
                                            std::optional<security_error> bad_key,
                                            const entry_kind& kind) {
  if (bad_key)
    return bad_key;
  if (entries.contains(std::string(key)))
    return security_error{security_errc::already_exists, std::string(kind.field),
                          std::string(kind.noun) + " " + std::string(key) + " exists"};
  return std::nullopt;
}

/// Changes the entry stored under `key` all or nothing: `change` works on a copy, which
/// replaces the entry, as a new version of the directory, only when it succeeds.
template <class Map, class Change>
security::security_result<void> change_entry(telephony_directory_data& data, Map& entries,
                                             std::string_view key, const entry_kind& kind,
                                             Change&& change) {
  auto it = entries.find(std::string(key));
  if (it == entries.end())
    return std::unexpected(not_found(kind));
  auto changed = it->second;
  if (auto applied = change(changed); !applied)
    return applied;
  it->second = std::move(changed);
  ++data.version;
  return {};
}

/// Removes the entry stored under `key`, a new version of the directory; not_found when
/// there is none.
template <class Map>
security::security_result<void> erase_entry(telephony_directory_data& data, Map& entries,
                                            std::string_view key, const entry_kind& kind) {
  if (entries.erase(std::string(key)) == 0)
    return std::unexpected(not_found(kind));
  ++data.version;
  return {};
}

} // namespace

bool user_agent_permitted(const sip_policy& policy, std::string_view user_agent) {
  auto matches = [user_agent](const std::string& rule) {
    return contains_folded(user_agent, rule);
  };
  if (std::any_of(policy.user_agent_block.begin(), policy.user_agent_block.end(), matches))
    return false;
  return policy.user_agent_allow.empty() ||
         std::any_of(policy.user_agent_allow.begin(), policy.user_agent_allow.end(), matches);
}

std::expected<void, error> validate_sip_policy(const sip_policy& policy) {
  if (auto bad = check_sip_policy(policy))
    return std::unexpected(error{errc::invalid_config, bad->field + ": " + bad->message});
  return {};
}

std::optional<time_point> auto_create_expires_at(const sip_policy& policy) {
  if (!policy.auto_create)
    return std::nullopt;
  return policy.auto_create_enabled_at + auto_create_lifetime;
}

bool auto_create_active(const sip_policy& policy, time_point now) {
  auto expires = auto_create_expires_at(policy);
  return expires && now < *expires;
}

media::media_security media_security_for_extension(const telephony_directory_data& data,
                                                   std::string_view extension) {
  auto it = data.extensions.find(std::string(extension));
  if (it != data.extensions.end() && it->second.media_security)
    return *it->second.media_security;
  return data.policy.media_security;
}

media::srtp_profile srtp_profile_for_extension(const telephony_directory_data& data,
                                               std::string_view extension) {
  auto it = data.extensions.find(std::string(extension));
  if (it != data.extensions.end() && it->second.srtp)
    return *it->second.srtp;
  return data.policy.srtp;
}

media::srtp_profile srtp_profile_for_line(const telephony_directory_data& data,
                                          std::string_view node) {
  auto it = data.policy.line_srtp.find(std::string(node));
  return it == data.policy.line_srtp.end() ? data.policy.srtp : it->second;
}

media::media_security media_security_for_line(const telephony_directory_data& data,
                                              std::string_view node) {
  auto it = data.policy.line_media_security.find(std::string(node));
  return it == data.policy.line_media_security.end() ? data.policy.media_security : it->second;
}

sip_policy effective_sip_policy(sip_policy policy, time_point now) {
  if (policy.auto_create && !auto_create_active(policy, now)) {
    policy.auto_create = false;
    policy.auto_create_enabled_at = {};
  }
  return policy;
}

digest_secrets make_digest_secrets(std::string_view username, std::string_view realm,
                                   std::string_view secret) {
  std::string input;
  input.append(username).append(":").append(realm).append(":").append(secret);
  return {hex_digest(EVP_md5(), input), hex_digest(EVP_sha256(), input)};
}

std::expected<void, security::error> hash_user_secrets(telephony_user_fields& fields,
                                                       security::argon2_cost cost) {
  for (auto [secret, hash] : {std::pair{&fields.password, &fields.password_hash},
                              std::pair{&fields.login_code, &fields.login_code_hash},
                              std::pair{&fields.voicemail_code, &fields.voicemail_code_hash}}) {
    if (!*secret || (*secret)->empty())
      continue;
    auto hashed = security::hash_secret(**secret, cost);
    if (!hashed)
      return std::unexpected(hashed.error());
    *hash = std::move(*hashed);
  }
  return {};
}

security::security_result<std::string> telephony_directory::hash(std::string_view secret) const {
  auto hashed = security::hash_secret(secret, cost_);
  if (!hashed)
    return std::unexpected(
        security_error{security_errc::storage_failure, "", hashed.error().detail});
  return *hashed;
}

security::security_result<void>
telephony_directory::apply(telephony_user& user, const telephony_user_fields& fields,
                           const security::security_settings& policy) {
  // Extension first: the password and code checks compare against it.
  if (fields.extension) {
    if (auto bad = check_extension_number(*fields.extension))
      return std::unexpected(*bad);
    for (const auto& [other_name, other] : data_.users)
      if (other_name != user.name && other.extension == *fields.extension)
        return std::unexpected(
            security_error{security_errc::already_exists, "extension",
                           "extension " + *fields.extension + " belongs to user " + other_name});
    user.extension = *fields.extension;
  }
  if (fields.full_name) {
    if (fields.full_name->size() > 63)
      return std::unexpected(invalid("full_name", "must be at most 63 characters"));
    user.full_name = *fields.full_name;
  }
  if (fields.password) {
    const auto& rules = policy.telephony_policy.password;
    if (policy.telephony_policy.enforce) {
      if (auto rejected = security::check_password(*fields.password, user.name, rules))
        return std::unexpected(
            invalid("password", security::describe(*rejected, rules.min_length, rules.max_length)));
      if (auto rejected = security::check_not_extension(*fields.password, user.extension))
        return std::unexpected(
            invalid("password", security::describe(*rejected, rules.min_length, rules.max_length)));
    } else if (fields.password->size() > rules.max_length) {
      return std::unexpected(invalid("password", "must be at most 31 characters"));
    }
    auto hashed = fields.password_hash
                      ? security::security_result<std::string>(*fields.password_hash)
                      : hash(*fields.password);
    if (!hashed)
      return std::unexpected(hashed.error());
    user.password_hash = fields.password->empty() ? std::string{} : *hashed;
  }
  if (fields.login_code) {
    if (auto bad =
            check_code("login_code", *fields.login_code, user.extension, policy.login_code_rules))
      return std::unexpected(*bad);
    if (fields.login_code->empty()) {
      user.login_code_hash.clear();
      user.login_code_digest = {};
    } else {
      auto hashed = fields.login_code_hash
                        ? security::security_result<std::string>(*fields.login_code_hash)
                        : hash(*fields.login_code);
      if (!hashed)
        return std::unexpected(hashed.error());
      user.login_code_hash = *hashed;
      user.login_code_digest = make_digest_secrets(user.extension, realm_, *fields.login_code);
    }
  }
  if (fields.voicemail_code) {
    if (auto bad = check_code("voicemail_code", *fields.voicemail_code, user.extension,
                              policy.voicemail_code_rules))
      return std::unexpected(*bad);
    if (fields.voicemail_code->empty()) {
      user.voicemail_code_hash.clear();
    } else {
      auto hashed = fields.voicemail_code_hash
                        ? security::security_result<std::string>(*fields.voicemail_code_hash)
                        : hash(*fields.voicemail_code);
      if (!hashed)
        return std::unexpected(hashed.error());
      user.voicemail_code_hash = *hashed;
    }
  }
  return {};
}

security::security_result<void>
telephony_directory::create_user(std::string_view name, const telephony_user_fields& fields,
                                 const security::security_settings& policy) {
  if (auto bad = check_new_key(data_.users, name, check_user_name(name), user_entry))
    return std::unexpected(*bad);
  if (!fields.extension)
    return std::unexpected(invalid("extension", "is required"));
  telephony_user user;
  user.name = name;
  if (auto applied = apply(user, fields, policy); !applied)
    return applied;
  data_.users.emplace(user.name, std::move(user));
  ++data_.version;
  return {};
}

security::security_result<void>
telephony_directory::update_user(std::string_view name, const telephony_user_fields& fields,
                                 const security::security_settings& policy) {
  auto change = [&](telephony_user& changed) -> security::security_result<void> {
    // The login code's digest is bound to the extension number (the SIP username), and the
    // code was checked against the old number: a new number needs the code set again.
    if (fields.extension && *fields.extension != changed.extension &&
        !changed.login_code_hash.empty() && !fields.login_code)
      return std::unexpected(invalid("login_code", "must be set again when the extension changes"));
    return apply(changed, fields, policy);
  };
  return change_entry(data_, data_.users, name, user_entry, change);
}

security::security_result<void> telephony_directory::delete_user(std::string_view name) {
  // A fraud rule watching the user is the administrator's to change (SPEC TF-10); the user's
  // dial settings and authorization code (SPEC TF-5) go with the user.
  for (const auto& rule : data_.dial_plan.fraud_rules)
    if (rule.scope == fraud_scope::user && rule.subject == name)
      return std::unexpected(
          security_error{security_errc::failed_precondition, "user",
                         "fraud rule " + rule.name + " watches this user: delete it first"});
  auto erased = erase_entry(data_, data_.users, name, user_entry);
  if (erased) {
    data_.dial_plan.users.erase(std::string(name));
    std::erase_if(data_.dial_plan.auth_codes, [name](const auth_code_entry& entry) {
      return entry.kind == auth_code_owner_kind::user && entry.owner == name;
    });
  }
  return erased;
}

security::security_result<void> telephony_directory::unlock_user(std::string_view name) {
  auto change = [](telephony_user& changed) -> security::security_result<void> {
    security::unlock(changed.lock);
    return {};
  };
  return change_entry(data_, data_.users, name, user_entry, change);
}

security::security_result<void>
telephony_directory::create_extension(std::string_view number, const extension_fields& fields,
                                      const security::security_settings& policy) {
  if (auto bad =
          check_new_key(data_.extensions, number, check_extension_number(number), extension_entry))
    return std::unexpected(*bad);
  extension_record record;
  record.number = number;
  data_.extensions.emplace(record.number, record);
  auto updated = update_extension(number, fields, policy);
  if (!updated) {
    data_.extensions.erase(std::string(number));
    return updated;
  }
  return {};
}

security::security_result<void>
telephony_directory::update_extension(std::string_view number, const extension_fields& fields,
                                      const security::security_settings& policy) {
  auto change = [&](extension_record& changed) -> security::security_result<void> {
    const bool remote_worker = fields.remote_worker_address
                                   ? !fields.remote_worker_address->empty()
                                   : !changed.remote_worker_address.empty();
    if (fields.phone_password) {
      if (auto bad = check_code("phone_password", *fields.phone_password, changed.number,
                                policy.login_code_rules))
        return std::unexpected(*bad);
      auto remote_refusal =
          security::check_remote_worker_phone_password(*fields.phone_password, changed.number);
      if (remote_worker && !fields.phone_password->empty() && remote_refusal)
        return std::unexpected(invalid(
            "phone_password",
            "of a remote worker " + security::describe(*remote_refusal,
                                                       security::remote_worker_phone_password_min,
                                                       security::login_code_max)));
      changed.phone_password_remote_grade = !remote_refusal;
      changed.has_phone_password = !fields.phone_password->empty();
      changed.phone_password_digest =
          changed.has_phone_password
              ? make_digest_secrets(changed.number, realm_, *fields.phone_password)
              : digest_secrets{};
    }
    if (fields.force_authorization)
      changed.force_authorization = *fields.force_authorization;
    if (fields.remote_worker_address) {
      if (fields.remote_worker_address->empty()) {
        changed.remote_worker_address.clear();
      } else {
        auto address = canonical_address("remote_worker_address", *fields.remote_worker_address);
        if (!address)
          return std::unexpected(address.error());
        changed.remote_worker_address = std::move(*address);
      }
    }
    // A phone password set under the ordinary rules cannot be re-judged from its digest.
    if (remote_worker && changed.has_phone_password && !changed.phone_password_remote_grade)
      return std::unexpected(
          invalid("phone_password", "of a remote worker must have at least " +
                                        std::to_string(security::remote_worker_phone_password_min) +
                                        " digits: set a new one in the same change"));
    if (fields.media_security)
      changed.media_security = *fields.media_security;
    if (fields.srtp)
      changed.srtp = *fields.srtp;
    return {};
  };
  return change_entry(data_, data_.extensions, number, extension_entry, change);
}

security::security_result<void> telephony_directory::delete_extension(std::string_view number) {
  for (const auto& route : data_.dial_plan.incoming_routes)
    if (route.extension == number)
      return std::unexpected(security_error{security_errc::failed_precondition, "extension",
                                            "incoming route " + route.number + " rings " +
                                                std::string(number) + "; change it first"});
  return erase_entry(data_, data_.extensions, number, extension_entry);
}

security::security_result<void> telephony_directory::set_sip_policy(sip_policy policy,
                                                                    time_point now) {
  if (auto bad = check_sip_policy(policy))
    return std::unexpected(*bad);
  // The ARS tables must still route every emergency number (SPEC TF-2).
  auto with_policy = data_;
  with_policy.policy = policy;
  if (auto plan = compile_dial_plan(with_policy); !plan)
    return std::unexpected(dial_plan_error(plan.error()));
  // The stamp is the directory's, never the caller's: a lapsed auto-create asked for again
  // counts as switched on anew.
  if (!policy.auto_create)
    policy.auto_create_enabled_at = {};
  else if (auto_create_active(data_.policy, now))
    policy.auto_create_enabled_at = data_.policy.auto_create_enabled_at;
  else
    policy.auto_create_enabled_at = std::chrono::floor<std::chrono::milliseconds>(now);
  data_.policy = std::move(policy);
  ++data_.version;
  return {};
}

security::security_result<void> telephony_directory::set_dial_plan(dial_plan_config plan) {
  auto with_plan = data_;
  with_plan.dial_plan = std::move(plan);
  if (auto compiled = compile_dial_plan(with_plan); !compiled)
    return std::unexpected(dial_plan_error(compiled.error()));
  data_.dial_plan = std::move(with_plan.dial_plan);
  ++data_.version;
  return {};
}

std::expected<compiled_dial_plan, error> compile_dial_plan(const telephony_directory_data& data) {
  std::map<std::string, std::string> user_extensions;
  for (const auto& [name, user] : data.users)
    user_extensions.emplace(name, user.extension);
  std::vector<std::string> extensions;
  for (const auto& [number, _] : data.extensions)
    extensions.push_back(number);
  return compile_dial_plan(data.dial_plan, data.policy.emergency_numbers, user_extensions,
                           extensions);
}

std::string telephony_directory::password_hash_for(std::string_view name) const {
  auto it = data_.users.find(std::string(name));
  return it == data_.users.end() ? std::string{} : it->second.password_hash;
}

bool telephony_directory::is_locked(std::string_view name, time_point now) const {
  auto it = data_.users.find(std::string(name));
  return it != data_.users.end() && security::is_locked(it->second.lock, now);
}

user_login_result telephony_directory::complete_login(std::string_view name, bool password_matched,
                                                      const security::security_settings& policy,
                                                      time_point now) {
  user_login_result result;
  auto it = data_.users.find(std::string(name));
  if (it == data_.users.end())
    return result;
  auto& user = it->second;
  if (security::is_locked(user.lock, now)) {
    result.outcome = user_login_outcome::locked;
    return result;
  }
  ++data_.version;
  if (password_matched && !user.password_hash.empty()) {
    security::record_success(user.lock);
    result.outcome = user_login_outcome::success;
    return result;
  }
  result.lock_event = security::record_failure(user.lock, policy.telephony_policy.lockout, now);
  result.outcome = result.lock_event == security::lockout_event::none
                       ? user_login_outcome::bad_credentials
                       : user_login_outcome::locked;
  return result;
}

} // namespace ward::telephony
