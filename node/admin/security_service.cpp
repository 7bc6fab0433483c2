#include "node/admin/convert.hpp"
#include "node/admin/services.hpp"

#include "admin.grpc.pb.h"
#include "security/settings_codec.hpp"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace ward::node::admin_api {
namespace {

/// SecurityReset: a security write of the settings and of the TCS.
constexpr rpc_rule security_reset{security_write.service, right::security_reset_all,
                                  actors::transaction_writes::security_settings |
                                      actors::transaction_writes::pki};

/// Every service's level, with the ports of the services Ward serves.
void fill_levels(pb::ServiceLevelList* out, const security::security_settings& settings,
                 const service_level_control& levels) {
  for (auto service : security::all_service_names) {
    auto* entry = out->add_levels();
    entry->set_service(std::string(security::to_string(service)));
    entry->set_level(std::string(pki::to_string(settings.service_levels.at(service))));
    if (auto ports = levels.ports(service)) {
      entry->set_served(true);
      entry->set_plain_port(ports->first);
      entry->set_tls_port(ports->second);
    }
  }
}

/// The trail's JSON of service user `name`, for audited_change().
auto user_snapshot(std::string name) {
  return [name](security_context& c) { return user_json(c.security.settings(), name, c.now); };
}

/// Fills `reply` with service user `name` as stored.
auto user_answer(std::string name, pb::ServiceUser* reply) {
  return [name, reply](security_context& c) {
    const auto& settings = c.security.settings();
    fill(reply, settings.users.at(name), settings, c.now);
  };
}

/// The trail's JSON of rights group `name`, for audited_change().
auto group_snapshot(std::string name) {
  return [name](security_context& c) { return group_json(c.security.settings(), name); };
}

/// Fills `reply` with rights group `name` as stored.
auto group_answer(std::string name, pb::RightsGroup* reply) {
  return [name, reply](security_context& c) { fill(reply, c.security.settings().groups.at(name)); };
}

/// Stores the policy part `in` merged into `current` through `store`, one of the database's
/// policy setters.
template <class Part, class Policy>
security::security_result<void>
store_merged(security_context& c, const Part& in, const Policy& current,
             security::security_result<void> (security::security_database::*store)(const Policy&)) {
  auto policy = merged(in, current);
  if (!policy)
    return std::unexpected(policy.error());
  return (c.security.*store)(*policy);
}

/// Applies the parts of `wanted` it has, each part as one change of the database.
security::security_result<void> apply_policy(security_context& c, const pb::Policy& wanted) {
  if (wanted.has_service_user()) {
    auto set = store_merged(c, wanted.service_user(), c.security.settings().service_policy,
                            &security::security_database::set_service_user_policy);
    if (!set)
      return set;
  }
  if (wanted.has_telephony_user()) {
    auto set = store_merged(c, wanted.telephony_user(), c.security.settings().telephony_policy,
                            &security::security_database::set_telephony_user_policy);
    if (!set)
      return set;
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
  return {};
}

/// A chain that verifies can still be one cut short or rewritten whole: compares its end
/// with the anchor sealed under the node key and marks `reply` broken when they differ.
void check_anchor(const security::audit_log& audit, const security::sealed_store& store,
                  const security::verify_result& verified, pb::AuditVerifyReply* reply) {
  auto anchor = store.get(actors::audit_anchor_record);
  if (!anchor || !*anchor)
    return;
  std::istringstream fields(**anchor);
  std::uint64_t sequence = 0;
  std::string hash;
  fields >> sequence >> hash;
  std::string last_hash;
  if (sequence > 0) {
    security::audit_filter filter;
    filter.after_sequence = sequence - 1;
    filter.limit = 1;
    if (auto last = audit.query(filter); last && !last->empty())
      last_hash = last->front().hash;
  }
  if (verified.records < sequence || last_hash != hash) {
    reply->set_intact(false);
    reply->set_first_bad_sequence(std::min<std::uint64_t>(verified.records + 1, sequence));
    reply->set_problem("the trail does not reach the sealed anchor (record " +
                       std::to_string(sequence) +
                       "): records were removed from its end or it was rewritten");
  }
}

class security_service final : public gateway_service<pb::Security::Service> {
public:
  security_service(std::shared_ptr<gateway> gw, std::shared_ptr<security::audit_log> audit,
                   std::shared_ptr<security::sealed_store> store)
      : gateway_service(std::move(gw)), audit_(std::move(audit)), store_(std::move(store)) {}

  grpc::Status ListServiceUsers(grpc::ServerContext* call, const pb::Empty*,
                                pb::ServiceUserList* reply) override {
    return gw_->read(call, "ListServiceUsers", security_read, [reply](security_context& c) {
      for (const auto& [_, user] : c.security.settings().users)
        fill(reply->add_users(), user, c.security.settings(), c.now);
    });
  }

  grpc::Status GetServiceUser(grpc::ServerContext* call, const pb::NameRequest* request,
                              pb::ServiceUser* reply) override {
    return gw_->read(
        call, "GetServiceUser", security_read,
        [name = request->name(), reply](security_context& c) -> security::security_result<void> {
          const auto& settings = c.security.settings();
          auto user = find_named(settings.users, name, "service user");
          if (!user)
            return std::unexpected(user.error());
          fill(reply, **user, settings, c.now);
          return {};
        });
  }

  grpc::Status CreateServiceUser(grpc::ServerContext* call,
                                 const pb::CreateServiceUserRequest* request,
                                 pb::ServiceUser* reply) override {
    auto user = parse_new_user(*request);
    if (!user)
      return to_status(user.error());
    return gw_->handle(
        call, "CreateServiceUser", security_write,
        audited_change(
            "service_user/" + user->name, user_snapshot(user->name),
            [user = *user](security_context& c) { return c.security.create_user(user, c.now); },
            user_answer(user->name, reply)));
  }

  grpc::Status UpdateServiceUser(grpc::ServerContext* call,
                                 const pb::UpdateServiceUserRequest* request,
                                 pb::ServiceUser* reply) override {
    auto update = parse_user_update(*request);
    if (!update)
      return to_status(update.error());
    auto name = request->name();
    bool reset = update->password.has_value();
    return gw_->handle(
        call, "UpdateServiceUser", security_write,
        audited_change(
            "service_user/" + name, user_snapshot(name),
            [name, update = *update](security_context& c) {
              return c.security.update_user(name, update, c.now);
            },
            user_answer(name, reply), reset ? "password reset by administrator" : "",
            reset ? security::audit_kind::password_change : security::audit_kind::change));
  }

  grpc::Status DeleteServiceUser(grpc::ServerContext* call, const pb::NameRequest* request,
                                 pb::Empty*) override {
    return gw_->handle(call, "DeleteServiceUser", security_write,
                       audited_deletion("service_user", request->name(), user_snapshot,
                                        &security::security_database::delete_user));
  }

  grpc::Status UnlockServiceUser(grpc::ServerContext* call, const pb::NameRequest* request,
                                 pb::ServiceUser* reply) override {
    auto name = request->name();
    return gw_->handle(call, "UnlockServiceUser", security_write,
                       audited_change(
                           "service_user/" + name, user_snapshot(name),
                           [name](security_context& c) { return c.security.unlock_user(name); },
                           user_answer(name, reply), "unlocked"));
  }

  grpc::Status ListRights(grpc::ServerContext* call, const pb::Empty*,
                          pb::RightList* reply) override {
    return gw_->read(call, "ListRights", security_read, [reply](security_context&) {
      for (const auto& row : security::all_rights()) {
        auto* out = reply->add_rights();
        out->set_name(std::string(row.name));
        out->set_rights_set(std::string(security::to_string(row.set)));
        out->set_category(row.category == security::right_category::service ? "service"
                                                                            : "operator_profile");
      }
    });
  }

  grpc::Status ListRightsGroups(grpc::ServerContext* call, const pb::Empty*,
                                pb::RightsGroupList* reply) override {
    return gw_->read(call, "ListRightsGroups", security_read, [reply](security_context& c) {
      for (const auto& [_, group] : c.security.settings().groups)
        fill(reply->add_groups(), group);
    });
  }

  grpc::Status GetRightsGroup(grpc::ServerContext* call, const pb::NameRequest* request,
                              pb::RightsGroup* reply) override {
    return gw_->read(
        call, "GetRightsGroup", security_read,
        [name = request->name(), reply](security_context& c) -> security::security_result<void> {
          auto group = find_named(c.security.settings().groups, name, "rights group");
          if (!group)
            return std::unexpected(group.error());
          fill(reply, **group);
          return {};
        });
  }

  grpc::Status CreateRightsGroup(grpc::ServerContext* call, const pb::RightsGroup* request,
                                 pb::RightsGroup* reply) override {
    auto rights = parse_rights(*request);
    if (!rights)
      return to_status(rights.error());
    security::rights_group group{request->name(), *rights, false};
    return gw_->handle(call, "CreateRightsGroup", security_write,
                       audited_change(
                           "rights_group/" + group.name, group_snapshot(group.name),
                           [group](security_context& c) { return c.security.create_group(group); },
                           group_answer(group.name, reply)));
  }

  grpc::Status UpdateRightsGroup(grpc::ServerContext* call, const pb::RightsGroup* request,
                                 pb::RightsGroup* reply) override {
    auto rights = parse_rights(*request);
    if (!rights)
      return to_status(rights.error());
    auto name = request->name();
    return gw_->handle(call, "UpdateRightsGroup", security_write,
                       audited_change(
                           "rights_group/" + name, group_snapshot(name),
                           [name, rights = *rights](security_context& c) {
                             return c.security.update_group(name, rights);
                           },
                           group_answer(name, reply)));
  }

  grpc::Status DeleteRightsGroup(grpc::ServerContext* call, const pb::NameRequest* request,
                                 pb::Empty*) override {
    return gw_->handle(call, "DeleteRightsGroup", security_write,
                       audited_deletion("rights_group", request->name(), group_snapshot,
                                        &security::security_database::delete_group));
  }

  grpc::Status GetPolicy(grpc::ServerContext* call, const pb::Empty*, pb::Policy* reply) override {
    return gw_->read(call, "GetPolicy", security_read,
                     [reply](security_context& c) { fill(reply, c.security.settings()); });
  }

  grpc::Status SetPolicy(grpc::ServerContext* call, const pb::Policy* request,
                         pb::Policy* reply) override {
    return gw_->handle(call, "SetPolicy", security_write,
                       [wanted = *request, reply](security_context& c) -> effect_result {
                         pb::Policy before;
                         fill(&before, c.security.settings());
                         if (auto applied = apply_policy(c, wanted); !applied)
                           return std::unexpected(applied.error());
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
    return gw_->read(call, "GetServiceLevels", security_read, [reply, levels](security_context& c) {
      fill_levels(reply, c.security.settings(), *levels);
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
    return gw_->handle(
        call, "SetServiceLevel", security_write,
        [service = *service, level = *level, reply, levels](security_context& c) -> effect_result {
          auto before = c.security.settings().service_levels.at(service);
          // Listeners first: a port that cannot be opened refuses the change.
          if (auto applied = levels->apply(service, level); !applied)
            return std::unexpected(
                security_error{security_errc::failed_precondition, "level", applied.error()});
          auto set = c.security.set_service_level(service, level);
          if (!set)
            return std::unexpected(set.error());
          fill_levels(reply, c.security.settings(), *levels);
          return transaction_effect{"service_level/" + std::string(security::to_string(service)),
                                    std::string(pki::to_string(before)),
                                    std::string(pki::to_string(level)), ""};
        });
  }

  grpc::Status GetUnsecuredInterfaces(grpc::ServerContext* call, const pb::Empty*,
                                      pb::UnsecuredInterfaces* reply) override {
    return gw_->read(call, "GetUnsecuredInterfaces", security_read, [reply](security_context& c) {
      fill(reply, c.security.settings().interfaces);
    });
  }

  grpc::Status SetUnsecuredInterfaces(grpc::ServerContext* call,
                                      const pb::UnsecuredInterfaces* request,
                                      pb::UnsecuredInterfaces* reply) override {
    security::unsecured_interfaces wanted{request->legacy_monitor(), request->cti(),
                                          request->directory_read(), request->directory_write(),
                                          request->file_writer_address()};
    return gw_->handle(call, "SetUnsecuredInterfaces", security_write,
                       [wanted, reply](security_context& c) -> effect_result {
                         auto before = security::to_json(c.security.settings().interfaces).dump();
                         auto set = c.security.set_unsecured_interfaces(wanted);
                         if (!set)
                           return std::unexpected(set.error());
                         fill(reply, c.security.settings().interfaces);
                         return transaction_effect{
                             "unsecured_interfaces", before,
                             security::to_json(c.security.settings().interfaces).dump(), ""};
                       });
  }

  grpc::Status SecurityReset(grpc::ServerContext* call, const pb::Empty*, pb::Empty*) override {
    auto* levels = &gw_->context().levels;
    return gw_->handle(
        call, "SecurityReset", security_reset,
        [](security_context& c) -> effect_result {
          auto reset = c.security.reset(c.now, c.random);
          if (!reset)
            return std::unexpected(reset.error());
          // SPEC SEC-7: the TCS returns to its default content too.
          c.pki.record.trust = pki::trust_store::with_defaults();
          return transaction_effect{"security_settings", "", "",
                                    "all security settings restored to defaults",
                                    security::audit_kind::security_reset};
        },
        [levels](const security::security_settings& settings, const actors::pki_state& pki) {
          (void)levels->reload(settings, pki);
        });
  }

  grpc::Status AuditQuery(grpc::ServerContext* call, const pb::AuditQueryRequest* request,
                          pb::AuditRecordList* reply) override {
    security::audit_filter filter;
    if (!request->kind().empty()) {
      filter.kind = security::parse_audit_kind(request->kind());
      if (!filter.kind)
        return to_status(invalid("kind", "unknown audit kind '" + request->kind() + "'"));
    }
    filter.actor = request->actor();
    filter.after_sequence = request->after_sequence();
    return read_audit_records(*gw_, call, "AuditQuery", security_read, audit_, filter,
                              request->limit(), reply);
  }

  grpc::Status AuditVerify(grpc::ServerContext* call, const pb::Empty*,
                           pb::AuditVerifyReply* reply) override {
    return gw_->read(call, "AuditVerify", security_read,
                     [audit = audit_, store = store_,
                      reply](security_context&) -> security::security_result<void> {
                       auto verified = audit->verify();
                       if (!verified)
                         return std::unexpected(security_error{security_errc::storage_failure,
                                                               "audit", verified.error().detail});
                       reply->set_intact(verified->intact);
                       reply->set_records(verified->records);
                       reply->set_first_bad_sequence(verified->first_bad_sequence);
                       reply->set_problem(verified->problem);
                       if (verified->intact && store)
                         check_anchor(*audit, *store, *verified, reply);
                       return {};
                     });
  }

private:
  std::shared_ptr<security::audit_log> audit_;
  std::shared_ptr<security::sealed_store> store_;
};

} // namespace

grpc::Status read_audit_records(const gateway& gw, const grpc::ServerContext* call,
                                std::string action, const rpc_rule& rule,
                                std::shared_ptr<security::audit_log> audit,
                                security::audit_filter filter, std::uint32_t limit,
                                pb::AuditRecordList* reply) {
  filter.limit = limit == 0 ? 100 : limit;
  if (filter.limit > security::max_audit_query_limit)
    return to_status(invalid("limit", "must be at most 10000"));
  return gw.read(call, std::move(action), rule,
                 [audit = std::move(audit), filter,
                  reply](security_context&) -> security::security_result<void> {
                   auto records = audit->query(filter);
                   if (!records)
                     return std::unexpected(security_error{security_errc::storage_failure, "audit",
                                                           records.error().detail});
                   for (const auto& record : *records)
                     fill(reply->add_records(), record);
                   return {};
                 });
}

std::unique_ptr<grpc::Service>
make_security_service(std::shared_ptr<gateway> gw, std::shared_ptr<security::audit_log> audit,
                      std::shared_ptr<security::sealed_store> store) {
  return std::make_unique<security_service>(std::move(gw), std::move(audit), std::move(store));
}

} // namespace ward::node::admin_api
