#include "cli/commands/commands.hpp"

#include "cli/parse.hpp"

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
  auto* calls = app.add_subcommand(
      "calls", "Calls in progress through this node's B2BUA, with media per leg");
  // SPEC TF-3, TF-8: declared before `calls` itself, whose entry would otherwise run too.
  struct history_options {
    std::string since, until, caller;
    std::uint32_t limit = 100;
    bool csv = false, cluster = false;
  };
  auto& history = table.hold<history_options>();
  auto* history_cmd = calls->add_subcommand("history", "This node's call records, oldest first");
  history_cmd->add_option("--since", history.since, "YYYY-MM-DD (UTC)");
  history_cmd->add_option("--until", history.until, "YYYY-MM-DD (UTC), exclusive");
  history_cmd->add_option("--caller", history.caller, "Only calls from this extension");
  history_cmd->add_option("--limit", history.limit, "The newest N records (default 100)");
  history_cmd->add_flag("--csv", history.csv, "Print the records as CSV (SMDR fields)");
  history_cmd->add_flag("--cluster", history.cluster,
                        "On the primary: every node's records, as forwarded over the lines");
  table.add(history_cmd, [&state = table.state(), &history]() -> int {
    pb::CallHistoryRequest request;
    if (!history.since.empty())
      request.set_since_unix(parse_date(history.since));
    if (!history.until.empty())
      request.set_until_unix(parse_date(history.until));
    request.set_caller(history.caller);
    request.set_limit(history.limit);
    request.set_csv(history.csv);
    request.set_cluster(history.cluster);
    pb::CallRecordList reply;
    int code = call(state, rpc{status, &T::CallHistory, "/ward.admin.v1.Telephony/CallHistory"},
                    request, reply);
    if (code == exit_ok && history.csv && !state.json) {
      std::cout << reply.csv();
      return exit_ok;
    }
    return show(state, code, reply);
  });
  table.unary(calls, rpc{status, &T::Calls, "/ward.admin.v1.Telephony/Calls"});
}

} // namespace ward::cli
