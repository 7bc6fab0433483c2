#include "cli/commands/commands.hpp"

#include "cli/local_io.hpp"
#include "cli/parse.hpp"

namespace ward::cli {
namespace {

namespace pb = admin::v1;
using C = pb::Configuration::Stub;
constexpr auto configuration = target_service::configuration;

/// The options of `user add` and `user set`.
struct user_options {
  std::string name;
  std::optional<std::string> full_name, extension;
  bool password = false, login_code = false, voicemail_code = false;
};

/// The request `user add|set` sends: the fields the options name, secrets read from stdin.
pb::TelephonyUserRequest user_request(const user_options& o) {
  pb::TelephonyUserRequest request;
  request.set_name(o.name);
  if (o.full_name)
    request.set_full_name(*o.full_name);
  if (o.extension)
    request.set_extension(*o.extension);
  if (o.password)
    request.set_password(read_new_secret("user password"));
  if (o.login_code)
    request.set_login_code(read_new_secret("login code"));
  if (o.voicemail_code)
    request.set_voicemail_code(read_new_secret("voicemail code"));
  return request;
}

void add_user_change(CLI::App& user, command_table& table, bool creating) {
  auto& o = table.hold<user_options>();
  auto* command = user.add_subcommand(
      creating ? "add" : "set", creating ? "Create a telephony user" : "Change a telephony user");
  command->add_option("name", o.name)->required();
  command->add_option("--full-name", o.full_name);
  auto* extension = command->add_option("--extension", o.extension);
  if (creating)
    extension->required();
  command->add_flag("--password-stdin", o.password, reads_secrets("the user password"));
  command->add_flag("--login-code-stdin", o.login_code, reads_secrets("the login code"));
  command->add_flag("--voicemail-code-stdin", o.voicemail_code,
                    reads_secrets("the voicemail code"));
  table.unary(command,
              rpc{configuration, creating ? &C::CreateTelephonyUser : &C::UpdateTelephonyUser},
              [&o] { return user_request(o); });
}

void add_user_commands(CLI::App& app, command_table& table) {
  auto* user = add_group(app, "user", "Telephony users");
  table.unary(user->add_subcommand("list", "List telephony users"),
              rpc{configuration, &C::ListTelephonyUsers});
  add_user_change(*user, table, true);
  add_user_change(*user, table, false);
  table.by_name(*user, {"delete", "Delete a telephony user", "name"},
                rpc{configuration, &C::DeleteTelephonyUser});
  table.by_name(*user, {"unlock", "Unlock a locked telephony user", "name"},
                rpc{configuration, &C::UnlockTelephonyUser});
}

void add_extension_change(CLI::App& ext, command_table& table, bool creating) {
  struct options {
    std::string number;
    bool phone_password = false;
    std::optional<std::string> force_authorization, remote_worker_address, media_security;
  };
  auto& o = table.hold<options>();
  auto* command = ext.add_subcommand(creating ? "add" : "set",
                                     creating ? "Create an extension" : "Change an extension");
  command->add_option("number", o.number)->required();
  command->add_flag("--phone-password-stdin", o.phone_password,
                    reads_secrets("the phone password"));
  command->add_option("--force-authorization", o.force_authorization, choices(switch_values));
  command->add_option("--remote-worker-address", o.remote_worker_address,
                      "Pinned public IP address of a remote worker's phone (SIP-5); \"\" "
                      "clears it");
  command->add_option("--media-security", o.media_security,
                      choices(media_level_names) +
                          ": this extension's media security (MED-2); system = the system "
                          "setting");
  table.unary(
      command, rpc{configuration, creating ? &C::CreateExtension : &C::UpdateExtension}, [&o] {
        pb::ExtensionRequest request;
        request.set_number(o.number);
        if (o.phone_password)
          request.set_phone_password(read_new_secret("phone password"));
        if (o.force_authorization)
          request.set_force_authorization(
              parse_switch(*o.force_authorization, "--force-authorization"));
        if (o.remote_worker_address)
          request.set_remote_worker_address(*o.remote_worker_address);
        if (o.media_security)
          request.set_media_security(media_level_of(*o.media_security, "--media-security", true));
        return request;
      });
}

void add_extension_commands(CLI::App& app, command_table& table) {
  auto* ext = add_group(app, "extension", "SIP extensions");
  table.unary(ext->add_subcommand("list", "List extensions"),
              rpc{configuration, &C::ListExtensions});
  add_extension_change(*ext, table, true);
  add_extension_change(*ext, table, false);
  table.by_name(*ext, {"delete", "Delete an extension", "number"},
                rpc{configuration, &C::DeleteExtension});
}

} // namespace

void add_configuration_commands(CLI::App& app, command_table& table) {
  add_user_commands(app, table);
  add_extension_commands(app, table);
}

} // namespace ward::cli
