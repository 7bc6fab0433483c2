#pragma once

#include "media/media_policy.hpp"
#include "security/credential_rules.hpp"
#include "security/lockout.hpp"
#include "security/password_hash.hpp"
#include "security/security_database.hpp"
#include "telephony/dial_plan_config.hpp"
#include "telephony/error.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  /// SPEC SIP-5: the pinned public IP address of a remote worker's phone, numeric IPv4 or
  /// IPv6 in canonical form; empty = the extension is not a remote worker.
  std::string remote_worker_address;
  /// SPEC MED-2: this extension's media security; nullopt = the system setting.
  std::optional<media::media_security> media_security;
  /// The phone password met the remote-worker rules when it was set (SPEC POL-5: at least
  /// 9 digits); only the digest is kept, so this is all that is known of it later.
  bool phone_password_remote_grade = false;
  /// SPEC MED-1: this extension's SRTP options; nullopt = the system's.
  std::optional<media::srtp_profile> srtp;
};

/// How long auto-create stays on after it was switched on (SPEC SIP-3).
inline constexpr std::chrono::hours auto_create_lifetime{24};
/// The highest RTP port allowed while remote workers are enabled (SPEC SIP-5).
inline constexpr std::uint16_t remote_worker_rtp_port_max = 50750;
/// Limits on the User-Agent lists (SPEC SIP-4).
inline constexpr std::size_t max_user_agent_rules = 64;
inline constexpr std::size_t max_user_agent_rule_length = 128;
/// Limits on the per-line media security overrides (SPEC MED-2).
inline constexpr std::size_t max_line_media_overrides = 64;
inline constexpr std::size_t max_line_node_name_length = 63;
/// Limits on the emergency numbers (SPEC TF-1, TF-2).
inline constexpr std::size_t max_emergency_numbers = 16;
inline constexpr std::size_t max_emergency_number_length = 15;

/// The cluster-wide SIP policy settings, kept in the telephony directory and replicated
/// with it.
struct sip_policy {
  /// SPEC SIP-3: off by default; lapses 24 h after auto_create_enabled_at.
  bool auto_create = false;
  std::chrono::system_clock::time_point auto_create_enabled_at{};
  /// SPEC SIP-1: calls only over TLS with sips: URIs.
  bool strict_sips = false;
  /// SPEC SIP-4: User-Agent rules, case-insensitive substrings. Non-empty allow list = only
  /// matching UAs; block list always wins.
  std::vector<std::string> user_agent_allow, user_agent_block;
  /// SPEC SIP-5: remote workers enabled; then rtp_port_max must be <= 50750 and
  /// remote-worker extensions are only accepted on TLS.
  bool remote_workers = false;
  std::uint16_t rtp_port_min = 40000, rtp_port_max = 50750;
  /// SPEC MED-2: the system's media security. SDES keys only ever travel on TLS or over a
  /// line, so Best Effort means SRTP where signalling is secure and RTP elsewhere.
  media::media_security media_security = media::media_security::best_effort;
  /// SPEC MED-2: per-line overrides, keyed by the name of the node at the other end of the
  /// cluster line (1 to 63 of a-z 0-9 -, at most 64 entries).
  std::map<std::string, media::media_security> line_media_security;
  /// SPEC MED-3: calls between two phones on the same node may send media directly between
  /// the phones, not through the node's relay, when both phones' media capabilities match.
  /// Off by default: anchored media is the secure default.
  bool direct_media = false;
  /// SPEC TF-1, TF-2, TF-5, MED-2: the numbers the dial plan treats as emergency calls:
  /// always permitted, never barred, and Enforce falls back to RTP when SRTP cannot be had.
  /// At most 16, each 1 to 15 of 0-9 * #, no duplicates.
  std::vector<std::string> emergency_numbers{"112", "911"};
  /// SPEC TF-2: the extension emergency calls ring (typically a PSTN gateway registered as
  /// an extension); empty = no emergency route configured. Otherwise an extension number
  /// (2 to 15 digits) that is not itself one of the emergency numbers.
  std::string emergency_extension;
  /// SPEC MED-1: the system's SRTP options, and per-line overrides keyed like
  /// line_media_security (at most 64).
  media::srtp_profile srtp;
  std::map<std::string, media::srtp_profile> line_srtp;
  bool operator==(const sip_policy&) const = default;
};

/// Whether the User-Agent rules admit `user_agent` (SPEC SIP-4): a block entry contained in
/// it refuses it; otherwise a non-empty allow list admits only agents containing one of its
/// entries. Case-insensitive.
bool user_agent_permitted(const sip_policy& policy, std::string_view user_agent);

/// Whether the policy may be stored: even rtp_port_min >= 1024 below rtp_port_max,
/// rtp_port_max <= 50750 while remote workers are enabled, at most 64 User-Agent entries
/// per list, each 1 to 128 printable ASCII characters, and at most 64 line media security
/// overrides, each keyed by a node name of 1 to 63 of a-z 0-9 -, at most 16
/// emergency numbers, each 1 to 15 of 0-9 * # and no duplicates, and an emergency extension
/// that is empty or an extension number (2 to 15 digits) other than the emergency numbers.
/// The error reads "field: reason".
std::expected<void, error> validate_sip_policy(const sip_policy& policy);

/// When auto-create lapses, or nullopt while it is off (SPEC SIP-3).
std::optional<time_point> auto_create_expires_at(const sip_policy& policy);

/// Whether auto-create is on at `now`: switched on and not yet lapsed (SPEC SIP-3).
bool auto_create_active(const sip_policy& policy, time_point now);

/// The policy as it applies at `now`: a lapsed auto-create reads as switched off (SPEC
/// SIP-3). Changes start from this, so that a lapsed auto-create carried along with
/// another change is not switched on anew.
sip_policy effective_sip_policy(sip_policy policy, time_point now);

/// The policy as the JSON object the directory encoding holds; also the audit trail's
/// before/after of a policy change.
std::string encode_sip_policy(const sip_policy& policy);

struct telephony_directory_data {
  std::uint64_t version = 1;
  std::map<std::string, telephony_user> users;
  std::map<std::string, extension_record> extensions;
  sip_policy policy;
  /// SPEC TF-1..TF-9: short codes, ARS, barring, trunks, incoming routes.
  dial_plan_config dial_plan;
};

/// The directory's dial plan compiled against its emergency numbers, users and extensions;
/// an error reads "field: reason".
std::expected<compiled_dial_plan, error> compile_dial_plan(const telephony_directory_data& data);

/// The media security of a leg to or from `extension` (SPEC MED-2): the extension's
/// override, else the system setting (also for an unknown extension).
media::media_security media_security_for_extension(const telephony_directory_data& data,
                                                   std::string_view extension);

/// The media security of a leg over the cluster line to `node` (SPEC MED-2): the line's
/// override, else the system setting.
media::media_security media_security_for_line(const telephony_directory_data& data,
                                              std::string_view node);

/// The SRTP options of a leg to or from `extension` / over the line to `node` (SPEC MED-1):
/// the override, else the system's.
media::srtp_profile srtp_profile_for_extension(const telephony_directory_data& data,
                                               std::string_view extension);
media::srtp_profile srtp_profile_for_line(const telephony_directory_data& data,
                                          std::string_view node);

/// Fields of a telephony user to set; unset fields stay as they are.
struct telephony_user_fields {
  std::optional<std::string> full_name;
  std::optional<std::string> extension;
  std::optional<std::string> password;
  std::optional<std::string> login_code;
  std::optional<std::string> voicemail_code;
  /// Argon2id hashes of the secrets above, made beforehand (see hash_user_secrets) so that
  /// a bulk import does not hash on the thread that owns the directory. Each is used only
  /// beside its secret, which is still checked against the policy.
  std::optional<std::string> password_hash;
  std::optional<std::string> login_code_hash;
  std::optional<std::string> voicemail_code_hash;
};

/// Fills the *_hash fields of `fields` for the secrets it holds, at `cost`; an error when
/// hashing fails.
std::expected<void, security::error> hash_user_secrets(telephony_user_fields& fields,
                                                       security::argon2_cost cost);

struct extension_fields {
  std::optional<std::string> phone_password;
  std::optional<bool> force_authorization;
  /// SPEC SIP-5: a numeric IPv4 or IPv6 address; empty clears it.
  std::optional<std::string> remote_worker_address;
  /// SPEC MED-2: an inner value sets the extension's override; an engaged outer holding an
  /// inner nullopt clears it (the system setting applies again); an outer nullopt leaves it
  /// as it is. Clear with `std::optional<media::media_security>{}`: a plain std::nullopt
  /// would leave the override alone.
  std::optional<std::optional<media::media_security>> media_security;
  /// SPEC MED-1: as media_security, for the extension's SRTP options.
  std::optional<std::optional<media::srtp_profile>> srtp;
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

  /// Replaces the SIP policy (SPEC SIP-1, SIP-3..SIP-5) once it validates. Switching
  /// auto-create on stamps `now` (to the millisecond) as the time it was switched on, and a
  /// lapsed auto-create counts as off, so build `policy` from effective_sip_policy().
  /// Leaving it on keeps the stamp; switching it off clears it. The caller's stamp is
  /// ignored.
  security::security_result<void> set_sip_policy(sip_policy policy, time_point now);

  /// Replaces the dial plan (SPEC TF-1..TF-9) once it compiles against the emergency
  /// numbers, users and extensions; otherwise keeps the one it has.
  security::security_result<void> set_dial_plan(dial_plan_config plan);

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
std::expected<telephony_directory_data, error> decode_directory(std::string_view text);

} // namespace ward::telephony
