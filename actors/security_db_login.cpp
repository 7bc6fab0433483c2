#include "actors/security_db_state.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

namespace ward::actors::security_db {
namespace {

constexpr std::size_t source_sweep_threshold = 4096;

/// The address part of "127.0.0.1:5555" or "[::1]:5555".
std::string address_of(const std::string& source) {
  if (source.starts_with("["))
    return source.substr(0, source.find(']') + 1);
  auto colon = source.rfind(':');
  return colon == std::string::npos ? source : source.substr(0, colon);
}

security::lockout_rule source_rule(const security::security_settings& settings) {
  auto rule = settings.service_policy.source_lockout;
  // An address cannot be "disabled until an administrator unlocks it".
  if (rule.action == security::reject_action::log_and_disable_account)
    rule.action = security::reject_action::log_and_temporary_disable;
  return rule;
}

void audit_login(self_pointer self, const login_request& request, audit_outcome outcome,
                 const std::string& reason, security::lockout_event lock_event,
                 std::string action = "Login") {
  audit(self, record_of(audit_kind::login, outcome, request.name, request.origin, std::move(action),
                        "service_user/" + request.name, reason));
  if (outcome == audit_outcome::failure)
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, request.name, request.origin,
                          "login_failure", "service_user/" + request.name, reason));
  if (lock_event != security::lockout_event::none)
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, request.name, request.origin,
                          "account_locked", "service_user/" + request.name,
                          lock_event == security::lockout_event::locked_permanently
                              ? "locked until an administrator unlocks it"
                              : "locked temporarily"));
}

/// Counts a failed login against its source address, or clears the address's history on
/// success; a new block raises an alarm.
void count_source(self_pointer self, const login_request& request, bool failed,
                  clock::time_point now) {
  auto& sources = self->state.sources;
  auto source = address_of(request.origin.source);
  if (!failed) {
    if (auto it = sources.find(source); it != sources.end())
      security::record_success(it->second);
    return;
  }
  if (sources.size() >= source_sweep_threshold)
    std::erase_if(sources, [now](const auto& entry) {
      return !security::is_locked(entry.second, now) && entry.second.recent_failures.empty();
    });
  auto event = security::record_failure(sources[source],
                                        source_rule(self->state.deps->database.settings()), now);
  if (event != security::lockout_event::none)
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, request.name, request.origin,
                          "source_blocked", "source/" + source,
                          "address blocked after repeated failed logins"));
}

security_error login_refusal(security::login_outcome outcome) {
  switch (outcome) {
    case security::login_outcome::locked:
      return {security_errc::unauthenticated, "name", "account locked"};
    case security::login_outcome::disabled:
      return {security_errc::unauthenticated, "name", "account disabled"};
    case security::login_outcome::expired:
      return {security_errc::unauthenticated, "name", "account expired"};
    default:
      // Wrong password and unknown name read the same: no hint which accounts exist.
      return {security_errc::unauthenticated, "name", "login failed"};
  }
}

/// A new session for `name`, whose password was just proven (here or by the security
/// database a login was referred to).
login_grant open_session(self_pointer self, const std::string& name,
                         std::uint64_t credential_version, bool must_change_password,
                         std::optional<std::int64_t> password_expires_in_days,
                         clock::time_point now) {
  auto& deps = *self->state.deps;
  login_grant grant;
  grant.token = self->state.sessions->open(name, credential_version);
  grant.expires_in = session_lifetime;
  grant.must_change_password = must_change_password;
  grant.password_expires_in_days = password_expires_in_days;
  grant.ignition_pending = deps.database.ignition_pending();
  grant.identity_days_left = deps.pki.identity.days_until_expiry(now);
  if (auto principal = deps.database.principal(name, credential_version, now))
    grant.rights = principal->rights;
  return grant;
}

/// Refuses a login from an address blocked after repeated failures (SPEC POL-7), with its
/// audit record; false when the address may try.
bool refused_for_source(self_pointer self, const login_request& request,
                        caf::typed_response_promise<login_reply>& promise, clock::time_point now) {
  auto source = address_of(request.origin.source);
  auto it = self->state.sources.find(source);
  if (it == self->state.sources.end() || !security::is_locked(it->second, now))
    return false;
  audit_login(self, request, audit_outcome::failure,
              "source address " + source + " is blocked after repeated failures",
              security::lockout_event::none);
  promise.deliver(login_reply{security_error{security_errc::unauthenticated, "source",
                                             "too many failed logins from this address; try later"},
                              {}});
  return true;
}

/// Checks a login against this node's copy of the security settings.
void local_login(self_pointer self, login_request request,
                 caf::typed_response_promise<login_reply> promise) {
  auto& deps = *self->state.deps;
  auto now = deps.time->now();
  if (refused_for_source(self, request, promise, now))
    return;
  // Every attempt pays for the hash, whatever the account's state: neither the answer
  // nor its timing tells an unauthenticated caller which accounts exist or are locked.
  auto material = deps.database.login_material_for(request.name, now);
  self->request(self->state.hashers, caf::infinite, verify_atom::value, material.password_hash,
                request.password)
      .then([self, promise, request, material](bool matched) mutable {
        auto& deps = *self->state.deps;
        auto now = deps.time->now();
        // Attempts in flight when the address got blocked are refused too.
        if (refused_for_source(self, request, promise, now))
          return;
        if (!material.known_user) {
          count_source(self, request, true, now);
          audit_login(self, request, audit_outcome::failure, "unknown service user",
                      security::lockout_event::none);
          promise.deliver(login_reply{login_refusal(security::login_outcome::bad_credentials), {}});
          return;
        }
        auto result =
            deps.database.complete_login(request.name, matched, material.credential_version, now);
        if (auto failed = persist(self, transaction_writes::security_settings)) {
          promise.deliver(login_reply{failed, {}});
          return;
        }
        using enum security::login_outcome;
        count_source(self, request,
                     result.outcome != success && result.outcome != must_change_password, now);
        if (result.outcome != success && result.outcome != must_change_password) {
          audit_login(self, request, audit_outcome::failure,
                      std::string(security::to_string(result.outcome)), result.lock_event);
          // The account's state is told only to a caller who knew its password.
          promise.deliver(login_reply{
              login_refusal(matched ? result.outcome : security::login_outcome::bad_credentials),
              {}});
          return;
        }
        auto grant = open_session(self, request.name, result.credential_version,
                                  result.outcome == must_change_password,
                                  result.password_expires_in_days, now);
        audit_login(self, request, audit_outcome::success,
                    grant.must_change_password ? "password change required" : "",
                    security::lockout_event::none);
        promise.deliver(login_reply{std::nullopt, std::move(grant)});
      });
}

} // namespace

caf::result<login_reply> login(self_pointer self, login_request request) {
  auto promise = self->make_response_promise<login_reply>();
  auto& deps = *self->state.deps;
  if (!deps.refer_logins || !self->state.line_actor) {
    local_login(self, std::move(request), promise);
    return promise;
  }
  // SPEC SEC-10: the security database decides, over the line; the local copy only
  // serves the fallback account while no line reaches it.
  auto fallback = [self, promise, request]() mutable {
    auto& deps = *self->state.deps;
    if (!deps.fallback_account.empty() && request.name == deps.fallback_account) {
      local_login(self, std::move(request), promise);
      return;
    }
    audit_login(self, request, audit_outcome::failure,
                "security database unreachable; not the fallback account",
                security::lockout_event::none, "ReferredLogin");
    promise.deliver(
        login_reply{security_error{security_errc::unavailable, "cluster",
                                   "the security database cannot be reached over the line; only "
                                   "the fallback account may log in now"},
                    {}});
  };
  self->request(self->state.line_actor, std::chrono::seconds(10),
                refer_login{request.name, request.password, request.origin.source,
                            service_text(request.origin)})
      .then(
          [self, promise, request, fallback](const referral_result& result) mutable {
            if (!result.reached) {
              fallback();
              return;
            }
            auto& deps = *self->state.deps;
            auto now = deps.time->now();
            if (!result.accepted) {
              audit_login(self, request, audit_outcome::failure,
                          "refused by the security database: " + result.message,
                          security::lockout_event::none, "ReferredLogin");
              promise.deliver(login_reply{
                  security_error{security_errc::unauthenticated, "name", result.message}, {}});
              return;
            }
            auto material = deps.database.login_material_for(request.name, now);
            if (!material.known_user) {
              promise.deliver(
                  login_reply{security_error{security_errc::unavailable, "cluster",
                                             "the account is not yet replicated to this node"},
                              {}});
              return;
            }
            auto grant = open_session(self, request.name, material.credential_version,
                                      result.must_change_password, std::nullopt, now);
            audit_login(self, request, audit_outcome::success, "referred to the security database",
                        security::lockout_event::none, "ReferredLogin");
            promise.deliver(login_reply{std::nullopt, std::move(grant)});
          },
          [fallback](const caf::error&) mutable { fallback(); });
  return promise;
}

transaction_reply logout(self_pointer self, const logout_request& request) {
  if (auto ended = self->state.sessions->close(request.token))
    audit(self, record_of(audit_kind::logout, audit_outcome::success, ended->user, request.origin,
                          "Logout", "", ""));
  return transaction_reply{};
}

caf::result<user_login_reply> user_login(self_pointer self, const user_login_request& request) {
  auto& deps = *self->state.deps;
  auto now = deps.time->now();
  auto principal = self->state.sessions->resolve(request.token, deps.database);
  if (!principal)
    return user_login_reply{principal.error(), false, false};
  security_transaction probe;
  probe.origin = request.origin;
  probe.action = "UserLogin";
  probe.required = security::right::auth_module_admin;
  if (auto denied = authorize(probe, *principal, deps.database)) {
    audit(self, record_of(audit_kind::access_denied, audit_outcome::failure, principal->user,
                          request.origin, "UserLogin", "", denied->message));
    return user_login_reply{denied, false, false};
  }
  auto object = "telephony_user/" + request.name;
  if (deps.directory.is_locked(request.name, now)) {
    audit(self, record_of(audit_kind::login, audit_outcome::failure, request.name, request.origin,
                          "UserLogin", object, "account locked"));
    return user_login_reply{std::nullopt, false, true};
  }
  auto hash = deps.directory.password_hash_for(request.name);
  auto promise = self->make_response_promise<user_login_reply>();
  self->request(self->state.hashers, caf::infinite, verify_atom::value,
                hash.empty() ? deps.database.login_material_for("", now).password_hash : hash,
                request.password)
      .then([self, promise, request, object, hash](bool matched) mutable {
        auto& deps = *self->state.deps;
        auto now = deps.time->now();
        // A password changed while this one was being checked proves nothing.
        bool current = deps.directory.password_hash_for(request.name) == hash;
        auto result = deps.directory.complete_login(
            request.name, matched && current && !hash.empty(), deps.database.settings(), now);
        if (auto failed = persist(self, transaction_writes::directory)) {
          promise.deliver(user_login_reply{failed, false, false});
          return;
        }
        bool accepted = result.outcome == telephony::user_login_outcome::success;
        audit(self,
              record_of(audit_kind::login,
                        accepted ? audit_outcome::success : audit_outcome::failure, request.name,
                        request.origin, "UserLogin", object, accepted ? "" : "bad credentials"));
        if (result.lock_event != security::lockout_event::none)
          audit(self, record_of(audit_kind::alarm, audit_outcome::failure, request.name,
                                request.origin, "account_locked", object,
                                "telephony user locked until an administrator unlocks it"));
        promise.deliver(user_login_reply{std::nullopt, accepted,
                                         result.outcome == telephony::user_login_outcome::locked});
      });
  return promise;
}

void count_remote_login(self_pointer self, const login_report& report) {
  auto& deps = *self->state.deps;
  if (!deps.settings_writer)
    return;
  auto now = deps.time->now();
  // Counted when it happened (never in the future), so a failure forwarded late after an
  // outage falls out of the lockout window as it would have on the primary itself.
  auto at = report.time == clock::time_point{} ? now : std::min(report.time, now);
  auto material = deps.database.login_material_for(report.name, now);
  if (!material.known_user)
    return;
  auto result =
      deps.database.complete_login(report.name, report.success, material.credential_version, at);
  if (persist(self, transaction_writes::security_settings))
    return;
  if (result.lock_event != security::lockout_event::none)
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, report.name,
                          request_origin{report.node + "/" + report.source, std::nullopt},
                          "account_locked", "service_user/" + report.name,
                          "locked after failed logins on node " + report.node));
}

} // namespace ward::actors::security_db
