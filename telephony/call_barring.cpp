#include "telephony/call_barring.hpp"

#include <algorithm>

namespace ward::telephony {
namespace {

constexpr auto barring_errc_names =
    name_table(enum_name{barring_errc::bad_pattern, "bad_pattern"},
               enum_name{barring_errc::bad_prefix, "bad_prefix"},
               enum_name{barring_errc::too_many_rules, "too_many_rules"});

barring_error fail(barring_errc code, std::string detail) {
  return {code, std::move(detail)};
}

std::vector<class_rule> nanp_rules() {
  using enum calling_class;
  return {
      {"011N", international}, {"01N", international},   {"+N", international},
      {"1900N", premium},      {"1976N", premium},       {"+1900N", premium},
      {"+1976N", premium},     {"+1N", national},        {"1XXXXXXXXXX", national},
      {"0N", national},        {"XXXXXXXXXX", national}, {"XXXXXXX", local},
      {"X11", local},
  };
}

std::vector<class_rule> uk_rules() {
  using enum calling_class;
  return {
      {"00N", international}, {"+N", international}, {"09N", premium},   {"118N", premium},
      {"070N", premium},      {"0871N", premium},    {"0872N", premium}, {"0873N", premium},
      {"+449N", premium},     {"+4470N", premium},   {"07N", mobile},    {"+447N", mobile},
      {"0N", national},       {"+44N", national},    {"N", local},
  };
}

} // namespace

std::string_view to_string(barring_errc code) {
  return name_of(barring_errc_names, code);
}

numbering_plan preset_plan(numbering_preset preset) {
  switch (preset) {
    case numbering_preset::uk:
      return {{"141", "1470", "#31#", "*31#"}, uk_rules()};
    case numbering_preset::nanp:
    default:
      return {{"*67", "*82", "#31#", "*31#"}, nanp_rules()};
  }
}

std::expected<compiled_numbering_plan, barring_error> compile_plan(const numbering_plan& plan) {
  if (plan.rules.size() > max_class_rules)
    return std::unexpected(fail(barring_errc::too_many_rules,
                                "more than " + std::to_string(max_class_rules) + " class rules"));
  if (plan.caller_id_prefixes.size() > max_caller_id_prefixes)
    return std::unexpected(
        fail(barring_errc::too_many_rules,
             "more than " + std::to_string(max_caller_id_prefixes) + " caller-ID prefixes"));
  compiled_numbering_plan compiled;
  for (const auto& prefix : plan.caller_id_prefixes) {
    const bool ok =
        !prefix.empty() && prefix.size() <= 8 && std::ranges::all_of(prefix, [](char c) {
          return (c >= '0' && c <= '9') || c == '*' || c == '#';
        });
    if (!ok)
      return std::unexpected(fail(barring_errc::bad_prefix,
                                  "caller-ID prefix '" + prefix + "': 1 to 8 digits, * or # only"));
    compiled.caller_id_prefixes.push_back(prefix);
  }
  // Longest first, so that 1470 is taken off whole rather than read as 141 and a 0.
  std::ranges::sort(compiled.caller_id_prefixes,
                    [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& rule : plan.rules) {
    auto code = compile_short_code({rule.pattern, short_code_feature::barred, {}, {}});
    if (!code || code->waits_for_complete)
      return std::unexpected(
          fail(barring_errc::bad_pattern,
               "class rule '" + rule.pattern +
                   "': " + (code ? std::string("';' has no meaning here") : code.error().detail)));
    compiled.rules.emplace_back(std::move(code->pattern), rule.of);
  }
  return compiled;
}

std::string_view strip_caller_id_prefixes(const compiled_numbering_plan& plan,
                                          std::string_view number) {
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (const auto& prefix : plan.caller_id_prefixes) {
      if (number.size() > prefix.size() && number.starts_with(prefix)) {
        number.remove_prefix(prefix.size());
        stripped = true;
        break;
      }
    }
  }
  return number;
}

calling_class classify(const compiled_numbering_plan& plan, std::string_view number) {
  const auto bare = strip_caller_id_prefixes(plan, number);
  std::optional<calling_class> best;
  match_rank best_rank;
  for (const auto& [pattern, of] : plan.rules) {
    if (fit_pattern(pattern, bare) != fit::full)
      continue;
    const auto rank = rank_of(pattern);
    if (!best || rank > best_rank) {
      best = of;
      best_rank = rank;
    }
  }
  return best.value_or(calling_class::international);
}

class_barring default_system_barring() {
  class_barring barring;
  barring.settings.fill(bar_setting::allowed);
  barring[calling_class::international] = bar_setting::barred;
  barring[calling_class::premium] = bar_setting::barred;
  return barring;
}

barring_decision decide_barring(calling_class of, const class_barring& system,
                                const class_barring* user_template, const class_barring* user) {
  if (user && (*user)[of] != bar_setting::inherit)
    return {(*user)[of] == bar_setting::barred, barring_source::user};
  if (user_template && (*user_template)[of] != bar_setting::inherit)
    return {(*user_template)[of] == bar_setting::barred, barring_source::template_};
  auto setting = system[of];
  if (setting == bar_setting::inherit)
    setting = default_system_barring()[of];
  return {setting == bar_setting::barred, barring_source::system};
}

} // namespace ward::telephony
