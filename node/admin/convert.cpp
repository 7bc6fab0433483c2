#include "node/admin/convert.hpp"

#include "actors/status_actor.hpp"
#include "cluster/line_actor.hpp"
#include "security/settings_codec.hpp"
#include "telephony/b2bua.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

namespace ward::node::admin_api {

using security::security_errc;
using security::security_error;

// ---- errors and times -----------------------------------------------------------------

grpc::Status to_status(const security_error& error) {
  auto message = error.field.empty() || error.code != security_errc::invalid_argument
                     ? error.message
                     : error.field + ": " + error.message;
  switch (error.code) {
    case security_errc::invalid_argument:
      return {grpc::StatusCode::INVALID_ARGUMENT, message};
    case security_errc::not_found:
      return {grpc::StatusCode::NOT_FOUND, message};
    case security_errc::already_exists:
      return {grpc::StatusCode::ALREADY_EXISTS, message};
    case security_errc::failed_precondition:
      return {grpc::StatusCode::FAILED_PRECONDITION, message};
    case security_errc::unauthenticated:
      return {grpc::StatusCode::UNAUTHENTICATED, message};
    case security_errc::permission_denied:
      return {grpc::StatusCode::PERMISSION_DENIED, message};
    case security_errc::unavailable:
      return {grpc::StatusCode::UNAVAILABLE, message};
    case security_errc::storage_failure:
      return {grpc::StatusCode::INTERNAL, message};
  }
  return {grpc::StatusCode::INTERNAL, message};
}

security_error invalid(std::string field, std::string message) {
  return {security_errc::invalid_argument, std::move(field), std::move(message)};
}

security_error from_pki(const pki::error& error, std::string field) {
  using pki::errc;
  switch (error.code) {
    case errc::wrong_format:
    case errc::invalid_argument:
    case errc::key_mismatch:
    case errc::bad_password:
    case errc::weak_key:
    case errc::weak_hash:
    case errc::bad_signature:
    case errc::not_a_ca:
    case errc::expired:
    case errc::revoked:
      return {security_errc::invalid_argument, std::move(field),
              std::string(pki::to_string(error.code)) + ": " + error.detail};
    case errc::io_error:
    case errc::crypto_failure:
      break;
  }
  return {security_errc::storage_failure, std::move(field), error.detail};
}

std::int64_t to_unix(std::optional<security::time_point> when) {
  if (!when)
    return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(when->time_since_epoch()).count();
}

std::int64_t to_unix_ms(security::time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

security::time_point from_unix(std::int64_t seconds) {
  return security::time_point(
      std::chrono::seconds(std::clamp<std::int64_t>(seconds, 0, latest_unix)));
}

// ---- system status ----------------------------------------------------------------------

pb::NodeRole to_proto(node_role role) {
  switch (role) {
    case node_role::primary:
      return pb::NODE_ROLE_PRIMARY;
    case node_role::secondary:
      return pb::NODE_ROLE_SECONDARY;
    case node_role::expansion:
      return pb::NODE_ROLE_EXPANSION;
    case node_role::appserver:
      return pb::NODE_ROLE_APPSERVER;
  }
  return pb::NODE_ROLE_UNSPECIFIED;
}

void fill(pb::StatusReply* out, const actors::node_status& status) {
  out->set_node_name(status.node_name);
  out->set_role(to_proto(status.role));
  out->set_version(status.version);
  out->set_uptime_seconds(status.uptime_seconds);
  out->set_hostname(status.hostname);
  out->set_start_count(status.start_count);
  out->set_running_actors(status.running_actors);
  auto* identity = out->mutable_identity();
  identity->set_subject(status.identity.subject);
  identity->set_issuer(status.identity.issuer);
  identity->set_serial_hex(status.identity.serial_hex);
  identity->set_self_signed(status.identity.self_signed);
  identity->set_not_after_unix(status.identity.not_after_unix);
  identity->set_days_until_expiry(status.identity.days_until_expiry);
  identity->set_sha256_fingerprint(status.identity.sha256_fingerprint);
}

// ---- security administration ------------------------------------------------------------

void fill(pb::ServiceUser* out, const security::service_user& user,
          const security::security_settings& settings, security::time_point now) {
  out->set_name(user.name);
  out->set_status(std::string(to_string(security::status_of(user, settings.service_policy, now))));
  out->set_setting(std::string(to_string(user.setting)));
  for (const auto& group : user.groups)
    out->add_groups(group);
  out->set_protected_(user.protected_account);
  out->set_at_default(user.at_default);
  out->set_expires_at_unix(to_unix(user.expires_at));
  out->set_last_login_unix(to_unix(user.last_login_at));
  out->set_password_changed_unix(to_unix(user.password_changed_at));
  out->set_recent_failures(static_cast<std::uint32_t>(user.lock.recent_failures.size()));
  out->set_locked_until_unix(to_unix(user.lock.locked_until));
}

void fill(pb::RightsGroup* out, const security::rights_group& group) {
  out->set_name(group.name);
  for (auto id : group.rights)
    out->add_rights(std::string(security::to_string(id)));
  out->set_at_default(group.at_default);
}

void fill(pb::LockoutRule* out, const security::lockout_rule& rule) {
  out->set_reject_limit(rule.limit);
  out->set_reject_window_seconds(rule.window.count());
  out->set_reject_action(std::string(to_string(rule.action)));
  out->set_temporary_lock_seconds(rule.temporary_lock.count());
}

void fill(pb::Policy* out, const security::security_settings& settings) {
  const auto& service = settings.service_policy;
  auto* su = out->mutable_service_user();
  su->set_min_name_length(static_cast<std::uint32_t>(service.min_name_length));
  su->set_min_password_length(static_cast<std::uint32_t>(service.password.min_length));
  su->set_complexity(std::string(to_string(service.password.level)));
  su->set_history_entries(service.history_entries);
  su->set_password_change_period_days(service.password_change_period_days);
  su->set_account_idle_days(service.account_idle_days);
  fill(su->mutable_lockout(), service.lockout);
  fill(su->mutable_source_lockout(), service.source_lockout);
  const auto& telephony = settings.telephony_policy;
  auto* tu = out->mutable_telephony_user();
  tu->set_enforce(telephony.enforce);
  tu->set_min_password_length(static_cast<std::uint32_t>(telephony.password.min_length));
  tu->set_complexity(std::string(to_string(telephony.password.level)));
  fill(tu->mutable_lockout(), telephony.lockout);
  out->mutable_login_code()->set_min_length(
      static_cast<std::uint32_t>(settings.login_code_rules.min_length));
  out->mutable_login_code()->set_complexity_test(settings.login_code_rules.complexity_test);
  out->mutable_voicemail_code()->set_min_length(
      static_cast<std::uint32_t>(settings.voicemail_code_rules.min_length));
  out->mutable_voicemail_code()->set_complexity_test(settings.voicemail_code_rules.complexity_test);
}

void fill(pb::UnsecuredInterfaces* out, const security::unsecured_interfaces& in) {
  out->set_legacy_monitor(in.legacy_monitor);
  out->set_cti(in.cti);
  out->set_directory_read(in.directory_read);
  out->set_directory_write(in.directory_write);
  out->set_file_writer_address(in.file_writer_address);
}

void fill(pb::AuditRecord* out, const security::audit_record& record) {
  out->set_sequence(record.sequence);
  out->set_time_unix_micros(
      std::chrono::duration_cast<std::chrono::microseconds>(record.time.time_since_epoch())
          .count());
  out->set_kind(std::string(to_string(record.kind)));
  out->set_outcome(std::string(to_string(record.outcome)));
  out->set_actor(record.actor);
  out->set_source(record.source);
  out->set_service(record.service);
  out->set_action(record.action);
  out->set_object(record.object);
  out->set_reason(record.reason);
  out->set_before(record.before);
  out->set_after(record.after);
  out->set_hash(record.hash);
}

security::security_result<security::lockout_rule> parse_lockout(const pb::LockoutRule& in,
                                                                const std::string& prefix) {
  auto action = security::parse_reject_action(in.reject_action());
  if (!action)
    return std::unexpected(invalid(prefix + ".reject_action",
                                   "must be log_only, log_and_temporary_disable or "
                                   "log_and_disable_account"));
  return security::lockout_rule{in.reject_limit(), std::chrono::seconds(in.reject_window_seconds()),
                                *action, std::chrono::seconds(in.temporary_lock_seconds())};
}

security::security_result<security::complexity> parse_complexity(const std::string& text,
                                                                 const std::string& field) {
  auto level = security::parse_complexity(text);
  if (!level)
    return std::unexpected(invalid(field, "must be low, medium or high"));
  return *level;
}

security::security_result<std::set<security::right>> parse_rights(const pb::RightsGroup& request) {
  std::set<security::right> rights;
  for (const auto& name : request.rights()) {
    auto id = security::parse_right(name);
    if (!id)
      return std::unexpected(invalid("rights", "unknown right '" + name + "'"));
    rights.insert(*id);
  }
  return rights;
}

namespace {

security::security_result<security::account_setting> parse_setting(const std::string& text) {
  auto setting = security::parse_account_setting(text);
  if (!setting)
    return std::unexpected(invalid("setting", "must be enabled, disabled or force_new_password"));
  return *setting;
}

bool is_api_date(std::int64_t seconds) {
  return seconds >= 0 && seconds <= latest_unix;
}

security_error not_an_api_date() {
  return invalid("expires_at_unix", "must be a date between 1970 and 9999");
}

} // namespace

security::security_result<security::new_service_user>
parse_new_user(const pb::CreateServiceUserRequest& request) {
  security::new_service_user user;
  user.name = request.name();
  user.password = request.password();
  user.groups = {request.groups().begin(), request.groups().end()};
  if (!request.setting().empty()) {
    auto setting = parse_setting(request.setting());
    if (!setting)
      return std::unexpected(setting.error());
    user.setting = *setting;
  }
  if (!is_api_date(request.expires_at_unix()))
    return std::unexpected(not_an_api_date());
  if (request.expires_at_unix() != 0)
    user.expires_at = from_unix(request.expires_at_unix());
  return user;
}

security::security_result<security::service_user_update>
parse_user_update(const pb::UpdateServiceUserRequest& request) {
  security::service_user_update update;
  if (request.has_setting()) {
    auto setting = parse_setting(request.setting());
    if (!setting)
      return std::unexpected(setting.error());
    update.setting = *setting;
  }
  if (request.set_groups())
    update.groups = std::set<std::string>(request.groups().begin(), request.groups().end());
  if (request.has_expires_at_unix()) {
    if (!is_api_date(request.expires_at_unix()))
      return std::unexpected(not_an_api_date());
    update.expires_at =
        request.expires_at_unix() == 0
            ? std::optional<security::time_point>{}
            : std::optional<security::time_point>{from_unix(request.expires_at_unix())};
  }
  if (request.has_password())
    update.password = request.password();
  return update;
}

namespace {

/// The password rules and the lockout rule both user policies have, from `in` (whose fields
/// are named alike in both messages); `prefix` names the fields in errors.
template <class In, class Policy>
security::security_result<void> merge_password_and_lockout(const In& in, Policy& policy,
                                                           const std::string& prefix) {
  policy.password.min_length = in.min_password_length();
  auto level = parse_complexity(in.complexity(), prefix + ".complexity");
  if (!level)
    return std::unexpected(level.error());
  policy.password.level = *level;
  auto rule = parse_lockout(in.lockout(), prefix);
  if (!rule)
    return std::unexpected(rule.error());
  policy.lockout = *rule;
  return {};
}

} // namespace

security::security_result<security::service_user_policy>
merged(const pb::ServiceUserPolicy& in, security::service_user_policy current) {
  current.min_name_length = in.min_name_length();
  current.history_entries = in.history_entries();
  current.password_change_period_days = in.password_change_period_days();
  current.account_idle_days = in.account_idle_days();
  if (auto common = merge_password_and_lockout(in, current, "service_user"); !common)
    return std::unexpected(common.error());
  auto source_rule = parse_lockout(in.source_lockout(), "service_user.source");
  if (!source_rule)
    return std::unexpected(source_rule.error());
  current.source_lockout = *source_rule;
  return current;
}

security::security_result<security::telephony_user_policy>
merged(const pb::TelephonyUserPolicy& in, security::telephony_user_policy current) {
  current.enforce = in.enforce();
  if (auto common = merge_password_and_lockout(in, current, "telephony_user"); !common)
    return std::unexpected(common.error());
  return current;
}

std::string user_json(const security::security_settings& settings, std::string_view name,
                      security::time_point now) {
  auto it = settings.users.find(std::string(name));
  return it == settings.users.end() ? std::string{}
                                    : security::redacted(it->second, settings, now).dump();
}

std::string group_json(const security::security_settings& settings, std::string_view name) {
  auto it = settings.groups.find(std::string(name));
  return it == settings.groups.end() ? std::string{} : security::to_json(it->second).dump();
}

// ---- configuration ---------------------------------------------------------------------

void fill(pb::TelephonyUser* out, const telephony::telephony_user& user, security::time_point now) {
  out->set_name(user.name);
  out->set_full_name(user.full_name);
  out->set_extension(user.extension);
  out->set_has_password(!user.password_hash.empty());
  out->set_has_login_code(!user.login_code_hash.empty());
  out->set_has_voicemail_code(!user.voicemail_code_hash.empty());
  out->set_locked(security::is_locked(user.lock, now));
  out->set_recent_failures(static_cast<std::uint32_t>(user.lock.recent_failures.size()));
}

std::string media_security_text(std::optional<media::media_security> level) {
  return level ? std::string(media::to_string(*level)) : std::string("system");
}

security::security_result<std::optional<media::media_security>>
media_security_of(const std::string& text, std::string field, bool system_allowed) {
  if (system_allowed && text == "system")
    return std::optional<media::media_security>{};
  if (auto level = media::parse_media_security(text))
    return std::optional<media::media_security>{*level};
  return std::unexpected(
      invalid(std::move(field), std::string("must be disabled, best_effort") +
                                    (system_allowed ? ", enforce or system" : " or enforce") +
                                    ", got '" + text + "'"));
}

security::security_result<std::optional<media::srtp_profile>>
srtp_of(const std::string& text, std::string field, bool system_allowed) {
  if (system_allowed && text == "system")
    return std::optional<media::srtp_profile>{};
  auto profile = media::parse_srtp_profile(text);
  if (!profile)
    return std::unexpected(invalid(std::move(field), profile.error().detail));
  return std::optional<media::srtp_profile>{*profile};
}

void fill(pb::Extension* out, const telephony::extension_record& record) {
  out->set_number(record.number);
  out->set_has_phone_password(record.has_phone_password);
  out->set_force_authorization(record.force_authorization);
  out->set_remote_worker_address(record.remote_worker_address);
  out->set_media_security(media_security_text(record.media_security));
  out->set_srtp(record.srtp ? media::to_string(*record.srtp) : std::string("system"));
}

void fill(pb::SipSettings* out, const telephony::sip_policy& policy) {
  out->set_auto_create(policy.auto_create);
  auto expires = telephony::auto_create_expires_at(policy);
  out->set_auto_create_enabled_at_unix_ms(expires ? to_unix_ms(policy.auto_create_enabled_at) : 0);
  out->set_auto_create_expires_unix_ms(expires ? to_unix_ms(*expires) : 0);
  out->set_strict_sips(policy.strict_sips);
  auto* allow = out->mutable_user_agent_allow();
  for (const auto& entry : policy.user_agent_allow)
    allow->add_entries(entry);
  auto* block = out->mutable_user_agent_block();
  for (const auto& entry : policy.user_agent_block)
    block->add_entries(entry);
  out->set_remote_workers(policy.remote_workers);
  out->set_rtp_port_min(policy.rtp_port_min);
  out->set_rtp_port_max(policy.rtp_port_max);
  out->set_media_security(std::string(media::to_string(policy.media_security)));
  auto* lines = out->mutable_line_media_security()->mutable_levels();
  for (const auto& [node, level] : policy.line_media_security)
    (*lines)[node] = std::string(media::to_string(level));
  out->set_direct_media(policy.direct_media);
  auto* emergency = out->mutable_emergency_numbers();
  for (const auto& number : policy.emergency_numbers)
    emergency->add_entries(number);
  out->set_emergency_extension(policy.emergency_extension);
  out->set_srtp(media::to_string(policy.srtp));
  for (const auto& [node, profile] : policy.line_srtp)
    (*out->mutable_line_srtp())[node] = media::to_string(profile);
}

namespace {

/// `policy` with its per-line levels replaced by `in`'s or changed by its changes.
security::security_result<telephony::sip_policy> merged_lines(const pb::SipSettings& in,
                                                              telephony::sip_policy policy) {
  if (in.has_line_media_security()) {
    policy.line_media_security.clear();
    for (const auto& [node, text] : in.line_media_security().levels()) {
      auto level = media_security_of(text, "line_media_security", false);
      if (!level)
        return std::unexpected(level.error());
      policy.line_media_security[node] = **level;
    }
  }
  for (const auto& [node, text] : in.line_media_security_changes()) {
    auto level = media_security_of(text, "line_media_security_changes", true);
    if (!level)
      return std::unexpected(level.error());
    if (*level)
      policy.line_media_security[node] = **level;
    else
      policy.line_media_security.erase(node);
  }
  for (const auto& [node, text] : in.line_srtp_changes()) {
    auto profile = srtp_of(text, "line_srtp_changes", true);
    if (!profile)
      return std::unexpected(profile.error());
    if (*profile)
      policy.line_srtp[node] = **profile;
    else
      policy.line_srtp.erase(node);
  }
  return policy;
}

} // namespace

security::security_result<telephony::sip_policy> merged(const pb::SipSettings& in,
                                                        telephony::sip_policy current) {
  if (in.has_auto_create())
    current.auto_create = in.auto_create();
  if (in.has_strict_sips())
    current.strict_sips = in.strict_sips();
  if (in.has_user_agent_allow())
    current.user_agent_allow.assign(in.user_agent_allow().entries().begin(),
                                    in.user_agent_allow().entries().end());
  if (in.has_user_agent_block())
    current.user_agent_block.assign(in.user_agent_block().entries().begin(),
                                    in.user_agent_block().entries().end());
  if (in.has_remote_workers())
    current.remote_workers = in.remote_workers();
  for (auto [present, value, field, port] :
       {std::tuple{in.has_rtp_port_min(), in.rtp_port_min(), "rtp_port_min", &current.rtp_port_min},
        std::tuple{in.has_rtp_port_max(), in.rtp_port_max(), "rtp_port_max",
                   &current.rtp_port_max}}) {
    if (!present)
      continue;
    if (value > 65535)
      return std::unexpected(invalid(field, "must be a port number (at most 65535)"));
    *port = static_cast<std::uint16_t>(value);
  }
  if (in.has_media_security()) {
    auto level = media_security_of(in.media_security(), "media_security", false);
    if (!level)
      return std::unexpected(level.error());
    current.media_security = **level;
  }
  if (in.has_srtp()) {
    auto profile = srtp_of(in.srtp(), "srtp", false);
    if (!profile)
      return std::unexpected(profile.error());
    current.srtp = **profile;
  }
  auto lines = merged_lines(in, std::move(current));
  if (!lines)
    return lines;
  current = std::move(*lines);
  if (in.has_direct_media())
    current.direct_media = in.direct_media();
  if (in.has_emergency_numbers())
    current.emergency_numbers.assign(in.emergency_numbers().entries().begin(),
                                     in.emergency_numbers().entries().end());
  if (in.has_emergency_extension())
    current.emergency_extension = in.emergency_extension();
  return current;
}

telephony::telephony_user_fields fields_of(const pb::TelephonyUserRequest& request) {
  telephony::telephony_user_fields fields;
  if (request.has_full_name())
    fields.full_name = request.full_name();
  if (request.has_extension())
    fields.extension = request.extension();
  if (request.has_password())
    fields.password = request.password();
  if (request.has_login_code())
    fields.login_code = request.login_code();
  if (request.has_voicemail_code())
    fields.voicemail_code = request.voicemail_code();
  return fields;
}

security::security_result<telephony::extension_fields>
extension_fields_of(const pb::ExtensionRequest& request) {
  telephony::extension_fields fields;
  if (request.has_phone_password())
    fields.phone_password = request.phone_password();
  if (request.has_force_authorization())
    fields.force_authorization = request.force_authorization();
  if (request.has_remote_worker_address())
    fields.remote_worker_address = request.remote_worker_address();
  if (request.has_media_security()) {
    auto level = media_security_of(request.media_security(), "media_security", true);
    if (!level)
      return std::unexpected(level.error());
    fields.media_security = *level;
  }
  if (request.has_srtp()) {
    auto profile = srtp_of(request.srtp(), "srtp", true);
    if (!profile)
      return std::unexpected(profile.error());
    fields.srtp = *profile;
  }
  return fields;
}

std::string telephony_user_json(const telephony::telephony_directory_data& data,
                                std::string_view name) {
  auto it = data.users.find(std::string(name));
  if (it == data.users.end())
    return {};
  const auto& user = it->second;
  return nlohmann::json{{"name", user.name},
                        {"full_name", user.full_name},
                        {"extension", user.extension},
                        {"has_password", !user.password_hash.empty()},
                        {"has_login_code", !user.login_code_hash.empty()},
                        {"has_voicemail_code", !user.voicemail_code_hash.empty()}}
      .dump();
}

std::string extension_json(const telephony::telephony_directory_data& data,
                           std::string_view number) {
  auto it = data.extensions.find(std::string(number));
  if (it == data.extensions.end())
    return {};
  const auto& record = it->second;
  return nlohmann::json{{"number", record.number},
                        {"has_phone_password", record.has_phone_password},
                        {"force_authorization", record.force_authorization},
                        {"remote_worker_address", record.remote_worker_address},
                        {"media_security", media_security_text(record.media_security)}}
      .dump();
}

// ---- PKI ---------------------------------------------------------------------------------

void fill(pb::CertificateInfo* out, const pki::certificate& cert, security::time_point now) {
  out->set_subject(cert.subject());
  out->set_issuer(cert.issuer());
  out->set_serial_hex(cert.serial_hex());
  out->set_not_before_unix(to_unix(cert.not_before()));
  out->set_not_after_unix(to_unix(cert.not_after()));
  out->set_days_until_expiry(cert.days_until_expiry(now));
  out->set_sha256_fingerprint(cert.sha256_fingerprint());
  out->set_self_signed(cert.is_self_signed());
  out->set_key_bits(static_cast<std::uint32_t>(cert.public_key_bits()));
  out->set_pem(cert.to_pem().value_or(""));
}

void fill(pb::CaInfo* out, const pki::certificate_authority& ca, security::time_point now) {
  fill(out->mutable_certificate(), ca.signing_certificate(), now);
  for (const auto& link : ca.chain())
    fill(out->add_chain(), link, now);
}

void fill(pb::IssuedList* out, const security::pki_record& record) {
  for (const auto& entry : record.issued) {
    auto* item = out->add_certificates();
    item->set_serial_hex(entry.serial_hex);
    item->set_subject(entry.subject);
    item->set_not_before_unix(to_unix(entry.not_before));
    item->set_not_after_unix(to_unix(entry.not_after));
    item->set_purpose(std::string(pki::to_string(entry.purpose)));
    if (auto it = record.revoked.find(entry.serial_hex); it != record.revoked.end()) {
      item->set_revoked(true);
      item->set_revoked_unix(to_unix(it->second));
    }
  }
}

void fill(pb::TcsList* out, const pki::trust_store& trust, security::time_point now) {
  for (const auto& entry : trust.entries()) {
    auto* item = out->add_entries();
    fill(item->mutable_certificate(), entry.cert, now);
    item->set_is_default(entry.is_default);
  }
  out->set_capacity(static_cast<std::uint32_t>(pki::trust_store::capacity));
}

void fill(pb::CheckSettings* out, const security::certificate_settings& settings) {
  out->set_management(std::string(pki::to_string(settings.management_checks)));
  out->set_telephony(std::string(pki::to_string(settings.telephony_checks)));
}

void fill(pb::TlsSettings* out, const security::certificate_settings& settings) {
  out->set_minimum_version(settings.minimum_tls == pki::tls_min_version::tls1_3 ? "1.3" : "1.2");
  out->set_offer_chain(settings.offer_chain);
  out->set_renew_identity_automatically(settings.renew_identity_automatically);
}

security::security_result<pki::device_request> parse_device_request(const pb::IssueRequest& in) {
  pki::device_request wanted;
  wanted.common_name = in.common_name();
  for (const auto& text : in.subject_alt_names()) {
    auto name = pki::parse_subject_alt_name(text);
    if (!name)
      return std::unexpected(invalid("subject_alt_names", name.error().detail));
    wanted.sans.push_back(*name);
  }
  wanted.validity_days = in.validity_days() == 0 ? 730 : static_cast<int>(in.validity_days());
  wanted.key_bits = in.key_bits() == 0 ? 2048 : static_cast<int>(in.key_bits());
  static const std::map<std::string, pki::signature_hash> hashes{
      {"sha1", pki::signature_hash::sha1},
      {"sha224", pki::signature_hash::sha224},
      {"sha256", pki::signature_hash::sha256},
      {"sha384", pki::signature_hash::sha384},
      {"sha512", pki::signature_hash::sha512}};
  auto hash = hashes.find(in.hash().empty() ? "sha256" : in.hash());
  if (hash == hashes.end())
    return std::unexpected(invalid("hash", "must be sha1, sha224, sha256, sha384 or sha512"));
  wanted.hash = hash->second;
  wanted.legacy = in.legacy();
  wanted.pkcs12_password = in.pkcs12_password();
  return wanted;
}

std::string normalized_serial(std::string serial) {
  std::transform(serial.begin(), serial.end(), serial.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  std::erase(serial, ':');
  return serial;
}

// ---- cluster and telephony status ------------------------------------------------------------

void fill(pb::ClusterStatusReply* out, const cluster::cluster_snapshot& snapshot) {
  out->set_node(snapshot.node);
  out->set_role(snapshot.role);
  out->set_settings_version(snapshot.settings_version);
  for (const auto& m : snapshot.members) {
    auto* member = out->add_members();
    member->set_name(m.name);
    member->set_role(m.role);
    member->set_line_up(m.line_up);
    member->set_enrolment_only(m.enrolment_only);
    member->set_dialled(m.dialled);
    member->set_line_security(m.line_security);
    member->set_peer_subject(m.peer_subject);
    member->set_peer_issuer(m.peer_issuer);
    member->set_certificate_days_left(m.peer_days_left);
    member->set_settings_version(m.settings_version);
    member->set_settings_lag(snapshot.settings_version > m.settings_version
                                 ? snapshot.settings_version - m.settings_version
                                 : 0);
    member->set_replication_ms(m.replication_ms);
    member->set_audit_sequence(m.audit_sequence);
    member->set_events_stored(m.events_stored);
    member->set_since_unix(m.since_unix);
    member->set_last_heartbeat_ms_ago(m.last_heartbeat_ms_ago);
    member->set_last_error(m.last_error);
  }
}

void fill(pb::Registration* out, const telephony::registration_binding& binding,
          security::time_point now) {
  out->set_extension(binding.extension);
  out->set_contact(binding.contact);
  out->set_source(binding.source);
  out->set_transport(std::string(telephony::to_string(binding.kind)));
  out->set_expires_in(
      std::chrono::duration_cast<std::chrono::seconds>(binding.expires_at - now).count());
  out->set_user_agent(binding.user_agent);
}

namespace {

/// Milliseconds since the epoch; 0 for an instant that has not happened (the epoch).
std::int64_t unix_ms_or_zero(std::chrono::system_clock::time_point at) {
  return at == std::chrono::system_clock::time_point{} ? std::int64_t{0} : to_unix_ms(at);
}

} // namespace

void fill(pb::ActiveCall* out, const telephony::call_view& view) {
  out->set_id(view.id);
  out->set_caller(view.caller);
  out->set_callee(view.callee);
  out->set_state(std::string(telephony::to_string(view.state)));
  out->set_caller_leg(view.caller_leg);
  out->set_callee_leg(view.callee_leg);
  out->set_caller_media(view.caller_media);
  out->set_callee_media(view.callee_media);
  out->set_caller_relay_port(view.caller_relay_port);
  out->set_callee_relay_port(view.callee_relay_port);
  out->set_direct(view.direct);
  out->set_started_unix_ms(unix_ms_or_zero(view.started));
  out->set_answered_unix_ms(unix_ms_or_zero(view.answered));
}

void fill(pb::BlacklistEntry* out, const telephony::sip_guard::blacklist_entry& entry) {
  out->set_key(entry.key);
  out->set_permanent(entry.permanent);
  out->set_until_unix(
      std::chrono::duration_cast<std::chrono::seconds>(entry.until.time_since_epoch()).count());
  out->set_blocks(entry.blocks);
}

} // namespace ward::node::admin_api
