#include "cli/commands/commands.hpp"

#include "cli/parse.hpp"

namespace ward::cli {
namespace {

namespace pb = admin::v1;
using T = pb::Telephony::Stub;
using C = pb::Configuration::Stub;
// The SIP policy is configuration, like the extensions: the Configuration endpoint.
constexpr auto configuration = target_service::configuration;

/// Sends one change of the media levels and prints the levels the primary then holds.
int set_media(const cli_state& state, const pb::SipSettings& request) {
  pb::SipSettings reply;
  int code = call(state, rpc{configuration, &T::SetSipSettings}, request, reply);
  if (code != exit_ok || state.json)
    return show(state, code, reply);
  print_media_levels(std::cout, reply);
  return exit_ok;
}

void add_media_show(CLI::App& media, command_table& table) {
  auto* show_cmd = media.add_subcommand(
      "show", "The system level, then each line override, then each extension override");
  table.add(show_cmd, [&state = table.state()]() -> int {
    pb::SipSettings sip;
    if (int code = call(state, rpc{configuration, &T::GetSipSettings}, pb::Empty{}, sip);
        code != exit_ok)
      return code;
    pb::ExtensionList extensions;
    if (int code = call(state, rpc{configuration, &C::ListExtensions}, pb::Empty{}, extensions);
        code != exit_ok)
      return code;
    if (state.json)
      std::cout << media_overview_json(sip, extensions);
    else
      print_media_overview(std::cout, sip, extensions);
    return exit_ok;
  });
}

void add_media_set(CLI::App& media, command_table& table) {
  auto* set = add_group(media, "set", "Change the system level or one override");
  auto levels = choices(media_level_names);
  auto& system_level = table.hold<std::string>();
  auto* set_system = set->add_subcommand("system", "Set the system level");
  set_system->add_option("level", system_level, levels)->required();
  table.add(set_system, [&state = table.state(), &system_level] {
    pb::SipSettings request;
    request.set_media_security(media_level_of(system_level, "media set system", false));
    return set_media(state, request);
  });

  auto& line = table.hold<std::pair<std::string, std::string>>();
  auto* set_line = set->add_subcommand(
      "line", "Override the level on the cluster line to a node; system removes the override");
  set_line->add_option("node", line.first, "Name of the node at the other end of the line")
      ->required();
  set_line->add_option("level", line.second, levels + " | system")->required();
  table.add(set_line, [&state = table.state(), &line] {
    const auto& node = checked_node_name(line.first);
    pb::SipSettings request;
    // One change, applied on the primary to the overrides it holds: concurrent changes to
    // other lines are kept.
    (*request.mutable_line_media_security_changes())[node] =
        media_level_of(line.second, "media set line", true);
    return set_media(state, request);
  });

  auto& extension = table.hold<std::pair<std::string, std::string>>();
  auto* set_extension = set->add_subcommand(
      "extension", "Override the level of an extension; system removes the override");
  set_extension->add_option("number", extension.first, "Extension number")->required();
  set_extension->add_option("level", extension.second, levels + " | system")->required();
  table.add(set_extension, [&state = table.state(), &extension]() -> int {
    pb::ExtensionRequest request;
    request.set_number(checked_extension_number(extension.first));
    request.set_media_security(media_level_of(extension.second, "media set extension", true));
    pb::Extension reply;
    int code = call(state, rpc{configuration, &C::UpdateExtension}, request, reply);
    if (code != exit_ok || state.json)
      return show(state, code, reply);
    std::cout << "extension " << reply.number() << ": " << reply.media_security() << "\n";
    return exit_ok;
  });
}

/// SPEC MED-1: SRTP options per system, line and extension.
void add_media_srtp(CLI::App& media, command_table& table) {
  const std::string value_help =
      "key=value pairs separated by commas: rtp_encryption=on|off, rtp_authentication=80|32|off, "
      "rtcp_encryption=on|off (keys left out take on, 80, off)";
  auto* srtp = add_group(media, "srtp",
                         "SRTP options (MED-1): offered first, with the other SRTCP encryption "
                         "as a second a=crypto line; a far end's offer is taken only when it "
                         "protects at least this much");
  auto send = [](const cli_state& state, const pb::SipSettings& request) -> int {
    pb::SipSettings reply;
    int code = call(state, rpc{configuration, &T::SetSipSettings}, request, reply);
    if (code != exit_ok || state.json)
      return show(state, code, reply);
    print_srtp_levels(std::cout, reply);
    return exit_ok;
  };
  auto& system_value = table.hold<std::string>();
  auto* system = srtp->add_subcommand("system", "Set the system's SRTP options");
  system->add_option("options", system_value, value_help)->required();
  table.add(system, [&state = table.state(), &system_value, send] {
    pb::SipSettings request;
    request.set_srtp(system_value);
    return send(state, request);
  });
  auto& line = table.hold<std::pair<std::string, std::string>>();
  auto* set_line = srtp->add_subcommand(
      "line", "Override the SRTP options on the cluster line to a node; system removes it");
  set_line->add_option("node", line.first, "Name of the node at the other end of the line")
      ->required();
  set_line->add_option("options", line.second, value_help + ", or system")->required();
  table.add(set_line, [&state = table.state(), &line, send] {
    pb::SipSettings request;
    (*request.mutable_line_srtp_changes())[checked_node_name(line.first)] = line.second;
    return send(state, request);
  });
  auto& extension = table.hold<std::pair<std::string, std::string>>();
  auto* set_extension = srtp->add_subcommand(
      "extension", "Override the SRTP options of an extension; system removes the override");
  set_extension->add_option("number", extension.first, "Extension number")->required();
  set_extension->add_option("options", extension.second, value_help + ", or system")->required();
  table.add(set_extension, [&state = table.state(), &extension]() -> int {
    pb::ExtensionRequest request;
    request.set_number(checked_extension_number(extension.first));
    request.set_srtp(extension.second);
    pb::Extension reply;
    int code = call(state, rpc{configuration, &C::UpdateExtension}, request, reply);
    if (code != exit_ok || state.json)
      return show(state, code, reply);
    std::cout << "extension " << reply.number() << " srtp: " << reply.srtp() << "\n";
    return exit_ok;
  });
}

} // namespace

void add_sip_commands(CLI::App& app, command_table& table) {
  auto* sip = add_group(app, "sip",
                        "The cluster's SIP policy (SPEC SIP-1, SIP-3..SIP-5, MED-3, TF-1, TF-2)");
  table.unary(sip->add_subcommand("show", "Show the SIP policy, one key: value per line"),
              rpc{configuration, &T::GetSipSettings});
  auto& assignments = table.hold<std::vector<std::string>>();
  auto* set = sip->add_subcommand(
      "set", "Change SIP policy settings in one step; a refused value changes none of them");
  set->add_option("key=value", assignments,
                  "auto_create=on|off (lapses 24 h after it is switched on), strict_sips=on|off, "
                  "user_agent_allow=A,B, user_agent_block=A,B (case-insensitive substrings; "
                  "empty clears), remote_workers=on|off (needs rtp_port_max <= 50750), "
                  "rtp_port_min=N (even, >= 1024), rtp_port_max=N, direct_media=on|off (media "
                  "directly between phones on one node when their capabilities match), "
                  "emergency_numbers=112,911 (1 to 15 of 0-9 * # each; empty clears), "
                  "emergency_extension=N (the extension emergency calls ring; empty clears)")
      ->required();
  table.unary(set, rpc{configuration, &T::SetSipSettings},
              [&assignments] { return sip_settings_of(assignments); });

  auto* media =
      add_group(app, "media",
                "Media security (MED-2): system level with per-line and per-extension overrides");
  add_media_show(*media, table);
  add_media_set(*media, table);
  add_media_srtp(*media, table);
}

} // namespace ward::cli
