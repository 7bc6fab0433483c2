#include "telephony/dial_plan.hpp"

#include "core/enum_names.hpp"

#include <algorithm>

namespace ward::telephony {

constexpr auto dial_outcome_names = name_table(
    enum_name{dial_outcome::extension, "extension"},
    enum_name{dial_outcome::emergency, "emergency"}, enum_name{dial_outcome::unknown, "unknown"},
    enum_name{dial_outcome::barred, "barred"}, enum_name{dial_outcome::outside, "outside"},
    enum_name{dial_outcome::feature, "feature"}, enum_name{dial_outcome::incomplete, "incomplete"});

constexpr auto bar_reason_names = name_table(
    enum_name{bar_reason::short_code, "short_code"},
    enum_name{bar_reason::calling_class, "calling_class"},
    enum_name{bar_reason::outgoing_call_bar, "outgoing_call_bar"},
    enum_name{bar_reason::no_user, "no_user"},
    enum_name{bar_reason::own_extension, "own_extension"},
    enum_name{bar_reason::fraud_hold, "fraud_hold"}, enum_name{bar_reason::auth_code, "auth_code"},
    enum_name{bar_reason::forwarding, "forwarding"});

std::string_view to_string(dial_outcome outcome) {
  return name_of(dial_outcome_names, outcome);
}

std::string_view to_string(bar_reason reason) {
  return name_of(bar_reason_names, reason);
}

dial_result route_dialled(const telephony_directory_data& directory, std::string_view caller,
                          std::string_view dialled) {
  if (dialled.empty())
    return {dial_outcome::unknown, {}, "no number dialled"};
  const auto& policy = directory.policy;
  if (std::ranges::find(policy.emergency_numbers, dialled) != policy.emergency_numbers.end()) {
    if (policy.emergency_extension.empty())
      return {dial_outcome::emergency,
              {},
              "emergency number " + std::string(dialled) + " with no emergency route configured"};
    return {dial_outcome::emergency, policy.emergency_extension,
            "emergency number " + std::string(dialled)};
  }
  auto it = directory.extensions.find(std::string(dialled));
  if (it == directory.extensions.end())
    return {dial_outcome::unknown, {}, "no extension " + std::string(dialled)};
  if (dialled == caller)
    return {dial_outcome::barred, {}, "an extension cannot call itself"};
  return {dial_outcome::extension, it->first, "internal extension"};
}

} // namespace ward::telephony
namespace ward::telephony {
namespace {

/// The user at `extension` (the one whose record names it), or nullptr: NoUser.
const telephony_user* user_at(const telephony_directory_data& directory,
                              std::string_view extension) {
  for (const auto& [_, user] : directory.users)
    if (user.extension == extension)
      return &user;
  return nullptr;
}

/// The rights a call is placed with: whose short codes, template and barring apply.
struct caller_rights {
  const telephony_user* user = nullptr;
  const user_dial_settings* settings = nullptr;
  const rights_template* rights = nullptr;
  const std::vector<compiled_short_code>* user_codes = nullptr;
  const std::vector<compiled_short_code>* template_codes = nullptr;
};

caller_rights rights_for(const telephony_directory_data& directory, const compiled_dial_plan& plan,
                         const dial_request& request) {
  caller_rights rights;
  const auto& config = plan.source;
  if (!request.rights_template_of.empty()) {
    // A template's code: the template's codes and barring, no user's.
    if (auto found = config.templates.find(std::string(request.rights_template_of));
        found != config.templates.end()) {
      rights.rights = &found->second;
      if (auto codes = plan.template_codes.find(found->first); codes != plan.template_codes.end())
        rights.template_codes = &codes->second;
    }
    return rights;
  }
  if (!request.rights_of.empty()) {
    auto it = directory.users.find(std::string(request.rights_of));
    rights.user = it == directory.users.end() ? nullptr : &it->second;
  } else {
    rights.user = user_at(directory, request.caller);
  }
  if (!rights.user)
    return rights;
  if (auto it = config.users.find(rights.user->name); it != config.users.end()) {
    rights.settings = &it->second;
    if (auto codes = plan.user_codes.find(rights.user->name); codes != plan.user_codes.end())
      rights.user_codes = &codes->second;
    if (auto found = config.templates.find(it->second.rights_template);
        found != config.templates.end()) {
      rights.rights = &found->second;
      if (auto codes = plan.template_codes.find(found->first); codes != plan.template_codes.end())
        rights.template_codes = &codes->second;
    }
  }
  return rights;
}

dial_result barred(bar_reason reason, std::string detail, bool record = false) {
  dial_result result{dial_outcome::barred, {}, std::move(detail)};
  result.barred_by = reason;
  result.barred_record = record;
  return result;
}

/// An emergency call: the emergency extension when one is configured, else out through
/// 50:Main's trunks (every table routes emergency numbers, SPEC TF-2).
dial_result emergency(const telephony_directory_data& directory, const compiled_dial_plan& plan,
                      std::string_view number) {
  dial_result result{dial_outcome::emergency, directory.policy.emergency_extension,
                     "emergency number " + std::string(number)};
  if (!result.extension.empty())
    return result;
  const auto main = plan.ars.tables.find(main_ars_id);
  if (main != plan.ars.tables.end() && !main->second.source.trunks.empty())
    result.outside = outside_route{std::string(number), main->second.source.trunks,
                                   calling_class::local, route_name(main->second.source), false};
  else
    result.detail += " with no emergency route configured";
  return result;
}

/// A Dial code's number through its ARS table, then the calling-class barring.
dial_result route_outside(const telephony_directory_data& directory, const compiled_dial_plan& plan,
                          const caller_rights& rights, const compiled_short_code& code,
                          const std::string& number, const dial_request& request) {
  const auto table_id = code.route_id == 0 ? main_ars_id : code.route_id;
  const auto match = match_ars(plan.ars, table_id, number, request.now);
  if (!match || match->match.status != match_status::matched)
    return {dial_outcome::unknown, {}, "no route for " + number};
  const auto& chosen = *match->match.code;
  const auto table = route_name(match->table->source);
  if (chosen.source.feature == short_code_feature::dial_emergency)
    return emergency(directory, plan, match->match.number);
  if (chosen.source.feature == short_code_feature::barred)
    return barred(bar_reason::short_code, table + " short code " + chosen.source.code,
                  chosen.writes_barred_record);
  if (!rights.user && !(request.authorized && rights.rights))
    return barred(bar_reason::no_user,
                  "no user is logged in at extension " + std::string(request.caller));
  const auto whose = rights.user ? rights.user->name : "template " + rights.rights->name;
  if ((rights.settings && rights.settings->outgoing_call_barred))
    return barred(bar_reason::outgoing_call_bar, "outgoing calls are barred for " + whose);
  if (rights.settings && rights.settings->auth_code_required && !request.authorized)
    return barred(bar_reason::auth_code, "an authorization code is required for " + whose);
  const auto of = classify(plan.numbering, match->match.number);
  const auto decision = decide_barring(of, plan.source.system_barring,
                                       rights.rights ? &rights.rights->barring : nullptr,
                                       rights.settings ? &rights.settings->barring : nullptr);
  if (decision.barred)
    return barred(bar_reason::calling_class,
                  std::string(to_string(of)) + " calls are barred for " + whose);
  dial_result result{dial_outcome::outside, {}, table + " short code " + chosen.source.code};
  result.outside = outside_route{match->match.number, match->table->source.trunks, of, table,
                                 match->out_of_hours};
  if (rights.user)
    result.outside->user = rights.user->name;
  if (rights.settings)
    result.outside->rights_template = rights.settings->rights_template;
  else if (rights.rights)
    result.outside->rights_template = rights.rights->name;
  return result;
}

/// An Auth Code short code (SPEC TF-5): its digits are CODE#NUMBER; NUMBER is dialled again
/// with the rights of the code's owner. What is shown of it never holds the code.
dial_result dial_with_code(const telephony_directory_data& directory,
                           const compiled_dial_plan& plan, const dial_request& request,
                           std::string_view prefix, std::string_view digits) {
  const auto hash = digits.find('#');
  const auto code = digits.substr(0, hash);
  const auto number = hash == std::string_view::npos ? std::string_view() : digits.substr(hash + 1);
  // The number may hold a second code (a code dialled twice): a number with a # is masked
  // whole unless it resolves and says what it shows itself.
  const std::string masked = std::string(prefix) + "****#";
  const std::string shown =
      masked + (number.find('#') == std::string_view::npos ? std::string(number) : "****");
  const auto& config = plan.source;
  const auth_code_entry* entry = nullptr;
  if (!request.authorized && !number.empty())
    entry = find_auth_code(config.auth_codes, config.auth_code_key, code);
  if (!entry) {
    auto result =
        barred(bar_reason::auth_code, number.empty() ? "an authorization code call is CODE#NUMBER"
                                                     : "authorization code not accepted");
    result.auth_failure = !number.empty() && !request.authorized;
    result.dialled_shown = shown;
    return result;
  }
  auto owned = request;
  owned.dialled = number;
  owned.authorized = true;
  owned.rights_of = entry->kind == auth_code_owner_kind::user ? entry->owner : std::string_view();
  owned.rights_template_of =
      entry->kind == auth_code_owner_kind::rights_template ? entry->owner : std::string_view();
  auto result = resolve_dial(directory, plan, owned);
  // A template's code lends rights, not a user: the call still counts as the caller's user's
  // for the fraud rules and their holds (SPEC TF-10).
  if (result.outside && result.outside->user.empty())
    if (const auto* caller = user_at(directory, request.caller))
      result.outside->user = caller->name;
  result.account_code = true;
  result.dialled_shown = result.dialled_shown.empty() ? shown : masked + result.dialled_shown;
  result.detail += " (authorization code of " + owner_text(*entry) + ")";
  return result;
}

} // namespace

dial_result resolve_dial(const telephony_directory_data& directory, const compiled_dial_plan& plan,
                         const dial_request& request) {
  const auto dialled = request.dialled;
  if (dialled.empty())
    return {dial_outcome::unknown, {}, "no number dialled"};
  const auto& numbers = directory.policy.emergency_numbers;
  if (std::ranges::find(numbers, dialled) != numbers.end())
    return emergency(directory, plan, dialled);
  const auto system = match_short_code(plan.system_codes, dialled, request.mode);
  if (system.status == match_status::matched &&
      system.code->source.feature == short_code_feature::dial_emergency)
    return emergency(directory, plan, system.number);

  const auto rights = rights_for(directory, plan, request);
  short_code_match found;
  for (const auto* codes : {rights.user_codes, rights.template_codes}) {
    if (!codes)
      continue;
    found = match_short_code(*codes, dialled, request.mode);
    if (found.status != match_status::no_match)
      break;
  }
  if (found.status == match_status::no_match) {
    if (directory.extensions.contains(std::string(dialled))) {
      if (dialled == request.caller)
        return barred(bar_reason::own_extension, "an extension cannot call itself");
      return {dial_outcome::extension, std::string(dialled), "internal extension"};
    }
    found = system;
  }
  if (found.status == match_status::incomplete)
    return {dial_outcome::incomplete, {}, "more digits needed"};
  if (found.status == match_status::no_match)
    return {dial_outcome::unknown, {}, "no extension or short code " + std::string(dialled)};

  const auto& code = *found.code;
  switch (code.source.feature) {
    case short_code_feature::barred:
      return barred(bar_reason::short_code, "short code " + code.source.code,
                    code.writes_barred_record);
    case short_code_feature::dial_emergency:
      return emergency(directory, plan, found.number);
    case short_code_feature::dial:
      if (directory.extensions.contains(found.number)) {
        if (found.number == request.caller)
          return barred(bar_reason::own_extension, "an extension cannot call itself");
        return {dial_outcome::extension, found.number, "short code " + code.source.code};
      }
      return route_outside(directory, plan, rights, code, found.number, request);
    case short_code_feature::auth_code:
      return dial_with_code(directory, plan, request,
                            dialled.substr(0, dialled.size() - found.wildcard_digits.size()),
                            found.wildcard_digits);
    default: {
      dial_result result{dial_outcome::feature, {}, "short code " + code.source.code};
      result.feature = code.source.feature;
      result.feature_digits = found.wildcard_digits;
      result.extension = found.number;
      return result;
    }
  }
}

dial_result resolve_forward(const telephony_directory_data& directory,
                            const compiled_dial_plan& plan, std::string_view user,
                            std::string_view target, const local_moment& now, bool from_trunk) {
  const auto owner = directory.users.find(std::string(user));
  if (owner == directory.users.end())
    return barred(bar_reason::forwarding, "no user " + std::string(user));
  auto route = resolve_dial(directory, plan,
                            {owner->second.extension, target, dialling::en_bloc, now, user});
  // An authorization code would be kept, shown and audited in the clear as a target, and
  // would lend its owner's rights to every call forwarded: never a forwarding target.
  if (route.account_code || route.barred_by == bar_reason::auth_code)
    return barred(bar_reason::forwarding, "forward to " + route.dialled_shown +
                                              ": an authorization code is no forwarding "
                                              "target");
  // A target with a # might hold a code that did not resolve as one: it is not repeated.
  const std::string to =
      "forward to " +
      (target.find('#') == std::string_view::npos ? std::string(target) : "that number") + ": ";
  switch (route.outcome) {
    case dial_outcome::emergency:
      return barred(bar_reason::forwarding, to + "an emergency number is no forwarding target");
    case dial_outcome::unknown:
    case dial_outcome::incomplete:
    case dial_outcome::feature:
      return barred(bar_reason::forwarding, to + "not a number the dial plan can call");
    case dial_outcome::barred:
      route.detail = to + route.detail;
      return route;
    default:
      break;
  }
  if (route.outcome != dial_outcome::outside)
    return route;
  const auto& config = plan.source;
  const user_dial_settings* settings = nullptr;
  const rights_template* rights = nullptr;
  if (auto it = config.users.find(std::string(user)); it != config.users.end()) {
    settings = &it->second;
    if (auto found = config.templates.find(settings->rights_template);
        found != config.templates.end())
      rights = &found->second;
  }
  const bool inhibited = config.inhibit_off_switch || (settings && settings->inhibit_off_switch) ||
                         (rights && rights->inhibit_off_switch);
  if (inhibited)
    return barred(bar_reason::forwarding,
                  to + "forwarding to outside numbers is inhibited for " + std::string(user));
  if (from_trunk && !config.trunk_to_trunk_transfer)
    return barred(bar_reason::forwarding,
                  to + "a call from a trunk is not sent out through a trunk (trunk-to-trunk "
                       "transfer is off)");
  return route;
}

} // namespace ward::telephony
