#include "node/admin_api.hpp"

#include <openssl/crypto.h>

#include "admin.grpc.pb.h"
#include "media/media_policy.hpp"
#include "pki/bundle.hpp"
#include "pki/certificate_authority.hpp"
#include "security/settings_codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <tuple>

namespace ward::node {
namespace {

using actors::security_context;
using actors::security_transaction;
using actors::transaction_effect;
using actors::transaction_writes;
using security::right;
using security::security_errc;
using security::security_error;
using security::service_name;
namespace pb = ward::admin::v1;

using effect_result = security::security_result<transaction_effect>;

// No deadline: a transaction fills the reply object in this handler's stack frame, so the
// handler must not return before the actor has answered. The actor always answers, or
// its exit turns the request into an error.
constexpr auto actor_timeout = caf::infinite;

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

std::int64_t to_unix(std::optional<security::time_point> when) {
  if (!when)
    return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(when->time_since_epoch()).count();
}

/// The latest instant the API accepts (9999-12-31T23:59:59Z); beyond it the nanosecond
/// clock would overflow.
constexpr std::int64_t latest_unix = 253402300799;

security::time_point from_unix(std::int64_t seconds) {
  return security::time_point(
      std::chrono::seconds(std::clamp<std::int64_t>(seconds, 0, latest_unix)));
}

constexpr std::string_view line_source_prefix = "line:";

/// Reaches the security actor on behalf of one gRPC call.
class gateway {
public:
  explicit gateway(admin_api_context context) : context_(std::move(context)) {}

  actors::request_origin origin(const grpc::ServerContext* call) const {
    actors::request_origin origin;
    auto peer = call->peer();
    auto info = context_.connections.find_by_peer(peer);
    if (!info && proxied_by_this_node(call)) {
      // Only the node's own proxy executor knows the key: the call was authenticated by
      // the primary and proxied over a line (SPEC TOP-2).
      const auto& metadata = call->client_metadata();
      auto user =
          metadata.find(grpc::string_ref(proxied_user_header.data(), proxied_user_header.size()));
      auto source = metadata.find(
          grpc::string_ref(proxied_source_header.data(), proxied_source_header.size()));
      origin.proxied_user = user == metadata.end()
                                ? std::string{}
                                : std::string(user->second.data(), user->second.size());
      origin.source = "proxied:" + (source == metadata.end() ? std::string{}
                                                             : std::string(source->second.data(),
                                                                           source->second.size()));
      auto connection = metadata.find(
          grpc::string_ref(proxied_connection_header.data(), proxied_connection_header.size()));
      std::string how = connection == metadata.end()
                            ? std::string{}
                            : std::string(connection->second.data(), connection->second.size());
      origin.tls = how == "tls" || how == "tls+certificate";
      origin.client_certificate = how == "tls+certificate";
    } else if (info) {
      // A connection accepted by the line listener serves lines, never administration.
      origin.source = info->service == line_service_name
                          ? std::string(line_source_prefix) + info->peer_address
                          : info->peer_address;
      origin.service = security::parse_service_name(info->service);
      origin.tls = info->tls;
      origin.client_certificate = !info->client_certificate_subject.empty();
    } else {
      origin.source = peer;
    }
    return origin;
  }

  /// Whether the call carries the proxy key this node's executor puts on the calls it
  /// makes through the in-process channel.
  bool proxied_by_this_node(const grpc::ServerContext* call) const {
    if (context_.proxy_key.empty())
      return false;
    const auto& metadata = call->client_metadata();
    auto it = metadata.find(grpc::string_ref(proxy_key_header.data(), proxy_key_header.size()));
    return it != metadata.end() && it->second.size() == context_.proxy_key.size() &&
           CRYPTO_memcmp(it->second.data(), context_.proxy_key.data(), context_.proxy_key.size()) ==
               0;
  }

  static std::string token(const grpc::ServerContext* call) {
    const auto& metadata = call->client_metadata();
    auto it = metadata.find("authorization");
    if (it == metadata.end())
      return {};
    std::string_view value(it->second.data(), it->second.size());
    constexpr std::string_view bearer = "Bearer ";
    return value.starts_with(bearer) ? std::string(value.substr(bearer.size())) : std::string{};
  }

  template <class Reply, class Request> grpc::Status ask(Request request, Reply& reply) const {
    if (request.origin.source.starts_with(line_source_prefix))
      return {grpc::StatusCode::PERMISSION_DENIED,
              "the line port carries lines only; administration uses the service ports"};
    caf::scoped_actor self{context_.system};
    grpc::Status status = grpc::Status::OK;
    self->request(context_.security, actor_timeout, std::move(request))
        .receive([&](Reply& answer) { reply = std::move(answer); },
                 [&](const caf::error& err) {
                   status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                         "security database did not answer: " +
                                             context_.system.render(err));
                 });
    return status;
  }

  grpc::Status transact(const grpc::ServerContext* call, security_transaction transaction) const {
    transaction.token = token(call);
    transaction.origin = origin(call);
    // A proxied call is judged as the service it targets, with the caller's connection to
    // the primary.
    if (!transaction.origin.proxied_user.empty()) {
      transaction.token.clear();
      transaction.origin.service = transaction.service;
    }
    actors::transaction_reply reply;
    if (auto status = ask(std::move(transaction), reply); !status.ok())
      return status;
    return reply.error ? to_status(*reply.error) : grpc::Status::OK;
  }

  const admin_api_context& context() const { return context_; }

private:
  admin_api_context context_;
};

security_transaction transaction(std::string action, std::optional<service_name> service,
                                 std::optional<right> required, transaction_writes writes,
                                 actors::transaction_fn apply) {
  security_transaction t;
  t.action = std::move(action);
  t.service = service;
  t.required = required;
  t.writes = writes;
  t.apply = std::move(apply);
  return t;
}

// ---- conversions --------------------------------------------------------------------

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

security::security_result<security::lockout_rule> parse(const pb::LockoutRule& in,
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

void fill(pb::ServiceLevelList* out, const security::security_settings& settings,
          const service_level_control& levels) {
  for (auto service : security::all_service_names) {
    auto* entry = out->add_levels();
    entry->set_service(std::string(security::to_string(service)));
    entry->set_level(std::string(pki::to_string(settings.service_levels.at(service))));
    if (auto ports = levels.ports(service)) {
      entry->set_plain_port(ports->first);
      entry->set_tls_port(ports->second);
    }
  }
}

void fill(pb::UnsecuredInterfaces* out, const security::unsecured_interfaces& in) {
  out->set_legacy_monitor(in.legacy_monitor);
  out->set_cti(in.cti);
  out->set_directory_read(in.directory_read);
  out->set_directory_write(in.directory_write);
  out->set_file_writer_address(in.file_writer_address);
}

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

/// SPEC MED-2: an extension's override as the API shows it; "system" when it has none.
std::string media_security_text(std::optional<media::media_security> level) {
  return level ? std::string(media::to_string(*level)) : std::string("system");
}

/// A media security level from the API; "system" only where `system_allowed` (then
/// nullopt).
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

void fill(pb::Extension* out, const telephony::extension_record& record) {
  out->set_number(record.number);
  out->set_has_phone_password(record.has_phone_password);
  out->set_force_authorization(record.force_authorization);
  out->set_remote_worker_address(record.remote_worker_address);
  out->set_media_security(media_security_text(record.media_security));
}

std::int64_t to_unix_ms(security::time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
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
}

/// `current` with the fields present in `in` replaced; the read-only times are ignored.
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
  if (in.has_line_media_security()) {
    current.line_media_security.clear();
    for (const auto& [node, text] : in.line_media_security().levels()) {
      auto level = media_security_of(text, "line_media_security", false);
      if (!level)
        return std::unexpected(level.error());
      current.line_media_security[node] = **level;
    }
  }
  for (const auto& [node, text] : in.line_media_security_changes()) {
    auto level = media_security_of(text, "line_media_security_changes", true);
    if (!level)
      return std::unexpected(level.error());
    if (*level)
      current.line_media_security[node] = **level;
    else
      current.line_media_security.erase(node);
  }
  if (in.has_direct_media())
    current.direct_media = in.direct_media();
  if (in.has_emergency_numbers())
    current.emergency_numbers.assign(in.emergency_numbers().entries().begin(),
                                     in.emergency_numbers().entries().end());
  if (in.has_emergency_extension())
    current.emergency_extension = in.emergency_extension();
  return current;
}

std::string user_json(const security_context& c, std::string_view name) {
  const auto& users = c.security.settings().users;
  auto it = users.find(std::string(name));
  return it == users.end() ? std::string{}
                           : security::redacted(it->second, c.security.settings(), c.now).dump();
}

std::string group_json(const security_context& c, std::string_view name) {
  const auto& groups = c.security.settings().groups;
  auto it = groups.find(std::string(name));
  return it == groups.end() ? std::string{} : security::to_json(it->second).dump();
}

nlohmann::json telephony_user_json(const security_context& c, std::string_view name) {
  const auto& users = c.directory.data().users;
  auto it = users.find(std::string(name));
  if (it == users.end())
    return {};
  const auto& user = it->second;
  return {{"name", user.name},
          {"full_name", user.full_name},
          {"extension", user.extension},
          {"has_password", !user.password_hash.empty()},
          {"has_login_code", !user.login_code_hash.empty()},
          {"has_voicemail_code", !user.voicemail_code_hash.empty()}};
}

nlohmann::json extension_json(const security_context& c, std::string_view number) {
  const auto& extensions = c.directory.data().extensions;
  auto it = extensions.find(std::string(number));
  if (it == extensions.end())
    return {};
  const auto& record = it->second;
  return {{"number", record.number},
          {"has_phone_password", record.has_phone_password},
          {"force_authorization", record.force_authorization},
          {"remote_worker_address", record.remote_worker_address},
          {"media_security", media_security_text(record.media_security)}};
}

std::string dump_or_empty(const nlohmann::json& value) {
  return value.is_null() ? std::string{} : value.dump();
}

// ---- Session -------------------------------------------------------------------------

class session_service final : public pb::Session::Service {
public:
  explicit session_service(std::shared_ptr<gateway> gw) : gw_(std::move(gw)) {}

  grpc::Status Login(grpc::ServerContext* call, const pb::LoginRequest* request,
                     pb::LoginReply* reply) override {
    if (request->name().empty() || request->name().size() > 64)
      return to_status(invalid("name", "must be 1 to 64 characters"));
    if (request->password().size() > 128)
      return to_status(invalid("password", "is too long"));
    actors::login_reply answer;
    auto status = gw_->ask(
        actors::login_request{request->name(), request->password(), gw_->origin(call)}, answer);
    if (!status.ok())
      return status;
    if (answer.error)
      return to_status(*answer.error);
    reply->set_token(answer.grant.token);
    reply->set_expires_in_seconds(answer.grant.expires_in.count());
    reply->set_must_change_password(answer.grant.must_change_password);
    reply->set_password_expires_in_days(answer.grant.password_expires_in_days.value_or(-1));
    reply->set_identity_certificate_expires_in_days(answer.grant.identity_days_left);
    for (const auto& item : answer.grant.ignition_pending)
      reply->add_ignition_pending(item);
    for (auto id : answer.grant.rights)
      reply->add_rights(std::string(security::to_string(id)));
    return grpc::Status::OK;
  }

  grpc::Status Logout(grpc::ServerContext* call, const pb::Empty*, pb::Empty*) override {
    actors::transaction_reply answer;
    return gw_->ask(actors::logout_request{gateway::token(call), gw_->origin(call)}, answer);
  }

  grpc::Status ChangePassword(grpc::ServerContext* call, const pb::ChangePasswordRequest* request,
                              pb::Empty*) override {
    auto old_password = request->old_password();
    auto new_password = request->new_password();
    auto t = transaction(
        "ChangePassword", std::nullopt, std::nullopt, transaction_writes::security_settings,
        [old_password, new_password](security_context& c) -> effect_result {
          const auto& name = c.principal->user;
          auto changed = c.security.change_own_password(name, old_password, new_password, c.now);
          if (!changed)
            return std::unexpected(changed.error());
          return transaction_effect{"service_user/" + name, "", "", "own password changed",
                                    security::audit_kind::password_change};
        });
    t.allowed_before_ignition = true;
    return gw_->transact(call, std::move(t));
  }

  grpc::Status SetSystemPassword(grpc::ServerContext* call,
                                 const pb::SetSystemPasswordRequest* request, pb::Empty*) override {
    auto new_password = request->new_password();
    auto t = transaction("SetSystemPassword", service_name::security_administration,
                         right::security_write_all, transaction_writes::security_settings,
                         [new_password](security_context& c) -> effect_result {
                           auto changed = c.security.set_system_password(new_password, c.now);
                           if (!changed)
                             return std::unexpected(changed.error());
                           return transaction_effect{"system_password", "", "", "changed",
                                                     security::audit_kind::password_change};
                         });
    t.allowed_before_ignition = true;
    return gw_->transact(call, std::move(t));
  }

  grpc::Status UserLogin(grpc::ServerContext* call, const pb::UserLoginRequest* request,
                         pb::UserLoginReply* reply) override {
    if (request->name().empty() || request->name().size() > 31)
      return to_status(invalid("name", "must be 1 to 31 characters"));
    actors::user_login_reply answer;
    auto status = gw_->ask(actors::user_login_request{gateway::token(call), gw_->origin(call),
                                                      request->name(), request->password()},
                           answer);
    if (!status.ok())
      return status;
    if (answer.error)
      return to_status(*answer.error);
    reply->set_accepted(answer.accepted);
    reply->set_locked(answer.locked);
    return grpc::Status::OK;
  }

private:
  std::shared_ptr<gateway> gw_;
};

// ---- Security ------------------------------------------------------------------------

constexpr auto security_service = service_name::security_administration;

class security_service_impl final : public pb::Security::Service {
public:
  explicit security_service_impl(std::shared_ptr<gateway> gw) : gw_(std::move(gw)) {}

  grpc::Status ListServiceUsers(grpc::ServerContext* call, const pb::Empty*,
                                pb::ServiceUserList* reply) override {
    return read(call, "ListServiceUsers", [reply](security_context& c) -> effect_result {
      for (const auto& [_, user] : c.security.settings().users)
        fill(reply->add_users(), user, c.security.settings(), c.now);
      return transaction_effect{};
    });
  }

  grpc::Status GetServiceUser(grpc::ServerContext* call, const pb::NameRequest* request,
                              pb::ServiceUser* reply) override {
    auto name = request->name();
    return read(call, "GetServiceUser", [name, reply](security_context& c) -> effect_result {
      const auto& users = c.security.settings().users;
      auto it = users.find(name);
      if (it == users.end())
        return std::unexpected(security_error{security_errc::not_found, "name",
                                              "service user " + name + " does not exist"});
      fill(reply, it->second, c.security.settings(), c.now);
      return transaction_effect{};
    });
  }

  grpc::Status CreateServiceUser(grpc::ServerContext* call,
                                 const pb::CreateServiceUserRequest* request,
                                 pb::ServiceUser* reply) override {
    security::new_service_user user;
    user.name = request->name();
    user.password = request->password();
    user.groups = {request->groups().begin(), request->groups().end()};
    if (!request->setting().empty()) {
      auto setting = security::parse_account_setting(request->setting());
      if (!setting)
        return to_status(invalid("setting", "must be enabled, disabled or force_new_password"));
      user.setting = *setting;
    }
    if (request->expires_at_unix() < 0 || request->expires_at_unix() > latest_unix)
      return to_status(invalid("expires_at_unix", "must be a date between 1970 and 9999"));
    if (request->expires_at_unix() != 0)
      user.expires_at = from_unix(request->expires_at_unix());
    return write(call, "CreateServiceUser", [user, reply](security_context& c) -> effect_result {
      auto created = c.security.create_user(user, c.now);
      if (!created)
        return std::unexpected(created.error());
      fill(reply, c.security.settings().users.at(user.name), c.security.settings(), c.now);
      return transaction_effect{"service_user/" + user.name, "", user_json(c, user.name), ""};
    });
  }

  grpc::Status UpdateServiceUser(grpc::ServerContext* call,
                                 const pb::UpdateServiceUserRequest* request,
                                 pb::ServiceUser* reply) override {
    security::service_user_update update;
    if (request->has_setting()) {
      auto setting = security::parse_account_setting(request->setting());
      if (!setting)
        return to_status(invalid("setting", "must be enabled, disabled or force_new_password"));
      update.setting = *setting;
    }
    if (request->set_groups())
      update.groups = std::set<std::string>(request->groups().begin(), request->groups().end());
    if (request->has_expires_at_unix() &&
        (request->expires_at_unix() < 0 || request->expires_at_unix() > latest_unix))
      return to_status(invalid("expires_at_unix", "must be a date between 1970 and 9999"));
    if (request->has_expires_at_unix())
      update.expires_at =
          request->expires_at_unix() == 0
              ? std::optional<security::time_point>{}
              : std::optional<security::time_point>{from_unix(request->expires_at_unix())};
    if (request->has_password())
      update.password = request->password();
    auto name = request->name();
    return write(
        call, "UpdateServiceUser", [name, update, reply](security_context& c) -> effect_result {
          auto before = user_json(c, name);
          auto updated = c.security.update_user(name, update, c.now);
          if (!updated)
            return std::unexpected(updated.error());
          fill(reply, c.security.settings().users.at(name), c.security.settings(), c.now);
          return transaction_effect{"service_user/" + name, before, user_json(c, name),
                                    update.password ? "password reset by administrator" : "",
                                    update.password ? security::audit_kind::password_change
                                                    : security::audit_kind::change};
        });
  }

  grpc::Status DeleteServiceUser(grpc::ServerContext* call, const pb::NameRequest* request,
                                 pb::Empty*) override {
    auto name = request->name();
    return write(call, "DeleteServiceUser", [name](security_context& c) -> effect_result {
      auto before = user_json(c, name);
      auto deleted = c.security.delete_user(name);
      if (!deleted)
        return std::unexpected(deleted.error());
      return transaction_effect{"service_user/" + name, before, "", ""};
    });
  }

  grpc::Status UnlockServiceUser(grpc::ServerContext* call, const pb::NameRequest* request,
                                 pb::ServiceUser* reply) override {
    auto name = request->name();
    return write(call, "UnlockServiceUser", [name, reply](security_context& c) -> effect_result {
      auto before = user_json(c, name);
      auto unlocked = c.security.unlock_user(name);
      if (!unlocked)
        return std::unexpected(unlocked.error());
      fill(reply, c.security.settings().users.at(name), c.security.settings(), c.now);
      return transaction_effect{"service_user/" + name, before, user_json(c, name), "unlocked"};
    });
  }

  grpc::Status ListRights(grpc::ServerContext* call, const pb::Empty*,
                          pb::RightList* reply) override {
    return read(call, "ListRights", [reply](security_context&) -> effect_result {
      for (const auto& row : security::all_rights()) {
        auto* out = reply->add_rights();
        out->set_name(std::string(row.name));
        out->set_rights_set(std::string(security::to_string(row.set)));
        out->set_category(row.category == security::right_category::service ? "service"
                                                                            : "operator_profile");
      }
      return transaction_effect{};
    });
  }

  grpc::Status ListRightsGroups(grpc::ServerContext* call, const pb::Empty*,
                                pb::RightsGroupList* reply) override {
    return read(call, "ListRightsGroups", [reply](security_context& c) -> effect_result {
      for (const auto& [_, group] : c.security.settings().groups)
        fill(reply->add_groups(), group);
      return transaction_effect{};
    });
  }

  grpc::Status GetRightsGroup(grpc::ServerContext* call, const pb::NameRequest* request,
                              pb::RightsGroup* reply) override {
    auto name = request->name();
    return read(call, "GetRightsGroup", [name, reply](security_context& c) -> effect_result {
      const auto& groups = c.security.settings().groups;
      auto it = groups.find(name);
      if (it == groups.end())
        return std::unexpected(security_error{security_errc::not_found, "name",
                                              "rights group " + name + " does not exist"});
      fill(reply, it->second);
      return transaction_effect{};
    });
  }

  grpc::Status CreateRightsGroup(grpc::ServerContext* call, const pb::RightsGroup* request,
                                 pb::RightsGroup* reply) override {
    auto rights = parse_rights(*request);
    if (!rights)
      return to_status(rights.error());
    security::rights_group group{request->name(), *rights, false};
    return write(call, "CreateRightsGroup", [group, reply](security_context& c) -> effect_result {
      auto created = c.security.create_group(group);
      if (!created)
        return std::unexpected(created.error());
      fill(reply, c.security.settings().groups.at(group.name));
      return transaction_effect{"rights_group/" + group.name, "", group_json(c, group.name), ""};
    });
  }

  grpc::Status UpdateRightsGroup(grpc::ServerContext* call, const pb::RightsGroup* request,
                                 pb::RightsGroup* reply) override {
    auto rights = parse_rights(*request);
    if (!rights)
      return to_status(rights.error());
    auto name = request->name();
    return write(
        call, "UpdateRightsGroup",
        [name, rights = *rights, reply](security_context& c) -> effect_result {
          auto before = group_json(c, name);
          auto updated = c.security.update_group(name, rights);
          if (!updated)
            return std::unexpected(updated.error());
          fill(reply, c.security.settings().groups.at(name));
          return transaction_effect{"rights_group/" + name, before, group_json(c, name), ""};
        });
  }

  grpc::Status DeleteRightsGroup(grpc::ServerContext* call, const pb::NameRequest* request,
                                 pb::Empty*) override {
    auto name = request->name();
    return write(call, "DeleteRightsGroup", [name](security_context& c) -> effect_result {
      auto before = group_json(c, name);
      auto deleted = c.security.delete_group(name);
      if (!deleted)
        return std::unexpected(deleted.error());
      return transaction_effect{"rights_group/" + name, before, "", ""};
    });
  }

  grpc::Status GetPolicy(grpc::ServerContext* call, const pb::Empty*, pb::Policy* reply) override {
    return read(call, "GetPolicy", [reply](security_context& c) -> effect_result {
      fill(reply, c.security.settings());
      return transaction_effect{};
    });
  }

  grpc::Status SetPolicy(grpc::ServerContext* call, const pb::Policy* request,
                         pb::Policy* reply) override {
    pb::Policy wanted = *request;
    return write(call, "SetPolicy", [wanted, reply](security_context& c) -> effect_result {
      pb::Policy before;
      fill(&before, c.security.settings());
      auto service = c.security.settings().service_policy;
      if (wanted.has_service_user()) {
        const auto& in = wanted.service_user();
        service.min_name_length = in.min_name_length();
        service.password.min_length = in.min_password_length();
        auto level = parse_complexity(in.complexity(), "service_user.complexity");
        if (!level)
          return std::unexpected(level.error());
        service.password.level = *level;
        service.history_entries = in.history_entries();
        service.password_change_period_days = in.password_change_period_days();
        service.account_idle_days = in.account_idle_days();
        auto rule = parse(in.lockout(), "service_user");
        if (!rule)
          return std::unexpected(rule.error());
        service.lockout = *rule;
        auto source_rule = parse(in.source_lockout(), "service_user.source");
        if (!source_rule)
          return std::unexpected(source_rule.error());
        service.source_lockout = *source_rule;
        if (auto set = c.security.set_service_user_policy(service); !set)
          return std::unexpected(set.error());
      }
      if (wanted.has_telephony_user()) {
        const auto& in = wanted.telephony_user();
        auto telephony = c.security.settings().telephony_policy;
        telephony.enforce = in.enforce();
        telephony.password.min_length = in.min_password_length();
        auto level = parse_complexity(in.complexity(), "telephony_user.complexity");
        if (!level)
          return std::unexpected(level.error());
        telephony.password.level = *level;
        auto rule = parse(in.lockout(), "telephony_user");
        if (!rule)
          return std::unexpected(rule.error());
        telephony.lockout = *rule;
        if (auto set = c.security.set_telephony_user_policy(telephony); !set)
          return std::unexpected(set.error());
      }
      if (wanted.has_login_code() || wanted.has_voicemail_code()) {
        auto login = c.security.settings().login_code_rules;
        auto voicemail = c.security.settings().voicemail_code_rules;
        if (wanted.has_login_code()) {
          login.min_length = wanted.login_code().min_length();
          login.complexity_test = wanted.login_code().complexity_test();
        }
        if (wanted.has_voicemail_code()) {
          voicemail.min_length = wanted.voicemail_code().min_length();
          voicemail.complexity_test = wanted.voicemail_code().complexity_test();
        }
        if (auto set = c.security.set_code_rules(login, voicemail); !set)
          return std::unexpected(set.error());
      }
      fill(reply, c.security.settings());
      std::string before_text, after_text;
      google::protobuf::util::MessageToJsonString(before, &before_text);
      google::protobuf::util::MessageToJsonString(*reply, &after_text);
      return transaction_effect{"policy", before_text, after_text, ""};
    });
  }

  grpc::Status GetServiceLevels(grpc::ServerContext* call, const pb::Empty*,
                                pb::ServiceLevelList* reply) override {
    auto* levels = &gw_->context().levels;
    return read(call, "GetServiceLevels", [reply, levels](security_context& c) -> effect_result {
      fill(reply, c.security.settings(), *levels);
      return transaction_effect{};
    });
  }

  grpc::Status SetServiceLevel(grpc::ServerContext* call, const pb::ServiceLevel* request,
                               pb::ServiceLevelList* reply) override {
    auto service = security::parse_service_name(request->service());
    if (!service)
      return to_status(invalid("service", "unknown service '" + request->service() + "'"));
    auto level = pki::parse_service_security_level(request->level());
    if (!level)
      return to_status(invalid("level", "must be disabled, unsecure_only, unsecure_and_secure, "
                                        "secure_low, secure_medium or secure_high"));
    auto* levels = &gw_->context().levels;
    return write(
        call, "SetServiceLevel",
        [service = *service, level = *level, reply, levels](security_context& c) -> effect_result {
          auto before = c.security.settings().service_levels.at(service);
          // Listeners first: a port that cannot be opened refuses the change.
          if (auto applied = levels->apply(service, level); !applied)
            return std::unexpected(
                security_error{security_errc::failed_precondition, "level", applied.error()});
          auto set = c.security.set_service_level(service, level);
          if (!set)
            return std::unexpected(set.error());
          fill(reply, c.security.settings(), *levels);
          return transaction_effect{"service_level/" + std::string(security::to_string(service)),
                                    std::string(pki::to_string(before)),
                                    std::string(pki::to_string(level)), ""};
        });
  }

  grpc::Status GetUnsecuredInterfaces(grpc::ServerContext* call, const pb::Empty*,
                                      pb::UnsecuredInterfaces* reply) override {
    return read(call, "GetUnsecuredInterfaces", [reply](security_context& c) -> effect_result {
      fill(reply, c.security.settings().interfaces);
      return transaction_effect{};
    });
  }

  grpc::Status SetUnsecuredInterfaces(grpc::ServerContext* call,
                                      const pb::UnsecuredInterfaces* request,
                                      pb::UnsecuredInterfaces* reply) override {
    security::unsecured_interfaces wanted{request->legacy_monitor(), request->cti(),
                                          request->directory_read(), request->directory_write(),
                                          request->file_writer_address()};
    return write(
        call, "SetUnsecuredInterfaces", [wanted, reply](security_context& c) -> effect_result {
          auto before = security::to_json(c.security.settings().interfaces).dump();
          auto set = c.security.set_unsecured_interfaces(wanted);
          if (!set)
            return std::unexpected(set.error());
          fill(reply, c.security.settings().interfaces);
          return transaction_effect{"unsecured_interfaces", before,
                                    security::to_json(c.security.settings().interfaces).dump(), ""};
        });
  }

  grpc::Status SecurityReset(grpc::ServerContext* call, const pb::Empty*, pb::Empty*) override {
    auto* levels = &gw_->context().levels;
    auto t = transaction("SecurityReset", security_service, right::security_reset_all,
                         transaction_writes::security_settings | transaction_writes::pki,
                         [](security_context& c) -> effect_result {
                           auto reset = c.security.reset(c.now, c.random);
                           if (!reset)
                             return std::unexpected(reset.error());
                           // SPEC SEC-7: the TCS returns to its default content too.
                           c.pki.record.trust = pki::trust_store::with_defaults();
                           return transaction_effect{"security_settings", "", "",
                                                     "all security settings restored to defaults",
                                                     security::audit_kind::security_reset};
                         });
    t.after_commit = [levels](const security::security_settings& settings,
                              const actors::pki_state& pki) {
      (void)levels->reload(settings, pki);
    };
    return gw_->transact(call, std::move(t));
  }

  grpc::Status AuditQuery(grpc::ServerContext* call, const pb::AuditQueryRequest* request,
                          pb::AuditRecordList* reply) override;
  grpc::Status AuditVerify(grpc::ServerContext* call, const pb::Empty*,
                           pb::AuditVerifyReply* reply) override;

  void set_audit(std::shared_ptr<security::audit_log> audit,
                 std::shared_ptr<security::sealed_store> store) {
    audit_ = std::move(audit);
    store_ = std::move(store);
  }

private:
  static security::security_result<std::set<right>> parse_rights(const pb::RightsGroup& request) {
    std::set<right> rights;
    for (const auto& name : request.rights()) {
      auto id = security::parse_right(name);
      if (!id)
        return std::unexpected(invalid("rights", "unknown right '" + name + "'"));
      rights.insert(*id);
    }
    return rights;
  }

  grpc::Status read(grpc::ServerContext* call, std::string action, actors::transaction_fn fn,
                    right required = right::security_read_all) {
    return gw_->transact(call, transaction(std::move(action), security_service, required,
                                           transaction_writes::nothing, std::move(fn)));
  }

  grpc::Status write(grpc::ServerContext* call, std::string action, actors::transaction_fn fn) {
    return gw_->transact(call,
                         transaction(std::move(action), security_service, right::security_write_all,
                                     transaction_writes::security_settings, std::move(fn)));
  }

  std::shared_ptr<gateway> gw_;
  std::shared_ptr<security::audit_log> audit_;
  std::shared_ptr<security::sealed_store> store_;
};

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

grpc::Status security_service_impl::AuditQuery(grpc::ServerContext* call,
                                               const pb::AuditQueryRequest* request,
                                               pb::AuditRecordList* reply) {
  security::audit_filter filter;
  if (!request->kind().empty()) {
    filter.kind = security::parse_audit_kind(request->kind());
    if (!filter.kind)
      return to_status(invalid("kind", "unknown audit kind '" + request->kind() + "'"));
  }
  filter.actor = request->actor();
  filter.after_sequence = request->after_sequence();
  filter.limit = request->limit() == 0 ? 100 : request->limit();
  if (filter.limit > security::max_audit_query_limit)
    return to_status(invalid("limit", "must be at most 10000"));
  auto audit = audit_;
  return read(call, "AuditQuery", [audit, filter, reply](security_context&) -> effect_result {
    auto records = audit->query(filter);
    if (!records)
      return std::unexpected(
          security_error{security_errc::storage_failure, "audit", records.error().detail});
    for (const auto& record : *records)
      fill(reply->add_records(), record);
    return transaction_effect{};
  });
}

grpc::Status security_service_impl::AuditVerify(grpc::ServerContext* call, const pb::Empty*,
                                                pb::AuditVerifyReply* reply) {
  auto audit = audit_;
  auto store = store_;
  return read(call, "AuditVerify", [audit, store, reply](security_context&) -> effect_result {
    auto verified = audit->verify();
    if (!verified)
      return std::unexpected(
          security_error{security_errc::storage_failure, "audit", verified.error().detail});
    reply->set_intact(verified->intact);
    reply->set_records(verified->records);
    reply->set_first_bad_sequence(verified->first_bad_sequence);
    reply->set_problem(verified->problem);
    if (!verified->intact || !store)
      return transaction_effect{};
    // A chain that verifies can still be one cut short or rewritten whole: compare its end
    // with the anchor sealed under the node key.
    auto anchor = store->get(actors::audit_anchor_record);
    if (!anchor || !*anchor)
      return transaction_effect{};
    std::istringstream fields(**anchor);
    std::uint64_t sequence = 0;
    std::string hash;
    fields >> sequence >> hash;
    std::string last_hash;
    if (sequence > 0) {
      security::audit_filter filter;
      filter.after_sequence = sequence - 1;
      filter.limit = 1;
      if (auto last = audit->query(filter); last && !last->empty())
        last_hash = last->front().hash;
    }
    if (verified->records < sequence || last_hash != hash) {
      reply->set_intact(false);
      reply->set_first_bad_sequence(std::min<std::uint64_t>(verified->records + 1, sequence));
      reply->set_problem("the trail does not reach the sealed anchor (record " +
                         std::to_string(sequence) +
                         "): records were removed from its end or it was rewritten");
    }
    return transaction_effect{};
  });
}

// ---- Certificates ---------------------------------------------------------------------

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

security_error no_ca() {
  return {security_errc::failed_precondition, "ca",
          "this node hosts no certificate authority (only the primary does)"};
}

/// Issues this node a new identity for its own key: from its CA where it has one, else
/// self-signed (SPEC PKI-2, PKI-11).
security::security_result<void> reissue_identity(security_context& c) {
  auto& state = c.pki;
  if (state.record.ca) {
    auto issued = state.record.ca->issue_node_identity(state.identity_key, state.hostname,
                                                       state.addresses, c.now);
    if (!issued)
      return std::unexpected(from_pki(issued.error(), "identity"));
    state.identity = *issued;
    state.record.issued.push_back(pki::record_of(*issued, pki::issued_purpose::node_identity));
    return {};
  }
  auto made = pki::make_self_signed_identity(state.identity_key, state.hostname, c.now, c.random);
  if (!made)
    return std::unexpected(from_pki(made.error(), "identity"));
  state.identity = *made;
  return {};
}

class pki_service_impl final : public pb::Pki::Service {
public:
  explicit pki_service_impl(std::shared_ptr<gateway> gw) : gw_(std::move(gw)) {}

  grpc::Status GetCa(grpc::ServerContext* call, const pb::Empty*, pb::CaInfo* reply) override {
    return read(call, "GetCa", [reply](security_context& c) -> effect_result {
      if (!c.pki.record.ca)
        return std::unexpected(no_ca());
      fill(reply, *c.pki.record.ca, c.now);
      return transaction_effect{};
    });
  }

  grpc::Status ExportCa(grpc::ServerContext* call, const pb::ExportCaRequest* request,
                        pb::Blob* reply) override {
    auto format = request->format();
    if (format != "pem" && format != "der")
      return to_status(invalid("format", "must be pem or der"));
    return read(call, "ExportCa", [format, reply](security_context& c) -> effect_result {
      if (!c.pki.record.ca)
        return std::unexpected(no_ca());
      const auto& cert = c.pki.record.ca->signing_certificate();
      auto bytes = format == "pem" ? cert.to_pem() : cert.to_der();
      if (!bytes)
        return std::unexpected(from_pki(bytes.error(), "ca"));
      reply->set_data(*bytes);
      return transaction_effect{};
    });
  }

  grpc::Status RenewCa(grpc::ServerContext* call, const pb::Empty*, pb::CaInfo* reply) override {
    return write(call, "RenewCa", [this, reply](security_context& c) -> effect_result {
      if (!c.pki.record.ca)
        return std::unexpected(no_ca());
      auto before = c.pki.record.ca->signing_certificate().serial_hex();
      if (auto renewed = c.pki.record.ca->renew_existing(c.now, c.random); !renewed)
        return std::unexpected(from_pki(renewed.error(), "ca"));
      if (auto reloaded = reload(c); !reloaded)
        return std::unexpected(reloaded.error());
      fill(reply, *c.pki.record.ca, c.now);
      return transaction_effect{"certificate_authority", "serial " + before,
                                "serial " + c.pki.record.ca->signing_certificate().serial_hex(),
                                "renewed with the same key pair"};
    });
  }

  grpc::Status CreateNewCa(grpc::ServerContext* call, const pb::Empty*,
                           pb::CaInfo* reply) override {
    return write(call, "CreateNewCa", [this, reply](security_context& c) -> effect_result {
      if (!c.pki.record.ca)
        return std::unexpected(no_ca());
      auto before = c.pki.record.ca->signing_certificate().sha256_fingerprint();
      auto created = pki::certificate_authority::create_root(c.pki.hostname, c.pki.organisation,
                                                             c.now, c.random);
      if (!created)
        return std::unexpected(from_pki(created.error(), "ca"));
      if (auto replaced = replace_ca(c, std::move(*created), reply); !replaced)
        return std::unexpected(replaced.error());
      return transaction_effect{"certificate_authority", before,
                                c.pki.record.ca->signing_certificate().sha256_fingerprint(),
                                "new key pair; node identity reissued"};
    });
  }

  grpc::Status ImportCa(grpc::ServerContext* call, const pb::ImportP12Request* request,
                        pb::CaInfo* reply) override {
    auto der = request->pkcs12();
    auto password = request->password();
    return write(
        call, "ImportCa", [this, der, password, reply](security_context& c) -> effect_result {
          if (!c.pki.record.ca)
            return std::unexpected(no_ca());
          auto imported = pki::certificate_authority::import_pkcs12(der, password, c.now);
          if (!imported)
            return std::unexpected(from_pki(imported.error(), "pkcs12"));
          auto before = c.pki.record.ca->signing_certificate().subject();
          if (auto replaced = replace_ca(c, std::move(*imported), reply); !replaced)
            return std::unexpected(replaced.error());
          return transaction_effect{"certificate_authority", before,
                                    c.pki.record.ca->signing_certificate().subject(),
                                    "signing certificate imported; node identity reissued"};
        });
  }

  grpc::Status ExportCaP12(grpc::ServerContext* call, const pb::PasswordRequest* request,
                           pb::Blob* reply) override {
    if (request->password().size() < 8)
      return to_status(
          invalid("password", "must be at least 8 characters: it protects the CA key"));
    auto password = request->password();
    auto t = transaction("ExportCaP12", security_service, right::security_write_all,
                         transaction_writes::nothing,
                         [password, reply](security_context& c) -> effect_result {
                           if (!c.pki.record.ca)
                             return std::unexpected(no_ca());
                           auto exported = c.pki.record.ca->export_pkcs12(password);
                           if (!exported)
                             return std::unexpected(from_pki(exported.error(), "ca"));
                           reply->set_data(*exported);
                           return transaction_effect{"certificate_authority", "", "",
                                                     "signing certificate and key exported"};
                         });
    t.audited = true;
    return gw_->transact(call, std::move(t));
  }

  grpc::Status Issue(grpc::ServerContext* call, const pb::IssueRequest* request,
                     pb::IssueReply* reply) override {
    pki::device_request wanted;
    wanted.common_name = request->common_name();
    for (const auto& text : request->subject_alt_names()) {
      auto name = pki::parse_subject_alt_name(text);
      if (!name)
        return to_status(invalid("subject_alt_names", name.error().detail));
      wanted.sans.push_back(*name);
    }
    wanted.validity_days =
        request->validity_days() == 0 ? 730 : static_cast<int>(request->validity_days());
    wanted.key_bits = request->key_bits() == 0 ? 2048 : static_cast<int>(request->key_bits());
    static const std::map<std::string, pki::signature_hash> hashes{
        {"sha1", pki::signature_hash::sha1},
        {"sha224", pki::signature_hash::sha224},
        {"sha256", pki::signature_hash::sha256},
        {"sha384", pki::signature_hash::sha384},
        {"sha512", pki::signature_hash::sha512}};
    auto hash = hashes.find(request->hash().empty() ? "sha256" : request->hash());
    if (hash == hashes.end())
      return to_status(invalid("hash", "must be sha1, sha224, sha256, sha384 or sha512"));
    wanted.hash = hash->second;
    wanted.legacy = request->legacy();
    wanted.pkcs12_password = request->pkcs12_password();
    return write(call, "Issue", [wanted, reply](security_context& c) -> effect_result {
      if (!c.pki.record.ca)
        return std::unexpected(no_ca());
      auto issued = c.pki.record.ca->issue_device(wanted, c.now, c.random);
      if (!issued)
        return std::unexpected(from_pki(issued.error(), "request"));
      c.pki.record.issued.push_back(issued->record);
      reply->set_pkcs12(issued->pkcs12_der);
      reply->set_serial_hex(issued->record.serial_hex);
      for (const auto& warning : issued->warnings)
        reply->add_warnings(warning);
      nlohmann::json after{{"subject", issued->record.subject},
                           {"serial", issued->record.serial_hex},
                           {"days", wanted.validity_days},
                           {"key_bits", wanted.key_bits},
                           {"legacy", wanted.legacy}};
      return transaction_effect{"certificate/" + issued->record.serial_hex, "", after.dump(),
                                "device identity issued"};
    });
  }

  grpc::Status ListIssued(grpc::ServerContext* call, const pb::Empty*,
                          pb::IssuedList* reply) override {
    return read(call, "ListIssued", [reply](security_context& c) -> effect_result {
      fill(reply, c.pki.record);
      return transaction_effect{};
    });
  }

  grpc::Status Revoke(grpc::ServerContext* call, const pb::RevokeRequest* request,
                      pb::IssuedList* reply) override {
    std::string serial = request->serial_hex();
    std::transform(serial.begin(), serial.end(), serial.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    std::erase(serial, ':');
    return write(call, "Revoke", [this, serial, reply](security_context& c) -> effect_result {
      if (!c.pki.record.ca)
        return std::unexpected(no_ca());
      auto& issued = c.pki.record.issued;
      if (std::none_of(issued.begin(), issued.end(),
                       [&](const auto& entry) { return entry.serial_hex == serial; }))
        return std::unexpected(
            security_error{security_errc::not_found, "serial_hex",
                           "this CA issued no certificate with serial " + serial});
      if (serial == c.pki.identity.serial_hex())
        return std::unexpected(
            security_error{security_errc::failed_precondition, "serial_hex",
                           "that is this node's own identity: renew it instead"});
      if (!c.pki.record.revoked.emplace(serial, c.now).second)
        return std::unexpected(security_error{security_errc::already_exists, "serial_hex",
                                              "certificate " + serial + " is already revoked"});
      if (auto reloaded = reload(c); !reloaded)
        return std::unexpected(reloaded.error());
      fill(reply, c.pki.record);
      return transaction_effect{"certificate/" + serial, "valid", "revoked", ""};
    });
  }

  grpc::Status GetIdentity(grpc::ServerContext* call, const pb::Empty*,
                           pb::CertificateInfo* reply) override {
    return read(call, "GetIdentity", [reply](security_context& c) -> effect_result {
      fill(reply, c.pki.identity, c.now);
      return transaction_effect{};
    });
  }

  grpc::Status RenewIdentity(grpc::ServerContext* call, const pb::Empty*,
                             pb::CertificateInfo* reply) override {
    return write(call, "RenewIdentity", [this, reply](security_context& c) -> effect_result {
      auto before = c.pki.identity.serial_hex();
      if (auto reissued = reissue_identity(c); !reissued)
        return std::unexpected(reissued.error());
      if (auto reloaded = reload(c); !reloaded)
        return std::unexpected(reloaded.error());
      fill(reply, c.pki.identity, c.now);
      return transaction_effect{"identity", "serial " + before,
                                "serial " + c.pki.identity.serial_hex(), "renewed"};
    });
  }

  grpc::Status SetIdentityP12(grpc::ServerContext* call, const pb::ImportP12Request* request,
                              pb::CertificateInfo* reply) override {
    auto der = request->pkcs12();
    auto password = request->password();
    return write(
        call, "SetIdentityP12", [this, der, password, reply](security_context& c) -> effect_result {
          auto contents = pki::parse_pkcs12(der, password);
          if (!contents)
            return std::unexpected(from_pki(contents.error(), "pkcs12"));
          if (!contents->cert.is_valid_at(c.now))
            return std::unexpected(
                invalid("pkcs12", "the certificate is outside its validity period"));
          if (contents->cert.is_ca())
            return std::unexpected(invalid("pkcs12", "a CA certificate is not a node identity"));
          auto before = c.pki.identity.subject() + " serial " + c.pki.identity.serial_hex();
          c.pki.identity_key = contents->key;
          c.pki.identity = contents->cert;
          // The listeners build a TLS context from it first: one they refuse (a key OpenSSL
          // will not serve, say) refuses the change, and the old identity keeps serving.
          if (auto reloaded = reload(c); !reloaded)
            return std::unexpected(reloaded.error());
          fill(reply, c.pki.identity, c.now);
          return transaction_effect{"identity", before,
                                    c.pki.identity.subject() + " serial " +
                                        c.pki.identity.serial_hex(),
                                    "identity installed from PKCS#12"};
        });
  }

  grpc::Status ListTcs(grpc::ServerContext* call, const pb::Empty*, pb::TcsList* reply) override {
    return read(call, "ListTcs", [reply](security_context& c) -> effect_result {
      fill(reply, c.pki.record.trust, c.now);
      return transaction_effect{};
    });
  }

  grpc::Status AddTcs(grpc::ServerContext* call, const pb::Blob* request,
                      pb::TcsList* reply) override {
    auto certificates = pki::load_certificates(request->data());
    if (!certificates)
      return to_status(from_pki(certificates.error(), "data"));
    auto added = *certificates;
    return write(call, "AddTcs", [this, added, reply](security_context& c) -> effect_result {
      std::string subjects;
      for (const auto& cert : added) {
        if (auto stored = c.pki.record.trust.add(cert); !stored)
          return std::unexpected(
              security_error{stored.error().code == pki::trust_store_errc::duplicate
                                 ? security_errc::already_exists
                                 : security_errc::failed_precondition,
                             "data", stored.error().detail});
        subjects += (subjects.empty() ? "" : "; ") + cert.subject();
      }
      if (auto reloaded = reload(c); !reloaded)
        return std::unexpected(reloaded.error());
      fill(reply, c.pki.record.trust, c.now);
      return transaction_effect{"tcs", "", subjects, "added"};
    });
  }

  grpc::Status RemoveTcs(grpc::ServerContext* call, const pb::FingerprintRequest* request,
                         pb::TcsList* reply) override {
    auto fingerprint = request->sha256_fingerprint();
    return write(
        call, "RemoveTcs", [this, fingerprint, reply](security_context& c) -> effect_result {
          if (!c.pki.record.trust.remove(fingerprint))
            return std::unexpected(security_error{security_errc::not_found, "sha256_fingerprint",
                                                  "no trusted certificate has that fingerprint"});
          if (auto reloaded = reload(c); !reloaded)
            return std::unexpected(reloaded.error());
          fill(reply, c.pki.record.trust, c.now);
          return transaction_effect{"tcs", fingerprint, "", "removed"};
        });
  }

  grpc::Status GetChecks(grpc::ServerContext* call, const pb::Empty*,
                         pb::CheckSettings* reply) override {
    return read(call, "GetChecks", [reply](security_context& c) -> effect_result {
      fill(reply, c.security.settings().certificates);
      return transaction_effect{};
    });
  }

  grpc::Status SetChecks(grpc::ServerContext* call, const pb::CheckSettings* request,
                         pb::CheckSettings* reply) override {
    auto management = pki::parse_check_level(request->management());
    auto telephony = pki::parse_check_level(request->telephony());
    if (!management)
      return to_status(
          invalid("management", "must be none, low, medium, high, medium_remote or high_remote"));
    if (!telephony)
      return to_status(
          invalid("telephony", "must be none, low, medium, high, medium_remote or high_remote"));
    return settings_write(
        call, "SetChecks",
        [management, telephony, reply](security::certificate_settings& s) {
          s.management_checks = *management;
          s.telephony_checks = *telephony;
        },
        [reply](const security::certificate_settings& s) { fill(reply, s); });
  }

  grpc::Status GetTls(grpc::ServerContext* call, const pb::Empty*,
                      pb::TlsSettings* reply) override {
    return read(call, "GetTls", [reply](security_context& c) -> effect_result {
      fill(reply, c.security.settings().certificates);
      return transaction_effect{};
    });
  }

  grpc::Status SetTls(grpc::ServerContext* call, const pb::TlsSettings* request,
                      pb::TlsSettings* reply) override {
    const auto& version = request->minimum_version();
    if (version != "1.2" && version != "1.3")
      return to_status(invalid("minimum_version", "must be 1.2 or 1.3"));
    auto wanted = *request;
    return settings_write(
        call, "SetTls",
        [wanted](security::certificate_settings& s) {
          s.minimum_tls = wanted.minimum_version() == "1.3" ? pki::tls_min_version::tls1_3
                                                            : pki::tls_min_version::tls1_2;
          s.offer_chain = wanted.offer_chain();
          s.renew_identity_automatically = wanted.renew_identity_automatically();
        },
        [reply](const security::certificate_settings& s) { fill(reply, s); });
  }

private:
  /// Makes `ca` the node's signing CA (Create New, import): a new key pair means identities
  /// issued by the old one must be issued again, and the listeners serve the new identity.
  security::security_result<void> replace_ca(security_context& c, pki::certificate_authority ca,
                                             pb::CaInfo* reply) const {
    c.pki.record.ca = std::move(ca);
    if (auto reissued = reissue_identity(c); !reissued)
      return reissued;
    if (auto reloaded = reload(c); !reloaded)
      return reloaded;
    fill(reply, *c.pki.record.ca, c.now);
    return {};
  }

  security::security_result<void> reload(security_context& c) const {
    auto reloaded = gw_->context().levels.reload(c.security.settings(), c.pki);
    if (!reloaded)
      return std::unexpected(security_error{security_errc::failed_precondition, "tls",
                                            "the listeners refused the new TLS material, the old "
                                            "one keeps serving: " +
                                                reloaded.error()});
    return {};
  }

  grpc::Status settings_write(grpc::ServerContext* call, std::string action,
                              std::function<void(security::certificate_settings&)> change,
                              std::function<void(const security::certificate_settings&)> answer) {
    return gw_->transact(
        call, transaction(action, security_service, right::security_write_all,
                          transaction_writes::security_settings,
                          [this, change, answer](security_context& c) -> effect_result {
                            auto settings = c.security.settings().certificates;
                            auto before = security::to_json(settings).dump();
                            change(settings);
                            if (auto set = c.security.set_certificate_settings(settings); !set)
                              return std::unexpected(set.error());
                            if (auto reloaded = reload(c); !reloaded)
                              return std::unexpected(reloaded.error());
                            answer(c.security.settings().certificates);
                            return transaction_effect{
                                "certificate_settings", before,
                                security::to_json(c.security.settings().certificates).dump(), ""};
                          }));
  }

  grpc::Status read(grpc::ServerContext* call, std::string action, actors::transaction_fn fn) {
    return gw_->transact(call,
                         transaction(std::move(action), security_service, right::security_read_all,
                                     transaction_writes::nothing, std::move(fn)));
  }

  grpc::Status write(grpc::ServerContext* call, std::string action, actors::transaction_fn fn) {
    return gw_->transact(call,
                         transaction(std::move(action), security_service, right::security_write_all,
                                     transaction_writes::pki, std::move(fn)));
  }

  std::shared_ptr<gateway> gw_;
};

// ---- Configuration --------------------------------------------------------------------

constexpr auto configuration_service = service_name::configuration;

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

class configuration_service_impl final : public pb::Configuration::Service {
public:
  explicit configuration_service_impl(std::shared_ptr<gateway> gw) : gw_(std::move(gw)) {}

  grpc::Status ListTelephonyUsers(grpc::ServerContext* call, const pb::Empty*,
                                  pb::TelephonyUserList* reply) override {
    return read(call, "ListTelephonyUsers", [reply](security_context& c) -> effect_result {
      for (const auto& [_, user] : c.directory.data().users)
        fill(reply->add_users(), user, c.now);
      return transaction_effect{};
    });
  }

  grpc::Status CreateTelephonyUser(grpc::ServerContext* call,
                                   const pb::TelephonyUserRequest* request,
                                   pb::TelephonyUser* reply) override {
    auto name = request->name();
    auto fields = fields_of(*request);
    return write(call, "CreateTelephonyUser",
                 [name, fields, reply](security_context& c) -> effect_result {
                   auto created = c.directory.create_user(name, fields, c.security.settings());
                   if (!created)
                     return std::unexpected(created.error());
                   fill(reply, c.directory.data().users.at(name), c.now);
                   return transaction_effect{"telephony_user/" + name, "",
                                             dump_or_empty(telephony_user_json(c, name)), ""};
                 });
  }

  grpc::Status UpdateTelephonyUser(grpc::ServerContext* call,
                                   const pb::TelephonyUserRequest* request,
                                   pb::TelephonyUser* reply) override {
    auto name = request->name();
    auto fields = fields_of(*request);
    return write(call, "UpdateTelephonyUser",
                 [name, fields, reply](security_context& c) -> effect_result {
                   auto before = dump_or_empty(telephony_user_json(c, name));
                   auto updated = c.directory.update_user(name, fields, c.security.settings());
                   if (!updated)
                     return std::unexpected(updated.error());
                   fill(reply, c.directory.data().users.at(name), c.now);
                   return transaction_effect{"telephony_user/" + name, before,
                                             dump_or_empty(telephony_user_json(c, name)), ""};
                 });
  }

  grpc::Status DeleteTelephonyUser(grpc::ServerContext* call, const pb::NameRequest* request,
                                   pb::Empty*) override {
    auto name = request->name();
    return write(call, "DeleteTelephonyUser", [name](security_context& c) -> effect_result {
      auto before = dump_or_empty(telephony_user_json(c, name));
      auto deleted = c.directory.delete_user(name);
      if (!deleted)
        return std::unexpected(deleted.error());
      return transaction_effect{"telephony_user/" + name, before, "", ""};
    });
  }

  grpc::Status UnlockTelephonyUser(grpc::ServerContext* call, const pb::NameRequest* request,
                                   pb::TelephonyUser* reply) override {
    auto name = request->name();
    return write(call, "UnlockTelephonyUser", [name, reply](security_context& c) -> effect_result {
      auto unlocked = c.directory.unlock_user(name);
      if (!unlocked)
        return std::unexpected(unlocked.error());
      fill(reply, c.directory.data().users.at(name), c.now);
      return transaction_effect{"telephony_user/" + name, "", "", "unlocked"};
    });
  }

  grpc::Status ListExtensions(grpc::ServerContext* call, const pb::Empty*,
                              pb::ExtensionList* reply) override {
    return read(call, "ListExtensions", [reply](security_context& c) -> effect_result {
      for (const auto& [_, record] : c.directory.data().extensions)
        fill(reply->add_extensions(), record);
      return transaction_effect{};
    });
  }

  grpc::Status CreateExtension(grpc::ServerContext* call, const pb::ExtensionRequest* request,
                               pb::Extension* reply) override {
    auto number = request->number();
    auto fields = extension_fields_of(*request);
    return write(
        call, "CreateExtension", [number, fields, reply](security_context& c) -> effect_result {
          if (!fields)
            return std::unexpected(fields.error());
          auto created = c.directory.create_extension(number, *fields, c.security.settings());
          if (!created)
            return std::unexpected(created.error());
          fill(reply, c.directory.data().extensions.at(number));
          return transaction_effect{"extension/" + number, "",
                                    dump_or_empty(extension_json(c, number)), ""};
        });
  }

  grpc::Status UpdateExtension(grpc::ServerContext* call, const pb::ExtensionRequest* request,
                               pb::Extension* reply) override {
    auto number = request->number();
    auto fields = extension_fields_of(*request);
    return write(
        call, "UpdateExtension", [number, fields, reply](security_context& c) -> effect_result {
          if (!fields)
            return std::unexpected(fields.error());
          auto before = dump_or_empty(extension_json(c, number));
          auto updated = c.directory.update_extension(number, *fields, c.security.settings());
          if (!updated)
            return std::unexpected(updated.error());
          fill(reply, c.directory.data().extensions.at(number));
          return transaction_effect{"extension/" + number, before,
                                    dump_or_empty(extension_json(c, number)),
                                    fields->phone_password ? "phone password changed" : ""};
        });
  }

  grpc::Status DeleteExtension(grpc::ServerContext* call, const pb::NameRequest* request,
                               pb::Empty*) override {
    auto number = request->name();
    return write(call, "DeleteExtension", [number](security_context& c) -> effect_result {
      auto before = dump_or_empty(extension_json(c, number));
      auto deleted = c.directory.delete_extension(number);
      if (!deleted)
        return std::unexpected(deleted.error());
      return transaction_effect{"extension/" + number, before, "", ""};
    });
  }

private:
  /// The fields a request sets; an unreadable media security level is refused inside the
  /// transaction, so that the refusal is audited like the directory's own.
  static security::security_result<telephony::extension_fields>
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
    return fields;
  }

  grpc::Status read(grpc::ServerContext* call, std::string action, actors::transaction_fn fn) {
    return gw_->transact(call, transaction(std::move(action), configuration_service,
                                           right::config_read_all, transaction_writes::nothing,
                                           std::move(fn)));
  }

  grpc::Status write(grpc::ServerContext* call, std::string action, actors::transaction_fn fn) {
    return gw_->transact(call, transaction(std::move(action), configuration_service,
                                           right::config_write_all, transaction_writes::directory,
                                           std::move(fn)));
  }

  std::shared_ptr<gateway> gw_;
};

} // namespace

/// SPEC TOP-2, MON-5: the membership view and the events forwarded to the primary.
class cluster_service_impl final : public pb::Cluster::Service {
public:
  cluster_service_impl(std::shared_ptr<gateway> gw, std::shared_ptr<cluster::cluster_view> view,
                       std::shared_ptr<cluster::event_store> events)
      : gw_(std::move(gw)), view_(std::move(view)), events_(std::move(events)) {}

  grpc::Status Status(grpc::ServerContext* call, const pb::Empty*,
                      pb::ClusterStatusReply* reply) override {
    auto view = view_;
    return gw_->transact(
        call,
        transaction("ClusterStatus", service_name::system_status, right::status_access,
                    transaction_writes::nothing, [view, reply](security_context&) -> effect_result {
                      auto snapshot = view->read();
                      reply->set_node(snapshot.node);
                      reply->set_role(snapshot.role);
                      reply->set_settings_version(snapshot.settings_version);
                      for (const auto& m : snapshot.members) {
                        auto* out = reply->add_members();
                        out->set_name(m.name);
                        out->set_role(m.role);
                        out->set_line_up(m.line_up);
                        out->set_enrolment_only(m.enrolment_only);
                        out->set_dialled(m.dialled);
                        out->set_line_security(m.line_security);
                        out->set_peer_subject(m.peer_subject);
                        out->set_peer_issuer(m.peer_issuer);
                        out->set_certificate_days_left(m.peer_days_left);
                        out->set_settings_version(m.settings_version);
                        out->set_settings_lag(snapshot.settings_version > m.settings_version
                                                  ? snapshot.settings_version - m.settings_version
                                                  : 0);
                        out->set_replication_ms(m.replication_ms);
                        out->set_audit_sequence(m.audit_sequence);
                        out->set_events_stored(m.events_stored);
                        out->set_since_unix(m.since_unix);
                        out->set_last_heartbeat_ms_ago(m.last_heartbeat_ms_ago);
                        out->set_last_error(m.last_error);
                      }
                      return transaction_effect{};
                    }));
  }

  grpc::Status Proxy(grpc::ServerContext* call, const pb::ProxyRequest* request,
                     pb::ProxyReply* reply) override {
    const auto& method = request->method();
    constexpr std::string_view prefix = "/ward.admin.v1.";
    if (request->node().empty())
      return to_status(invalid("node", "name the node the call is for"));
    // Node-scoped reads only: changes are made on the primary and replicated.
    std::optional<service_name> service;
    for (auto [name, target] :
         {std::pair{"Admin/Status", service_name::system_status},
          {"Cluster/Status", service_name::system_status},
          {"Security/ListServiceUsers", service_name::security_administration},
          {"Security/GetServiceUser", service_name::security_administration},
          {"Security/AuditQuery", service_name::security_administration},
          {"Security/AuditVerify", service_name::security_administration},
          {"Pki/GetIdentity", service_name::security_administration},
          {"Telephony/Registrations", service_name::system_status},
          {"Telephony/Blacklist", service_name::system_status},
          {"Telephony/Calls", service_name::system_status},
          {"Pki/ListTcs", service_name::security_administration}})
      if (method == std::string(prefix) + name)
        service = target;
    if (!service)
      return to_status(invalid("method", "'" + method +
                                             "' cannot be proxied: only node-scoped reads are; "
                                             "changes are made on the primary"));
    // The caller must hold a session here; the node decides about rights itself.
    std::string user;
    auto authorized =
        transaction("Proxy", service, std::nullopt, transaction_writes::nothing,
                    [&user, node = request->node(), method](security_context& c) -> effect_result {
                      user = c.principal->user;
                      transaction_effect effect;
                      effect.object = "node/" + node;
                      effect.detail = "proxied " + method;
                      return effect;
                    });
    authorized.audited = true;
    if (auto status = gw_->transact(call, std::move(authorized)); !status.ok())
      return status;
    auto origin = gw_->origin(call);
    cluster::proxy_outcome outcome{14, "the cluster actor did not answer", {}};
    {
      caf::scoped_actor self{gw_->context().system};
      self->request(gw_->context().cluster_hub, std::chrono::seconds(30),
                    cluster::proxy_request{request->node(),
                                           {user, origin.source, method, request->payload(),
                                            origin.tls, origin.client_certificate}})
          .receive([&](cluster::proxy_outcome& answer) { outcome = std::move(answer); },
                   [&](const caf::error&) {});
    }
    reply->set_code(outcome.code);
    reply->set_message(outcome.message);
    reply->set_payload(outcome.payload);
    return grpc::Status::OK;
  }

  grpc::Status Events(grpc::ServerContext* call, const pb::ClusterEventsRequest* request,
                      pb::AuditRecordList* reply) override {
    if (!events_)
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "forwarded events are kept on the primary; ask the primary"};
    if (request->node().empty())
      return to_status(invalid("node", "name the node whose events to list"));
    auto limit = request->limit() == 0 ? 100u : request->limit();
    if (limit > security::max_audit_query_limit)
      return to_status(invalid("limit", "must be at most 10000"));
    auto events = events_;
    auto node = request->node();
    auto after = request->after_sequence();
    return gw_->transact(
        call, transaction("ClusterEvents", security_service, right::security_read_all,
                          transaction_writes::nothing,
                          [events, node, after, limit, reply](security_context&) -> effect_result {
                            auto records = events->list(node, after, limit);
                            if (!records)
                              return std::unexpected(security_error{security_errc::storage_failure,
                                                                    "events", records.error()});
                            for (const auto& record : *records)
                              fill(reply->add_records(), record);
                            return transaction_effect{};
                          }));
  }

private:
  std::shared_ptr<gateway> gw_;
  std::shared_ptr<cluster::cluster_view> view_;
  std::shared_ptr<cluster::event_store> events_;
};

/// SPEC SIP-2, SIP-4, MON-5: the registrar's bindings and blacklists on this node; SPEC
/// SIP-1, SIP-3..SIP-5: the cluster's SIP policy, kept with the extensions.
class telephony_service_impl final : public pb::Telephony::Service {
public:
  /// `sip` is null on a node that runs no SIP service: then only the SIP policy is served.
  telephony_service_impl(std::shared_ptr<gateway> gw, std::shared_ptr<sip_service> sip)
      : gw_(std::move(gw)), sip_(std::move(sip)) {}

  grpc::Status Registrations(grpc::ServerContext* call, const pb::Empty*,
                             pb::RegistrationList* reply) override {
    if (!sip_)
      return no_sip_service();
    auto sip = sip_;
    return gw_->transact(
        call, transaction("Registrations", service_name::system_status, right::status_access,
                          transaction_writes::nothing,
                          [sip, reply](security_context& c) -> effect_result {
                            for (const auto& binding : sip->bindings()) {
                              auto* out = reply->add_registrations();
                              out->set_extension(binding.extension);
                              out->set_contact(binding.contact);
                              out->set_source(binding.source);
                              out->set_transport(std::string(telephony::to_string(binding.kind)));
                              out->set_expires_in(std::chrono::duration_cast<std::chrono::seconds>(
                                                      binding.expires_at - c.now)
                                                      .count());
                              out->set_user_agent(binding.user_agent);
                            }
                            return transaction_effect{};
                          }));
  }

  grpc::Status Calls(grpc::ServerContext* call, const pb::Empty*, pb::CallList* reply) override {
    if (!sip_)
      return no_sip_service();
    auto sip = sip_;
    return gw_->transact(
        call, transaction(
                  "Calls", service_name::system_status, right::status_access,
                  transaction_writes::nothing, [sip, reply](security_context&) -> effect_result {
                    auto unix_ms = [](std::chrono::system_clock::time_point at) {
                      return at == std::chrono::system_clock::time_point{}
                                 ? std::int64_t{0}
                                 : std::chrono::duration_cast<std::chrono::milliseconds>(
                                       at.time_since_epoch())
                                       .count();
                    };
                    for (const auto& view : sip->calls()) {
                      auto* out = reply->add_calls();
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
                      out->set_started_unix_ms(unix_ms(view.started));
                      out->set_answered_unix_ms(unix_ms(view.answered));
                    }
                    auto [units, capacity] = sip->media_capacity();
                    reply->set_media_units(static_cast<std::uint32_t>(units));
                    reply->set_media_capacity(static_cast<std::uint32_t>(capacity));
                    if (auto relay = sip->relay()) {
                      auto stats = relay->stats();
                      reply->set_relay_sessions(static_cast<std::uint32_t>(stats.active_sessions));
                      reply->set_relay_capacity(static_cast<std::uint32_t>(stats.max_sessions));
                    }
                    return transaction_effect{};
                  }));
  }

  grpc::Status Blacklist(grpc::ServerContext* call, const pb::Empty*,
                         pb::BlacklistReply* reply) override {
    if (!sip_)
      return no_sip_service();
    auto sip = sip_;
    return gw_->transact(
        call,
        transaction("Blacklist", service_name::system_status, right::status_access,
                    transaction_writes::nothing, [sip, reply](security_context&) -> effect_result {
                      auto lists = sip->blacklists();
                      auto fill_entry = [](pb::BlacklistEntry* out,
                                           const telephony::sip_guard::blacklist_entry& e) {
                        out->set_key(e.key);
                        out->set_permanent(e.permanent);
                        out->set_until_unix(std::chrono::duration_cast<std::chrono::seconds>(
                                                e.until.time_since_epoch())
                                                .count());
                        out->set_blocks(e.blocks);
                      };
                      for (const auto& entry : lists.addresses)
                        fill_entry(reply->add_addresses(), entry);
                      for (const auto& entry : lists.extensions)
                        fill_entry(reply->add_extensions(), entry);
                      return transaction_effect{};
                    }));
  }

  grpc::Status ResetBlacklist(grpc::ServerContext* call, const pb::ResetBlacklistRequest* request,
                              pb::Empty*) override {
    if (request->kind() != "address" && request->kind() != "extension")
      return to_status(invalid("kind", "must be address or extension"));
    if (request->key().empty() || request->key().size() > 64)
      return to_status(invalid("key", "must be 1 to 64 characters"));
    if (!sip_)
      return no_sip_service();
    auto sip = sip_;
    bool address = request->kind() == "address";
    auto key = request->key();
    auto reset = transaction("ResetBlacklist", service_name::system_status,
                             right::status_system_control, transaction_writes::nothing,
                             [sip, address, key](security_context&) -> effect_result {
                               auto lifted = sip->reset_blacklist(address, key);
                               if (!lifted)
                                 return std::unexpected(security_error{security_errc::unavailable,
                                                                       "sip", lifted.error()});
                               if (!*lifted)
                                 return std::unexpected(security_error{
                                     security_errc::not_found, "key", key + " is not blacklisted"});
                               transaction_effect effect;
                               effect.object = (address ? "address/" : "extension/") + key;
                               effect.detail = "blacklisting lifted";
                               return effect;
                             });
    reset.audited = true;
    return gw_->transact(call, std::move(reset));
  }

  // The SIP policy is configuration like the extensions: the same service, rights and
  // path (persisted in the directory, published to the registrar, replicated, and refused
  // on replicas).
  grpc::Status GetSipSettings(grpc::ServerContext* call, const pb::Empty*,
                              pb::SipSettings* reply) override {
    return gw_->transact(call, transaction("GetSipSettings", configuration_service,
                                           right::config_read_all, transaction_writes::nothing,
                                           [reply](security_context& c) -> effect_result {
                                             fill(reply, telephony::effective_sip_policy(
                                                             c.directory.data().policy, c.now));
                                             return transaction_effect{};
                                           }));
  }

  grpc::Status SetSipSettings(grpc::ServerContext* call, const pb::SipSettings* request,
                              pb::SipSettings* reply) override {
    return gw_->transact(
        call, transaction(
                  "SetSipSettings", configuration_service, right::config_write_all,
                  transaction_writes::directory,
                  [wanted = *request, reply](security_context& c) -> effect_result {
                    const auto& current = c.directory.data().policy;
                    auto before = telephony::encode_sip_policy(current);
                    // A lapsed auto-create stays off unless the call asks for it.
                    auto policy = merged(wanted, telephony::effective_sip_policy(current, c.now));
                    if (!policy)
                      return std::unexpected(policy.error());
                    if (auto set = c.directory.set_sip_policy(std::move(*policy), c.now); !set)
                      return std::unexpected(set.error());
                    fill(reply, telephony::effective_sip_policy(c.directory.data().policy, c.now));
                    return transaction_effect{
                        "sip_policy", before,
                        telephony::encode_sip_policy(c.directory.data().policy), ""};
                  }));
  }

private:
  static grpc::Status no_sip_service() {
    return {grpc::StatusCode::UNAVAILABLE, "this node runs no SIP service"};
  }

  std::shared_ptr<gateway> gw_;
  std::shared_ptr<sip_service> sip_;
};

std::vector<std::unique_ptr<grpc::Service>> make_admin_api(admin_api_context context) {
  auto sip = context.sip;
  auto cluster_view = context.cluster;
  auto cluster_events = context.events;
  auto audit = context.audit;
  auto store = context.security_store;
  auto gw = std::make_shared<gateway>(std::move(context));
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<session_service>(gw));
  auto security = std::make_unique<security_service_impl>(gw);
  security->set_audit(std::move(audit), std::move(store));
  services.push_back(std::move(security));
  services.push_back(std::make_unique<configuration_service_impl>(gw));
  services.push_back(std::make_unique<pki_service_impl>(gw));
  services.push_back(std::make_unique<telephony_service_impl>(gw, std::move(sip)));
  if (cluster_view)
    services.push_back(std::make_unique<cluster_service_impl>(gw, std::move(cluster_view),
                                                              std::move(cluster_events)));
  return services;
}

} // namespace ward::node
