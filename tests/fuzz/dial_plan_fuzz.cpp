// Fuzz target for what an administrator's input reaches in the dial plan (SPEC TF-1, TF-2):
// the short-code parser and matcher, the time profile parsers and the numbering plan.
// Input lines: a short code, its telephone field, a dialled number, then free text for the
// other parsers. Built standalone (-DWARD_FUZZ_STANDALONE) or for libFuzzer (-DWARD_LIBFUZZER).

#include "telephony/call_barring.hpp"
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
}

std::vector<std::string> make_corpus() {
  return {
      "1900N\nSMDR\n19005551234\n50:Main",       "9N;\nN\n901144207946\n51:Long Distance",
      "*67XN\n.\n*6712125551234\n08:30-17:30",   "1XXXN;\n1N\n13125\nmon,wed,fri",
      "*12N#\n0044N\n*1212345#0044\n2026-12-25", "911\n911\n911\nweekdays",
      "+44N\n+44N\n+442079460000\n00:00-24:00",
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
