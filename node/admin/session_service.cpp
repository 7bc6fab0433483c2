#include "node/admin/convert.hpp"
#include "node/admin/services.hpp"

#include "admin.grpc.pb.h"

namespace ward::node::admin_api {
namespace {

/// ChangePassword: offered on every service, before ignition too (SPEC SEC-6); it needs
/// the own-password right (SPEC SEC-4) unless the account must change its password first.
constexpr rpc_rule own_password{std::nullopt,
                                security::right::security_write_own_password,
                                actors::transaction_writes::security_settings,
                                false,
                                true,
                                true};

/// SetSystemPassword: a security write, before ignition too (SPEC SEC-6).
constexpr rpc_rule system_password{security_write.service, security_write.required,
                                   security_write.writes, false, true};

class session_service final : public gateway_service<pb::Session::Service> {
public:
  using gateway_service::gateway_service;

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
    return gw_->handle(
        call, "ChangePassword", own_password,
        [old_password, new_password](security_context& c) -> effect_result {
          const auto& name = c.principal->user;
          auto changed = c.security.change_own_password(name, old_password, new_password, c.now);
          if (!changed)
            return std::unexpected(changed.error());
          return transaction_effect{"service_user/" + name, "", "", "own password changed",
                                    security::audit_kind::password_change};
        });
  }

  grpc::Status SetSystemPassword(grpc::ServerContext* call,
                                 const pb::SetSystemPasswordRequest* request, pb::Empty*) override {
    auto new_password = request->new_password();
    return gw_->handle(call, "SetSystemPassword", system_password,
                       [new_password](security_context& c) -> effect_result {
                         auto changed = c.security.set_system_password(new_password, c.now);
                         if (!changed)
                           return std::unexpected(changed.error());
                         return transaction_effect{"system_password", "", "", "changed",
                                                   security::audit_kind::password_change};
                       });
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
};

} // namespace

std::unique_ptr<grpc::Service> make_session_service(std::shared_ptr<gateway> gw) {
  return std::make_unique<session_service>(std::move(gw));
}

} // namespace ward::node::admin_api
