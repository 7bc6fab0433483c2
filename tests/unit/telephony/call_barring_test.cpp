// SPEC TF-3, TF-4: calling classes barred per user, template or system, whatever prefix
// the caller puts in front.
#include "telephony/call_barring.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ward::telephony;

namespace {

compiled_numbering_plan plan(numbering_preset preset) {
  auto compiled = compile_plan(preset_plan(preset));
  REQUIRE(compiled.has_value());
  return *compiled;
}

struct classified {
  std::string number;
  calling_class want;
};

} // namespace

TEST_CASE("TF-3 the NANP plan classifies the usual numbers") {
  const auto nanp = plan(numbering_preset::nanp);
  const std::vector<classified> cases{
      {"5551234", calling_class::local},
      {"2125551234", calling_class::national},
      {"12125551234", calling_class::national},
      {"19005551234", calling_class::premium},
      {"19765551234", calling_class::premium},
      {"+19005551234", calling_class::premium},
      {"+12125551234", calling_class::national},
      {"011442079460000", calling_class::international},
      {"+442079460000", calling_class::international},
      {"0", calling_class::national},
      {"411", calling_class::local},
      {"123", calling_class::international}, // no rule: treated as far away
  };
  for (const auto& one : cases) {
    CAPTURE(one.number);
    CHECK(classify(nanp, one.number) == one.want);
  }
}

TEST_CASE("TF-3 the UK plan classifies the usual numbers") {
  const auto uk = plan(numbering_preset::uk);
  const std::vector<classified> cases{
      {"4960000", calling_class::local},
      {"02079460000", calling_class::national},
      {"07700900123", calling_class::mobile},
      {"07012345678", calling_class::premium},
      {"09098790000", calling_class::premium},
      {"118118", calling_class::premium},
      {"0033123456789", calling_class::international},
      {"+447700900123", calling_class::mobile},
      {"+442079460000", calling_class::national},
      {"+33123456789", calling_class::international},
  };
  for (const auto& one : cases) {
    CAPTURE(one.number);
    CHECK(classify(uk, one.number) == one.want);
  }
}

TEST_CASE("TF-4 no caller-ID prefix, alone or repeated, changes a number's class") {
  struct preset_case {
    numbering_preset preset;
    std::vector<std::string> barred_numbers;
    std::vector<std::string> prefixes;
  };
  const std::vector<preset_case> presets{
      {numbering_preset::nanp,
       {"011442079460000", "19005551234", "+33123456789"},
       {"*67", "*82", "#31#", "*31#"}},
      {numbering_preset::uk,
       {"0033123456789", "09098790000", "118118"},
       {"141", "1470", "#31#", "*31#"}},
  };
  const auto barring = default_system_barring();
  for (const auto& preset : presets) {
    const auto compiled = plan(preset.preset);
    for (const auto& number : preset.barred_numbers) {
      const auto plain = classify(compiled, number);
      CHECK(decide_barring(plain, barring, nullptr, nullptr).barred);
      for (const auto& first : preset.prefixes) {
        CAPTURE(first + number);
        CHECK(classify(compiled, first + number) == plain);
        CHECK(decide_barring(classify(compiled, first + number), barring, nullptr, nullptr).barred);
        for (const auto& second : preset.prefixes) {
          CAPTURE(first + second + number);
          CHECK(classify(compiled, first + second + number) == plain);
        }
      }
    }
  }
  // 1470 is taken off whole, not read as 141 followed by a 0 that makes a national number.
  const auto uk = plan(numbering_preset::uk);
  CHECK(strip_caller_id_prefixes(uk, "14704960000") == "4960000");
  CHECK(strip_caller_id_prefixes(uk, "1414960000") == "4960000");
  // A prefix alone is not a number to strip down to nothing.
  CHECK(strip_caller_id_prefixes(uk, "141") == "141");
}

TEST_CASE("TF-3 the user's setting wins over the template's, which wins over the system's") {
  const auto system = default_system_barring();
  CHECK(decide_barring(calling_class::international, system, nullptr, nullptr).barred);
  CHECK_FALSE(decide_barring(calling_class::national, system, nullptr, nullptr).barred);

  class_barring sales;
  sales[calling_class::international] = bar_setting::allowed;
  sales[calling_class::mobile] = bar_setting::barred;
  const auto by_template = decide_barring(calling_class::international, system, &sales, nullptr);
  CHECK_FALSE(by_template.barred);
  CHECK(by_template.source == barring_source::template_);
  CHECK(decide_barring(calling_class::mobile, system, &sales, nullptr).barred);

  class_barring intern;
  intern[calling_class::international] = bar_setting::barred;
  const auto by_user = decide_barring(calling_class::international, system, &sales, &intern);
  CHECK(by_user.barred);
  CHECK(by_user.source == barring_source::user);
  // Inherit at every level falls back to the default: premium stays barred.
  class_barring silent;
  CHECK(decide_barring(calling_class::premium, silent, &silent, &silent).barred);
}

TEST_CASE("TF-3 a numbering plan with a bad rule or prefix is refused naming it") {
  numbering_plan bad_rule{{"*67"}, {{"01;1N", calling_class::international}}};
  CHECK(compile_plan(bad_rule).error().code == barring_errc::bad_pattern);
  numbering_plan waits{{}, {{"011N;", calling_class::international}}};
  CHECK(compile_plan(waits).error().code == barring_errc::bad_pattern);
  numbering_plan bad_prefix{{"*6a"}, {}};
  const auto refused = compile_plan(bad_prefix);
  CHECK(refused.error().code == barring_errc::bad_prefix);
  CHECK(refused.error().detail.find("*6a") != std::string::npos);
}
