#include "node/admin/convert.hpp"
#include "node/admin/services.hpp"

#include "admin.grpc.pb.h"
#include "telephony/directory_file.hpp"

#include <nlohmann/json.hpp>

namespace ward::node::admin_api {
namespace {

/// The trail's JSON of telephony user `name`, for audited_change().
auto user_snapshot(std::string name) {
  return [name](security_context& c) { return telephony_user_json(c.directory.data(), name); };
}

/// Fills `reply` with telephony user `name` as stored.
auto user_answer(std::string name, pb::TelephonyUser* reply) {
  return
      [name, reply](security_context& c) { fill(reply, c.directory.data().users.at(name), c.now); };
}

/// The trail's JSON of extension `number`, for audited_change().
auto extension_snapshot(std::string number) {
  return [number](security_context& c) { return extension_json(c.directory.data(), number); };
}

/// Fills `reply` with extension `number` as stored.
auto extension_answer(std::string number, pb::Extension* reply) {
  return [number, reply](security_context& c) {
    fill(reply, c.directory.data().extensions.at(number));
  };
}

class configuration_service final : public gateway_service<pb::Configuration::Service> {
public:
  using gateway_service::gateway_service;

  grpc::Status ListTelephonyUsers(grpc::ServerContext* call, const pb::Empty*,
                                  pb::TelephonyUserList* reply) override {
    return gw_->read(call, "ListTelephonyUsers", config_read, [reply](security_context& c) {
      for (const auto& [_, user] : c.directory.data().users)
        fill(reply->add_users(), user, c.now);
    });
  }

  grpc::Status CreateTelephonyUser(grpc::ServerContext* call,
                                   const pb::TelephonyUserRequest* request,
                                   pb::TelephonyUser* reply) override {
    return store_user(call, "CreateTelephonyUser", *request, reply,
                      &telephony::telephony_directory::create_user);
  }

  grpc::Status UpdateTelephonyUser(grpc::ServerContext* call,
                                   const pb::TelephonyUserRequest* request,
                                   pb::TelephonyUser* reply) override {
    return store_user(call, "UpdateTelephonyUser", *request, reply,
                      &telephony::telephony_directory::update_user);
  }

  grpc::Status DeleteTelephonyUser(grpc::ServerContext* call, const pb::NameRequest* request,
                                   pb::Empty*) override {
    return gw_->handle(call, "DeleteTelephonyUser", config_write,
                       audited_deletion("telephony_user", request->name(), user_snapshot,
                                        &telephony::telephony_directory::delete_user));
  }

  grpc::Status UnlockTelephonyUser(grpc::ServerContext* call, const pb::NameRequest* request,
                                   pb::TelephonyUser* reply) override {
    auto name = request->name();
    return gw_->handle(call, "UnlockTelephonyUser", config_write,
                       [name, reply](security_context& c) -> effect_result {
                         auto unlocked = c.directory.unlock_user(name);
                         if (!unlocked)
                           return std::unexpected(unlocked.error());
                         fill(reply, c.directory.data().users.at(name), c.now);
                         return transaction_effect{"telephony_user/" + name, "", "", "unlocked"};
                       });
  }

  grpc::Status ListExtensions(grpc::ServerContext* call, const pb::Empty*,
                              pb::ExtensionList* reply) override {
    return gw_->read(call, "ListExtensions", config_read, [reply](security_context& c) {
      for (const auto& [_, record] : c.directory.data().extensions)
        fill(reply->add_extensions(), record);
    });
  }

  grpc::Status CreateExtension(grpc::ServerContext* call, const pb::ExtensionRequest* request,
                               pb::Extension* reply) override {
    return store_extension(call, "CreateExtension", *request, reply,
                           &telephony::telephony_directory::create_extension, "");
  }

  grpc::Status UpdateExtension(grpc::ServerContext* call, const pb::ExtensionRequest* request,
                               pb::Extension* reply) override {
    return store_extension(call, "UpdateExtension", *request, reply,
                           &telephony::telephony_directory::update_extension,
                           "phone password changed");
  }

  grpc::Status DeleteExtension(grpc::ServerContext* call, const pb::NameRequest* request,
                               pb::Empty*) override {
    return gw_->handle(call, "DeleteExtension", config_write,
                       audited_deletion("extension", request->name(), extension_snapshot,
                                        &telephony::telephony_directory::delete_extension));
  }

  grpc::Status ImportDirectory(grpc::ServerContext* call, const pb::DirectoryFile* request,
                               pb::DirectoryImportReply* reply) override {
    auto format = telephony::parse_directory_format(request->format());
    if (!format)
      return to_status(invalid("format", "must be csv or json"));
    // Parsed before the transaction, so a malformed file never reaches the security actor.
    auto rows = telephony::parse_directory_file(request->content(), *format);
    if (!rows)
      return to_status(invalid("file", telephony::describe(rows.error())));
    // Argon2id runs here, on the call's own thread, not on the security actor, which would
    // otherwise stop answering logins for the whole import (about 60 ms a secret).
    for (auto& row : *rows)
      if (row.kind == telephony::directory_row_kind::user)
        if (auto hashed = telephony::hash_user_secrets(row.user, gw_->context().hashing_cost);
            !hashed)
          return to_status(
              security_error{security_errc::storage_failure, "file", hashed.error().detail});
    auto parsed = std::make_shared<const std::vector<telephony::directory_row>>(std::move(*rows));
    return gw_->handle(
        call, "ImportDirectory", config_write,
        [parsed, reply](security_context& c) -> effect_result {
          auto summary =
              telephony::import_directory_rows(c.directory, *parsed, c.security.settings());
          if (!summary)
            return std::unexpected(invalid("file", telephony::describe(summary.error())));
          reply->set_users_created(static_cast<std::uint32_t>(summary->users_created));
          reply->set_users_updated(static_cast<std::uint32_t>(summary->users_updated));
          reply->set_extensions_created(static_cast<std::uint32_t>(summary->extensions_created));
          reply->set_extensions_updated(static_cast<std::uint32_t>(summary->extensions_updated));
          nlohmann::json keys{{"extensions", nlohmann::json::array()},
                              {"users", nlohmann::json::array()}};
          for (const auto& row : *parsed)
            keys[row.kind == telephony::directory_row_kind::user ? "users" : "extensions"]
                .push_back(row.key);
          transaction_effect effect;
          effect.object = "directory/import";
          effect.after = keys.dump();
          effect.detail = std::to_string(summary->extensions_created) + " extensions created, " +
                          std::to_string(summary->extensions_updated) + " updated; " +
                          std::to_string(summary->users_created) + " users created, " +
                          std::to_string(summary->users_updated) + " updated";
          return effect;
        });
  }

  grpc::Status ExportDirectory(grpc::ServerContext* call, const pb::DirectoryFile* request,
                               pb::DirectoryFile* reply) override {
    auto format = telephony::parse_directory_format(request->format());
    if (!format)
      return to_status(invalid("format", "must be csv or json"));
    return gw_->read(call, "ExportDirectory", config_read, [format, reply](security_context& c) {
      reply->set_format(std::string(telephony::to_string(*format)));
      reply->set_content(telephony::export_directory_file(c.directory.data(), *format));
    });
  }

private:
  /// A directory operation that stores a record from the fields of a request.
  template <class Fields>
  using store_fn = security::security_result<void> (telephony::telephony_directory::*)(
      std::string_view, const Fields&, const security::security_settings&);

  /// Create or Update of a telephony user, by `store`.
  grpc::Status store_user(grpc::ServerContext* call, std::string action,
                          const pb::TelephonyUserRequest& request, pb::TelephonyUser* reply,
                          store_fn<telephony::telephony_user_fields> store) {
    auto name = request.name();
    return gw_->handle(call, std::move(action), config_write,
                       audited_change(
                           "telephony_user/" + name, user_snapshot(name),
                           [name, fields = fields_of(request), store](security_context& c) {
                             return (c.directory.*store)(name, fields, c.security.settings());
                           },
                           user_answer(name, reply)));
  }

  /// Create or Update of an extension, by `store`; `password_detail` is the audit detail of
  /// a request that sets the phone password. An unreadable media security level is
  /// refused inside the transaction, so that the refusal is audited like the directory's own.
  grpc::Status store_extension(grpc::ServerContext* call, std::string action,
                               const pb::ExtensionRequest& request, pb::Extension* reply,
                               store_fn<telephony::extension_fields> store,
                               std::string password_detail) {
    auto number = request.number();
    auto fields = extension_fields_of(request);
    bool new_password = fields && fields->phone_password;
    return gw_->handle(
        call, std::move(action), config_write,
        audited_change(
            "extension/" + number, extension_snapshot(number),
            [number, fields, store](security_context& c) -> security::security_result<void> {
              if (!fields)
                return std::unexpected(fields.error());
              return (c.directory.*store)(number, *fields, c.security.settings());
            },
            extension_answer(number, reply), new_password ? password_detail : ""));
  }
};

} // namespace

std::unique_ptr<grpc::Service> make_configuration_service(std::shared_ptr<gateway> gw) {
  return std::make_unique<configuration_service>(std::move(gw));
}

} // namespace ward::node::admin_api
