#include "cli/commands/commands.hpp"

#include "cli/local_io.hpp"
#include "cli/parse.hpp"

#include <fstream>
#include <iostream>
#include <iterator>

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

/// The format a file's name implies (.csv, .json), or the one `--format` named.
std::string file_format(const std::string& path, const std::string& named) {
  if (!named.empty())
    return named;
  for (std::string_view ending : {".csv", ".json"})
    if (path.ends_with(ending))
      return std::string(ending.substr(1));
  throw usage_error("cannot tell the format of '" + path + "': name it with --format csv|json");
}

/// SPEC SEC-11: bulk import and export of users and extensions.
void add_directory_commands(CLI::App& app, command_table& table) {
  auto* directory = add_group(
      app, "directory",
      "Bulk import and export of telephony users and extensions (CSV with a header row, or a "
      "JSON array). Columns: kind (user | extension), name, full_name, extension, password, "
      "login_code, voicemail_code for users; number, phone_password, force_authorization "
      "(on | off), remote_worker_address, media_security for extensions. An empty value "
      "leaves a field as it is; existing records are updated, new ones created");
  struct options {
    std::string file, format;
  };
  // Apart, because --format's default for export is applied to its variable at once.
  auto& o = table.hold<options>();
  auto& out_options = table.hold<options>();
  const std::vector<std::string> formats{"csv", "json"};
  auto* import = directory->add_subcommand(
      "import", "Apply FILE in one audited transaction; any bad record refuses the whole file, "
                "every error named by its line. Reads secrets (passwords and codes) from FILE "
                "('-' = standard input)");
  import->add_option("file", o.file, "The file, or - for standard input")->required();
  import->add_option("--format", o.format, "csv | json (default: from the file name)")
      ->check(CLI::IsMember(formats));
  table.add(import, [&state = table.state(), &o]() -> int {
    pb::DirectoryFile request;
    if (o.file == "-") {
      if (o.format.empty())
        throw usage_error("reading standard input needs --format csv|json");
      request.set_content(std::string(std::istreambuf_iterator<char>(std::cin), {}));
    } else {
      std::ifstream in(o.file, std::ios::binary);
      if (!in)
        throw usage_error("cannot read '" + o.file + "'");
      request.set_content(std::string(std::istreambuf_iterator<char>(in), {}));
    }
    request.set_format(file_format(o.file, o.format));
    pb::DirectoryImportReply reply;
    int code = call(state, rpc{configuration, &C::ImportDirectory}, request, reply);
    return show(state, code, reply);
  });
  auto* export_ = directory->add_subcommand(
      "export", "Write the users and extensions as import reads them; secrets are never "
                "exported (only their hashes are stored)");
  export_->add_option("--format", out_options.format, "csv | json")
      ->check(CLI::IsMember(formats))
      ->default_val("csv");
  export_->add_option("-o,--output", out_options.file,
                      "Write to this file instead of standard output");
  table.add(export_, [&state = table.state(), &out_options]() -> int {
    pb::DirectoryFile request;
    request.set_format(out_options.format);
    pb::DirectoryFile reply;
    int code = call(state, rpc{configuration, &C::ExportDirectory}, request, reply);
    if (code != exit_ok)
      return code;
    if (out_options.file.empty()) {
      std::cout << reply.content();
      return exit_ok;
    }
    std::ofstream out(out_options.file, std::ios::binary | std::ios::trunc);
    if (!(out << reply.content()) || !out.flush())
      throw usage_error("cannot write '" + out_options.file + "'");
    return exit_ok;
  });
}

} // namespace

void add_configuration_commands(CLI::App& app, command_table& table) {
  add_user_commands(app, table);
  add_extension_commands(app, table);
  add_directory_commands(app, table);
}

} // namespace ward::cli
