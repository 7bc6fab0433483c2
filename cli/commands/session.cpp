#include "cli/commands/commands.hpp"

#include "cli/local_io.hpp"
#include "cli/session_file.hpp"

#include <filesystem>

namespace ward::cli {
namespace {

namespace pb = admin::v1;
using S = pb::Session::Stub;
constexpr auto security = target_service::security;

/// A request naming `name`, with its password read from the terminal or standard input.
template <class Request> Request with_password(const std::string& name) {
  Request request;
  request.set_name(name);
  request.set_password(read_secret("password for " + name));
  return request;
}

/// What `login` says about the session it opened and what the node still wants done.
void print_login(const cli_state& state, const std::string& name, const pb::LoginReply& reply) {
  std::cout << "logged in as " << name << " for " << reply.expires_in_seconds() / 60
            << " minutes; session saved to " << state.session_file << "\n";
  if (reply.must_change_password())
    std::cout << "the password must be changed now: wardctl passwd\n";
  for (const auto& pending : reply.ignition_pending())
    std::cout << "first start: " << pending << " is still the default\n";
  std::cout << "identity certificate expires in " << reply.identity_certificate_expires_in_days()
            << " days\n";
}

int run_login(const cli_state& state, const std::string& name) {
  pb::LoginReply reply;
  int code = call(state, rpc{security, &S::Login, nullptr, false},
                  with_password<pb::LoginRequest>(name), reply);
  if (code != exit_ok)
    return code;
  save_token(state.session_file, reply.token());
  if (state.json) {
    auto shown = reply;
    shown.clear_token();
    std::cout << to_json(shown);
    return exit_ok;
  }
  print_login(state, name, reply);
  return exit_ok;
}

int run_user_login(const cli_state& state, const std::string& user) {
  pb::UserLoginReply reply;
  if (int code = call(state, rpc{security, &S::UserLogin},
                      with_password<pb::UserLoginRequest>(user), reply);
      code != exit_ok)
    return code;
  if (state.json)
    std::cout << to_json(reply);
  else
    std::cout << (reply.accepted() ? "accepted"
                  : reply.locked() ? "refused: locked"
                                   : "refused")
              << "\n";
  return reply.accepted() ? exit_ok : exit_remote_error;
}

} // namespace

void add_session_commands(CLI::App& app, command_table& table) {
  auto& name = table.hold<std::string>();
  auto* login =
      app.add_subcommand("login", "Log in as a service user and cache the session token. " +
                                      reads_secrets("the password"));
  login->add_option("--user,-u", name, "Service user name")->required();
  table.add(login, [&state = table.state(), &name] { return run_login(state, name); });
  table.add(app.add_subcommand("logout", "End the cached session"), [&state = table.state()] {
    pb::Empty reply;
    int code = call(state, rpc{security, &S::Logout}, pb::Empty{}, reply);
    std::filesystem::remove(state.session_file);
    return code;
  });
  table.unary_done(
      app.add_subcommand("passwd", "Change your own password. " +
                                       reads_secrets("the current password, then the new one")),
      rpc{security, &S::ChangePassword},
      [] {
        pb::ChangePasswordRequest request;
        request.set_old_password(read_secret("current password"));
        request.set_new_password(read_new_secret("new password"));
        return request;
      },
      [] { return "password changed; log in again"; });
  table.unary_done(
      app.add_subcommand("system-password",
                         "Set the system password; the current one is not asked for. " +
                             reads_secrets("the new system password")),
      rpc{security, &S::SetSystemPassword},
      [] {
        pb::SetSystemPasswordRequest request;
        request.set_new_password(read_new_secret("new system password"));
        return request;
      },
      [] { return "system password changed"; });
  auto& user = table.hold<std::string>();
  auto* user_login = app.add_subcommand("user-login", "Check a telephony user's password. " +
                                                          reads_secrets("the password"));
  user_login->add_option("name", user, "Telephony user")->required();
  table.add(user_login, [&state = table.state(), &user] { return run_user_login(state, user); });
}

} // namespace ward::cli
