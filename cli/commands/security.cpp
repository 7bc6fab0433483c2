#include "cli/commands/commands.hpp"

#include "cli/parse.hpp"

namespace ward::cli {
namespace {

namespace pb = admin::v1;
using S = pb::Security::Stub;
constexpr auto security = target_service::security;

/// The kinds of audit record `audit list --kind` selects.
constexpr std::string_view audit_kinds[] = {
    "login", "logout", "change", "password_change", "security_reset", "alarm", "access_denied"};

void add_service_level_commands(CLI::App& app, command_table& table) {
  auto* levels = add_group(app, "service-level", "Service security levels");
  table.unary(levels->add_subcommand("show", "Show every service's level and open ports"),
              rpc{security, &S::GetServiceLevels});
  auto& chosen = table.hold<pb::ServiceLevel>();
  auto* set = levels->add_subcommand("set", "Set a service's level; takes effect at once");
  set->add_option("service", *chosen.mutable_service(), choices(service_names))->required();
  set->add_option("level", *chosen.mutable_level(), choices(service_level_names))->required();
  table.unary(set, rpc{security, &S::SetServiceLevel}, [&chosen] { return chosen; });
}

void add_interfaces_commands(CLI::App& app, command_table& table) {
  auto* interfaces = add_group(app, "interfaces",
                               "Unsecured application interfaces (SPEC SVC-3). Ward serves none of "
                               "them, so each switch stays off and turning one on is refused");
  table.unary(interfaces->add_subcommand("show", "Show the switches"),
              rpc{security, &S::GetUnsecuredInterfaces});
  struct options {
    std::optional<std::string> monitor, cti, dir_read, dir_write, writer;
  };
  auto& o = table.hold<options>();
  auto on_off = choices(switch_values);
  auto* set = interfaces->add_subcommand("set", "Change switches (on | off)");
  set->add_option("--legacy-monitor", o.monitor, on_off);
  set->add_option("--cti", o.cti, on_off);
  set->add_option("--directory-read", o.dir_read, on_off);
  set->add_option("--directory-write", o.dir_write, on_off);
  set->add_option("--file-writer", o.writer, "IPv4 address allowed to write files");
  table.update(set, rpc{security, &S::GetUnsecuredInterfaces},
               rpc{security, &S::SetUnsecuredInterfaces}, [&o] {
                 return [&o](pb::UnsecuredInterfaces& current) {
                   if (o.monitor)
                     current.set_legacy_monitor(parse_switch(*o.monitor, "--legacy-monitor"));
                   if (o.cti)
                     current.set_cti(parse_switch(*o.cti, "--cti"));
                   if (o.dir_read)
                     current.set_directory_read(parse_switch(*o.dir_read, "--directory-read"));
                   if (o.dir_write)
                     current.set_directory_write(parse_switch(*o.dir_write, "--directory-write"));
                   if (o.writer)
                     current.set_file_writer_address(*o.writer);
                 };
               });
}

void add_audit_commands(CLI::App& app, command_table& table) {
  auto* audit = add_group(app, "audit", "The audit trail");
  struct query {
    std::string kind, actor;
    std::uint64_t after = 0;
    unsigned limit = 50;
  };
  auto& q = table.hold<query>();
  auto* list = audit->add_subcommand("list", "Newest audit records");
  list->add_option("--kind", q.kind, choices(audit_kinds));
  list->add_option("--actor", q.actor);
  list->add_option("--after", q.after, "Only records after this sequence number");
  list->add_option("--limit", q.limit)->capture_default_str();
  table.unary(list, rpc{security, &S::AuditQuery, "/ward.admin.v1.Security/AuditQuery"}, [&q] {
    pb::AuditQueryRequest request;
    request.set_kind(q.kind);
    request.set_actor(q.actor);
    request.set_after_sequence(q.after);
    request.set_limit(q.limit);
    return request;
  });
  auto* verify = audit->add_subcommand("verify", "Check the hash chain of the whole trail");
  table.add(verify, [&state = table.state()] {
    pb::AuditVerifyReply reply;
    int code =
        show(state,
             call(state, rpc{security, &S::AuditVerify, "/ward.admin.v1.Security/AuditVerify"},
                  pb::Empty{}, reply),
             reply);
    // A damaged trail is a failure scripts must notice, not only a line of text.
    return code == exit_ok && !reply.intact() ? exit_remote_error : code;
  });
}

} // namespace

void add_security_commands(CLI::App& app, command_table& table) {
  add_service_level_commands(app, table);
  add_interfaces_commands(app, table);

  auto* whole = add_group(app, "security", "Security settings as a whole");
  // Held by the table: CLI11 writes the flag while parsing, after this function returns.
  auto& yes = table.hold<bool>();
  auto* reset = whole->add_subcommand("reset", "Restore every security default");
  reset->add_flag("--yes", yes, "Confirm the reset")->required();
  table.unary_done(
      reset, rpc{security, &S::SecurityReset}, [] { return pb::Empty{}; },
      [] { return "security settings reset to defaults; first-start passwords apply again"; });

  add_audit_commands(app, table);
}

} // namespace ward::cli
