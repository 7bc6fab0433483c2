// SPEC TF-1: short codes in the guide's syntax, matched with its precedence.
#include "telephony/short_code.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ward::telephony;

namespace {

using enum short_code_feature;

std::vector<compiled_short_code> compile(const std::vector<short_code>& codes) {
  auto compiled = compile_short_codes(codes);
  REQUIRE(compiled.has_value());
  return *compiled;
}

struct expectation {
  std::string dialled;
  match_status status;
  /// The matching code and the number it produces, when matched.
  std::string code;
  std::string number;
};

void check_all(const std::vector<compiled_short_code>& codes, const std::vector<expectation>& cases,
               dialling mode = dialling::en_bloc) {
  for (const auto& want : cases) {
    CAPTURE(want.dialled);
    const auto got = match_short_code(codes, want.dialled, mode);
    CHECK(got.status == want.status);
    if (want.status == match_status::matched && got.status == match_status::matched) {
      CHECK(got.code->source.code == want.code);
      CHECK(got.number == want.number);
    }
  }
}

} // namespace

TEST_CASE("TF-1 the guide's premium-rate barring matches en-bloc and redial because of the N") {
  // Chapter 16 "Call Barring": 1900N (US) and 09N / 909N (UK) Barred; a national Dial code.
  const auto codes = compile({{"1900N", barred, "SMDR", {}},
                              {"09N", barred, {}, {}},
                              {"909N", barred, {}, {}},
                              {"1N;", dial, "1N", "50:Main"},
                              {"0N;", dial, "0N", "50:Main"},
                              {"9N", dial, "N", "50:Main"}});
  check_all(codes, {
                       {"19005551234", match_status::matched, "1900N", ""},
                       {"1900", match_status::matched, "1900N", ""},
                       {"12125551234", match_status::matched, "1N;", "12125551234"},
                       {"0912345678", match_status::matched, "09N", ""},
                       {"90912345678", match_status::matched, "909N", ""},
                       {"901234567890", match_status::matched, "9N", "01234567890"},
                       {"0207946000", match_status::matched, "0N;", "0207946000"},
                       {"*", match_status::no_match, "", ""},
                   });
  const auto barred_code = match_short_code(codes, "19005551234");
  REQUIRE(barred_code.code != nullptr);
  CHECK(barred_code.code->writes_barred_record);
  CHECK_FALSE(match_short_code(codes, "0912345678").code->writes_barred_record);
}

TEST_CASE("TF-1 precedence between codes that all match") {
  const auto codes = compile({{"1N;", dial, "N", {}},
                              {"1XXXN;", dial, "1N", {}},
                              {"1900N", barred, {}, {}},
                              {"1XXXXXXXXXX", dial, ".", {}},
                              {"12XXXXXXXXX", dial, "9.", {}},
                              {"*67N", barred, {}, {}},
                              {"*67XN", dial, "N", {}}});
  check_all(codes, {
                       // 1900N has four literals against one or two.
                       {"19005551234", match_status::matched, "1900N", ""},
                       // 12XXXXXXXXX: two literals beat one.
                       {"12125551234", match_status::matched, "12XXXXXXXXX", "912125551234"},
                       // Equal literals: more X wins (1XXXXXXXXXX over 1XXXN;).
                       {"13125551234", match_status::matched, "1XXXXXXXXXX", "13125551234"},
                       // Fewer digits than 1XXXXXXXXXX needs: 1XXXN; (three X beat none).
                       {"13125", match_status::matched, "1XXXN;", "13125"},
                       // Only 1N; fits a pause after two digits (the guide's reason for 1XXXN;).
                       {"13", match_status::matched, "1N;", "3"},
                       // *67XN has an X more than *67N.
                       {"*6712125551234", match_status::matched, "*67XN", "12125551234"},
                       {"*67", match_status::matched, "*67N", ""},
                   });
}

TEST_CASE("TF-1 equal ranks go to the code listed first") {
  const auto first = compile({{"2X1", dial, "7.", {}}, {"21X", dial, "8.", {}}});
  check_all(first, {{"211", match_status::matched, "2X1", "7211"}});
  const auto swapped = compile({{"21X", dial, "8.", {}}, {"2X1", dial, "7.", {}}});
  check_all(swapped, {{"211", match_status::matched, "21X", "8211"}});
}

TEST_CASE("TF-1 overlap dialling waits while a longer number could still match") {
  const auto codes = compile({{"201", dial, ".", {}},
                              {"2011", dial, ".", {}},
                              {"3XX", dial, ".", {}},
                              {"4N;", dial, "N", {}},
                              {"5N", dial, "N", {}}});
  check_all(codes,
            {
                // 201 fits, but 2011 could follow.
                {"201", match_status::incomplete, "", ""},
                {"2011", match_status::matched, "2011", "2011"},
                {"3", match_status::incomplete, "", ""},
                {"34", match_status::incomplete, "", ""},
                {"345", match_status::matched, "3XX", "345"},
                // ';' waits for the end of dialling.
                {"4123", match_status::incomplete, "", ""},
                // An open end waits too: Ward cannot send digits on after the INVITE left.
                {"5123", match_status::incomplete, "", ""},
                {"6", match_status::no_match, "", ""},
            },
            dialling::overlap);
  // The same numbers complete (en-bloc) match at once.
  check_all(codes, {
                       {"201", match_status::matched, "201", "201"},
                       {"4123", match_status::matched, "4N;", "123"},
                       {"5123", match_status::matched, "5N", "123"},
                       {"34", match_status::no_match, "", ""},
                   });
}

TEST_CASE("TF-1 the telephone field: N is what X and N matched, . is all that was dialled") {
  CHECK(expand_telephone("N", "9012", "012") == "012");
  CHECK(expand_telephone("0044N", "*12345", "12345") == "004412345");
  CHECK(expand_telephone(".", "9012", "012") == "9012");
  CHECK(expand_telephone("SMDR", "1900", "") == "");
  std::string wildcards;
  const std::vector<code_symbol> pattern{{code_symbol_kind::literal, '*'},
                                         {code_symbol_kind::literal, '1'},
                                         {code_symbol_kind::one_digit, 0},
                                         {code_symbol_kind::any_digits, 0},
                                         {code_symbol_kind::literal, '#'}};
  CHECK(fit_pattern(pattern, "*15678#", &wildcards) == fit::full);
  CHECK(wildcards == "5678");
  CHECK(fit_pattern(pattern, "*15678", nullptr) == fit::partial);
  CHECK(fit_pattern(pattern, "*1", nullptr) == fit::partial);
  CHECK(fit_pattern(pattern, "*1*", nullptr) == fit::none);
  CHECK(fit_pattern(pattern, "*2", nullptr) == fit::none);
}

TEST_CASE("TF-1 bad short codes are refused with a typed error naming the field") {
  struct refusal {
    short_code code;
    short_code_errc want;
    std::string names;
  };
  const std::vector<refusal> refusals{
      {{"", dial, "N", {}}, short_code_errc::empty_code, "code"},
      {{";", dial, "N", {}}, short_code_errc::empty_code, "code"},
      {{"9A", dial, "N", {}}, short_code_errc::bad_code_character, "code: 'A'"},
      {{"9x", dial, "N", {}}, short_code_errc::bad_code_character, "code: 'x'"},
      {{"9;N", dial, "N", {}}, short_code_errc::misplaced_wait, "code"},
      {{"9NN", dial, "N", {}}, short_code_errc::repeated_wildcard, "code"},
      {{std::string(32, '1'), dial, "N", {}}, short_code_errc::too_long, "code"},
      {{"9N", dial, "N-1", {}}, short_code_errc::bad_telephone, "telephone: '-'"},
      {{"9N", dial, "SMDR", {}}, short_code_errc::bad_telephone, "telephone: 'S'"},
      {{"9N", dial, "", {}}, short_code_errc::telephone_mismatch, "telephone"},
      {{"*34", outgoing_call_bar_on, "N", {}}, short_code_errc::telephone_mismatch, "telephone"},
      {{"9N", dial, "N", "Main"}, short_code_errc::bad_route, "route"},
      {{"9N", dial, "N", "0:Main"}, short_code_errc::bad_route, "route"},
      {{"9N", dial, "N", "100000:Big"}, short_code_errc::bad_route, "route"},
      {{"1900N", barred, {}, "50:Main"}, short_code_errc::bad_route, "route"},
  };
  for (const auto& one : refusals) {
    CAPTURE(one.code.code);
    CAPTURE(one.code.telephone);
    const auto compiled = compile_short_code(one.code);
    REQUIRE_FALSE(compiled.has_value());
    CHECK(compiled.error().code == one.want);
    CHECK(compiled.error().detail.starts_with(one.names));
  }
  const std::vector<short_code> twice{{"9N", dial, "N", {}}, {"9N", barred, {}, {}}};
  const auto set = compile_short_codes(twice);
  REQUIRE_FALSE(set.has_value());
  CHECK(set.error().code == short_code_errc::duplicate_code);
  CHECK(parse_route_id("50:Main") == 50U);
  CHECK(parse_route_id("51:Local & Long Distance") == 51U);
  CHECK_FALSE(parse_route_id("50").has_value());
  CHECK_FALSE(parse_route_id("x:Main").has_value());
}
