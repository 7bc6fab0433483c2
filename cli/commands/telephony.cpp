#include "cli/commands/commands.hpp"

namespace ward::cli {

void add_telephony_commands(CLI::App& app, command_table& table) {
  namespace pb = admin::v1;
  using T = pb::Telephony::Stub;
  constexpr auto status = target_service::status;
  auto* blacklist = add_group(app, "blacklist", "SIP blacklists of this node's guard");
  table.unary(blacklist->add_subcommand("list", "Blacklisted addresses and extensions"),
              rpc{status, &T::Blacklist, "/ward.admin.v1.Telephony/Blacklist"});
  struct reset_target {
    std::string address, extension;
  };
  auto& target = table.hold<reset_target>();
  auto* reset = blacklist->add_subcommand("reset", "Lift a blacklisting");
  auto* by_address = reset->add_option("--address", target.address, "IP address");
  auto* by_extension = reset->add_option("--extension", target.extension, "Extension number");
  by_address->excludes(by_extension);
  table.add(reset, [&state = table.state(), &target] {
    if (target.address.empty() == target.extension.empty())
      throw usage_error("name exactly one of --address and --extension");
    pb::ResetBlacklistRequest request;
    request.set_kind(target.address.empty() ? "extension" : "address");
    request.set_key(target.address.empty() ? target.extension : target.address);
    pb::Empty reply;
    int code = call(state, rpc{status, &T::ResetBlacklist}, request, reply);
    // Said even with --json, as it always was: scripts may look for it.
    if (code == exit_ok)
      std::cout << "blacklisting of " << request.key() << " lifted\n";
    return code;
  });
  table.unary(
      app.add_subcommand("registrations", "SIP registrations held by this node's registrar"),
      rpc{status, &T::Registrations, "/ward.admin.v1.Telephony/Registrations"});
  table.unary(app.add_subcommand("calls",
                                 "Calls in progress through this node's B2BUA, with media per leg"),
              rpc{status, &T::Calls, "/ward.admin.v1.Telephony/Calls"});
}

} // namespace ward::cli
