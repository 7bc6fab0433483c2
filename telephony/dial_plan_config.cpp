#include "telephony/dial_plan_config.hpp"

#include "core/net_address.hpp"

#include <algorithm>
#include <set>

namespace ward::telephony {
namespace {

std::unexpected<error> invalid(std::string field, std::string reason) {
  return std::unexpected(error{errc::invalid_config, std::move(field) + ": " + std::move(reason)});
}

bool is_name(std::string_view text, std::size_t longest) {
  return !text.empty() && text.size() <= longest && std::ranges::all_of(text, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_number(std::string_view text) {
  return !text.empty() && text.size() <= 31 && std::ranges::all_of(text, [](char c) {
    return (c >= '0' && c <= '9') || c == '*' || c == '#' || c == '+';
  });
}

bool is_printable(std::string_view text, std::size_t longest) {
  return text.size() <= longest &&
         std::ranges::all_of(text, [](char c) { return c > 0x20 && c < 0x7f; });
}

std::expected<std::vector<compiled_short_code>, error>
codes_of(std::string_view where, std::span<const short_code> codes, const compiled_ars& ars) {
  auto compiled = compile_short_codes(codes);
  if (!compiled)
    return invalid(std::string(where), compiled.error().detail);
  for (const auto& code : *compiled)
    if (code.route_id != 0 && !ars.tables.contains(code.route_id))
      return invalid(std::string(where), "short code '" + code.source.code + "' routes to ARS " +
                                             code.source.route + ", which does not exist");
  return std::move(*compiled);
}

std::expected<void, error> check_trunk(const std::string& key, const trunk_config& trunk) {
  const std::string where = "trunk " + key;
  if (!is_name(trunk.name, 31) || trunk.name != key)
    return invalid(where + " name", "1 to 31 of a-z 0-9 -");
  auto address = parse_ip_address(trunk.address);
  if (!address)
    return invalid(where + " address", "'" + trunk.address + "' is not a numeric IP address");
  if (trunk.port == 0)
    return invalid(where + " port", "must be 1 to 65535");
  if (trunk.kind == transport::line)
    return invalid(where + " transport", "must be udp, tcp or tls");
  if (!trunk.domain.empty() && !is_printable(trunk.domain, 253))
    return invalid(where + " domain", "up to 253 printable characters without spaces");
  if (!is_printable(trunk.username, 64) || trunk.password.size() > 128)
    return invalid(where + " credentials",
                   "username up to 64 printable characters, password up to 128");
  if (trunk.username.empty() != trunk.password.empty())
    return invalid(where + " credentials", "a username needs a password and the other way round");
  if (!trunk.caller_id.empty() && !is_number(trunk.caller_id))
    return invalid(where + " caller_id", "digits, * # + only, up to 31");
  if (trunk.channels == 0 || trunk.channels > 10'000)
    return invalid(where + " channels", "must be 1 to 10000");
  return {};
}

std::expected<void, error> check_forwarding(const std::string& user, const forwarding& forward) {
  for (const auto* target : {&forward.unconditional, &forward.on_busy, &forward.on_no_answer})
    if (!target->empty() && !is_number(*target))
      return invalid("user " + user + " forwarding", "'" + *target + "' is not a number");
  return {};
}

std::expected<void, error> check_fraud_rules(const dial_plan_config& config,
                                             const std::map<std::string, std::string>& users) {
  if (config.fraud_rules.size() > max_fraud_rules)
    return invalid("fraud_rules", "more than " + std::to_string(max_fraud_rules));
  std::set<std::string_view> names;
  for (const auto& rule : config.fraud_rules) {
    const std::string where = "fraud rule " + rule.name;
    if (auto checked = check_fraud_rule(rule); !checked)
      return invalid(where, checked.error().detail);
    if (!names.insert(rule.name).second)
      return invalid(where, "defined twice");
    const bool exists = [&] {
      switch (rule.scope) {
        case fraud_scope::user:
          return users.contains(rule.subject);
        case fraud_scope::rights_template:
          return config.templates.contains(rule.subject);
        case fraud_scope::trunk:
          return config.trunks.contains(rule.subject);
        case fraud_scope::every_user:
          return true;
      }
      return false;
    }();
    if (!exists)
      return invalid(where,
                     "subject: no " + std::string(to_string(rule.scope)) + " " + rule.subject);
    if (!rule.time_profile.empty() &&
        std::ranges::find(config.time_profiles, rule.time_profile, &time_profile::name) ==
            config.time_profiles.end())
      return invalid(where, "time_profile: no time profile " + rule.time_profile);
  }
  return {};
}

std::expected<void, error> check_auth_codes(const dial_plan_config& config,
                                            const std::map<std::string, std::string>& users) {
  if (config.auth_codes.size() > max_auth_codes)
    return invalid("auth_codes", "more than " + std::to_string(max_auth_codes));
  if (!config.auth_codes.empty() && config.auth_code_key.size() != 64)
    return invalid("auth_codes", "the authorization-code key is missing");
  std::set<std::string> owners;
  for (const auto& entry : config.auth_codes) {
    const auto owner = owner_text(entry);
    if (!owners.insert(owner).second)
      return invalid("auth code " + owner, "one code per user or template");
    const bool exists = entry.kind == auth_code_owner_kind::user
                            ? users.contains(entry.owner)
                            : config.templates.contains(entry.owner);
    if (!exists)
      return invalid("auth code " + owner,
                     "owner: no such " + std::string(entry.kind == auth_code_owner_kind::user
                                                         ? "user"
                                                         : "template"));
  }
  return {};
}

} // namespace

std::expected<compiled_dial_plan, error>
compile_dial_plan(const dial_plan_config& config, std::span<const std::string> emergency_numbers,
                  const std::map<std::string, std::string>& user_extensions,
                  std::span<const std::string> extension_numbers) {
  compiled_dial_plan compiled;
  if (config.time_profiles.size() > max_time_profiles)
    return invalid("time_profiles", "more than " + std::to_string(max_time_profiles));
  std::set<std::string_view> profile_names;
  for (const auto& profile : config.time_profiles)
    if (!profile_names.insert(profile.name).second)
      return invalid("time_profile " + profile.name, "defined twice");

  if (config.trunks.size() > max_trunks)
    return invalid("trunks", "more than " + std::to_string(max_trunks));
  for (const auto& [key, trunk] : config.trunks)
    if (auto checked = check_trunk(key, trunk); !checked)
      return std::unexpected(checked.error());

  auto ars = compile_ars(config.ars_tables, config.time_profiles, emergency_numbers);
  if (!ars)
    return invalid("ars", ars.error().detail);
  for (const auto& [id, table] : ars->tables)
    for (const auto& trunk : table.source.trunks)
      if (!config.trunks.contains(trunk))
        return invalid("ars " + route_name(table.source), "no trunk " + trunk);
  compiled.ars = std::move(*ars);

  auto numbering = compile_plan(config.numbering);
  if (!numbering)
    return invalid("numbering_plan", numbering.error().detail);
  compiled.numbering = std::move(*numbering);

  auto system_codes = codes_of("system short codes", config.system_short_codes, compiled.ars);
  if (!system_codes)
    return std::unexpected(system_codes.error());
  compiled.system_codes = std::move(*system_codes);

  if (config.templates.size() > max_rights_templates)
    return invalid("templates", "more than " + std::to_string(max_rights_templates));
  for (const auto& [name, rights] : config.templates) {
    if (!is_name(name, 31) || rights.name != name)
      return invalid("template " + name, "name: 1 to 31 of a-z 0-9 -");
    auto codes = codes_of("template " + name + " short codes", rights.short_codes, compiled.ars);
    if (!codes)
      return std::unexpected(codes.error());
    compiled.template_codes.emplace(name, std::move(*codes));
  }

  for (const auto& [name, settings] : config.users) {
    if (!user_extensions.contains(name))
      return invalid("user " + name, "no such user");
    if (!settings.rights_template.empty() && !config.templates.contains(settings.rights_template))
      return invalid("user " + name + " template", "no template " + settings.rights_template);
    if (auto checked = check_forwarding(name, settings.forward); !checked)
      return std::unexpected(checked.error());
    auto codes = codes_of("user " + name + " short codes", settings.short_codes, compiled.ars);
    if (!codes)
      return std::unexpected(codes.error());
    compiled.user_codes.emplace(name, std::move(*codes));
  }

  if (config.incoming_routes.size() > max_incoming_routes)
    return invalid("incoming_routes", "more than " + std::to_string(max_incoming_routes));
  for (const auto& route : config.incoming_routes) {
    const std::string where = "incoming route " + route.number;
    if (!route.trunk.empty() && !config.trunks.contains(route.trunk))
      return invalid(where, "no trunk " + route.trunk);
    if (std::ranges::find(extension_numbers, route.extension) == extension_numbers.end())
      return invalid(where, "no extension " + route.extension);
    auto pattern = compile_short_code({route.number, short_code_feature::barred, {}, {}});
    if (!pattern || pattern->waits_for_complete)
      return invalid(where, pattern ? "';' has no meaning here" : pattern.error().detail);
    compiled.incoming.push_back(std::move(pattern->pattern));
  }
  if (auto checked = check_fraud_rules(config, user_extensions); !checked)
    return std::unexpected(checked.error());
  if (auto checked = check_auth_codes(config, user_extensions); !checked)
    return std::unexpected(checked.error());
  compiled.source = config;
  return compiled;
}

} // namespace ward::telephony
