// Fuzz target for what an administrator's input reaches in the dial plan (SPEC TF-1, TF-2):
// the short-code parser and matcher, the time profile parsers and the numbering plan; and
// what a phone's dialled number reaches (SPEC TF-5, TF-6): resolving it, with authorization
// codes, and as a forwarding target, where an authorization code's digits must never show.
// Input lines: a short code, its telephone field, a dialled number, then free text for the
// other parsers. Built standalone (-DWARD_FUZZ_STANDALONE) or for libFuzzer (-DWARD_LIBFUZZER).

#include "telephony/call_barring.hpp"
#include "telephony/dial_plan.hpp"
#include "telephony/dial_plan_edit.hpp"
#include "telephony/short_code.hpp"
#include "telephony/time_profile.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#if defined(WARD_LIBFUZZER) && defined(WARD_FUZZ_STANDALONE)
#error "build either for libFuzzer or standalone, not both"
#endif

namespace {

using namespace ward::telephony;

std::vector<std::string_view> lines_of(std::string_view bytes) {
  std::vector<std::string_view> lines;
  while (lines.size() < 4) {
    const auto end = bytes.find('\n');
    lines.push_back(bytes.substr(0, end));
    if (end == std::string_view::npos)
      break;
    bytes.remove_prefix(end + 1);
  }
  lines.resize(4);
  return lines;
}

/// A matched code must fit the number fully, and what its wildcards took is part of it.
void check_match(const std::vector<compiled_short_code>& codes, std::string_view dialled) {
  for (const auto mode : {dialling::en_bloc, dialling::overlap}) {
    const auto match = match_short_code(codes, dialled, mode);
    if (match.status != match_status::matched)
      continue;
    if (match.code == nullptr || fit_pattern(match.code->pattern, dialled) != fit::full ||
        match.wildcard_digits.size() > dialled.size())
      std::abort();
  }
}

/// A plan with a trunk, 9N to it, the Auth Code code *12N and alice's code 482913.
const telephony_directory_data& coded_directory() {
  static const telephony_directory_data data = [] {
    telephony_directory_data made;
    for (const auto* number : {"201", "202", "204"})
      made.extensions.emplace(number, extension_record{number, {}, false, true});
    for (const auto& [name, extension] : {std::pair{"alice", "201"}, std::pair{"bob", "202"}}) {
      telephony_user user;
      user.name = name;
      user.extension = extension;
      made.users.emplace(user.name, user);
    }
    made.policy.emergency_numbers = {"911"};
    auto& plan = made.dial_plan;
    trunk_config carrier;
    carrier.name = "carrier";
    carrier.address = "192.0.2.50";
    plan.trunks.emplace("carrier", carrier);
    plan.ars_tables.front().codes = {{"N;", short_code_feature::dial, "N", {}}};
    plan.ars_tables.front().trunks = {"carrier"};
    plan.system_short_codes = {{"9N", short_code_feature::dial, "N", "50:Main"},
                               {"*12N", short_code_feature::auth_code, {}, {}}};
    std::uint8_t next = 1;
    const ward::random_source counting = [&next](std::span<std::byte> out) {
      for (auto& byte : out)
        byte = static_cast<std::byte>(next++);
    };
    if (!set_auth_code(plan, auth_code_owner_kind::user, "alice", "482913", counting))
      std::abort();
    return made;
  }();
  return data;
}

/// SPEC TF-5 TF-6: whatever a phone dials, a code's digits appear in nothing shown.
void check_dialled(std::string_view dialled) {
  const auto& data = coded_directory();
  static const auto plan = compile_dial_plan(data);
  if (!plan)
    std::abort();
  const local_moment monday{std::chrono::year_month_day{std::chrono::year(2026),
                                                        std::chrono::December, std::chrono::day(7)},
                            std::chrono::Monday, 600};
  for (const auto* caller : {"201", "204"}) {
    const auto result = resolve_dial(data, *plan, {caller, dialled, dialling::en_bloc, monday, {}});
    if ((result.account_code || result.barred_by == bar_reason::auth_code) &&
        !result.dialled_shown.starts_with("*12****#"))
      std::abort();
    // What a refusal says is logged and recorded; an unknown number's is not.
    if (result.dialled_shown.find("*12482913#") != std::string::npos ||
        (result.outcome == dial_outcome::barred &&
         result.detail.find("482913#") != std::string::npos))
      std::abort();
  }
  const auto forward = resolve_forward(data, *plan, "alice", dialled, monday, false);
  // A code in use (CODE#NUMBER) is never repeated in the refusal.
  if (forward.account_code || forward.detail.find("482913#") != std::string::npos)
    std::abort();
}

void exercise(std::string_view bytes) {
  const auto lines = lines_of(bytes);
  for (const auto feature : {short_code_feature::dial, short_code_feature::barred,
                             short_code_feature::outgoing_call_bar_on}) {
    auto code = compile_short_code(
        {std::string(lines[0]), feature, std::string(lines[1]), std::string(lines[3])});
    if (!code)
      continue;
    const std::vector<compiled_short_code> codes{*code};
    check_match(codes, lines[2]);
    check_match(codes, lines[0]);
  }
  (void)parse_route_id(lines[3]);
  (void)parse_day_span(lines[3]);
  (void)parse_days(lines[3]);
  (void)parse_date(lines[3]);
  numbering_plan plan{{std::string(lines[1])}, {{std::string(lines[0]), calling_class::premium}}};
  if (auto compiled = compile_plan(plan)) {
    const auto bare = strip_caller_id_prefixes(*compiled, lines[2]);
    if (bare.size() > lines[2].size())
      std::abort();
    (void)classify(*compiled, lines[2]);
  }
  check_dialled(lines[2]);
}

std::vector<std::string> make_corpus() {
  return {
      "1900N\nSMDR\n19005551234\n50:Main",
      "9N;\nN\n901144207946\n51:Long Distance",
      "*67XN\n.\n*6712125551234\n08:30-17:30",
      "1XXXN;\n1N\n13125\nmon,wed,fri",
      "*12N#\n0044N\n*1212345#0044\n2026-12-25",
      "911\n911\n911\nweekdays",
      "+44N\n+44N\n+442079460000\n00:00-24:00",
      "*12N\nN\n*12482913#9011442079460000\n",
      "*12N\nN\n*12482913#911\n",
      "*12N\nN\n*12482914#95551234\n",
      "*12N\nN\n*12482913#*12482913#95551234\n",
      "*12N\nN\n*12482914#*12482913#95551234\n",
  };
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  exercise(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifdef WARD_FUZZ_STANDALONE
#include "tests/fuzz/standalone_driver.hpp"
#endif
