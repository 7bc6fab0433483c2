// SPEC TF-5: authorization codes: kept as keyed hashes, dialled as CODE#NUMBER after an Auth
// Code short code, placing one call with the owner's rights.
#include "telephony/auth_code.hpp"
#include "telephony/dial_plan.hpp"
#include "telephony/dial_plan_edit.hpp"

#include "tests/unit/telephony/dial_plan_fixture.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace ward::telephony;
using namespace std::chrono;

namespace {

using enum short_code_feature;

telephony_directory_data directory_with(const dial_plan_config& plan) {
  return test::directory_of(plan, {"201", "202", "203", "204"},
                            {{"alice", "201"}, {"bob", "202"}, {"carol", "203"}});
}

/// Main dials everything through one trunk; the system's *12N is the Auth Code code and 9N
/// dials out. International is barred by default; alice may call it.
dial_plan_config coded_plan(const random_source& random) {
  auto plan = test::carrier_plan();
  plan.system_short_codes.push_back({"*12N", auth_code, {}, {}});
  plan.users["alice"].barring[calling_class::international] = bar_setting::allowed;
  plan.users["carol"];
  rights_template sales;
  sales.name = "sales";
  sales.barring[calling_class::international] = bar_setting::allowed;
  plan.templates.emplace("sales", sales);
  REQUIRE(set_auth_code(plan, auth_code_owner_kind::user, "alice", "482913", random));
  REQUIRE(set_auth_code(plan, auth_code_owner_kind::rights_template, "sales", "735102", random));
  return plan;
}

dial_result place(const telephony_directory_data& data, const compiled_dial_plan& plan,
                  std::string_view caller, std::string_view dialled) {
  return resolve_dial(data, plan, {caller, dialled, dialling::en_bloc, test::monday_morning(), {}});
}

} // namespace

TEST_CASE("TF-5 codes are 4 to 12 digits and not the first ones guessed") {
  CHECK(check_auth_code_digits("4829"));
  CHECK(check_auth_code_digits("482913574620"));
  CHECK_FALSE(check_auth_code_digits("482"));
  CHECK_FALSE(check_auth_code_digits("4829135746201"));
  CHECK_FALSE(check_auth_code_digits("48a9"));
  CHECK(check_auth_code_digits("1111").error().detail.find("repeated") != std::string::npos);
  CHECK_FALSE(check_auth_code_digits("123456"));
  CHECK_FALSE(check_auth_code_digits("9876"));
}

TEST_CASE("TF-5 a code is kept as a salted keyed hash, found only by its digits") {
  const auto random = test::seeded_random(11);
  const auto key = make_auth_code_key(random);
  REQUIRE(key.size() == 64);
  auto first = make_auth_code(auth_code_owner_kind::user, "alice", "482913", key, random);
  auto second = make_auth_code(auth_code_owner_kind::user, "bob", "482913", key, random);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->digest.find("482913") == std::string::npos);
  // A salt of its own: the same digits hash differently.
  CHECK(first->digest != second->digest);
  const std::vector<auth_code_entry> entries{*first};
  CHECK(find_auth_code(entries, key, "482913") == &entries[0]);
  CHECK(find_auth_code(entries, key, "482914") == nullptr);
  CHECK(find_auth_code(entries, make_auth_code_key(random), "482913") == nullptr);
  CHECK(
      make_auth_code(auth_code_owner_kind::user, "alice", "482913", "short", random).error().code ==
      auth_code_errc::bad_key);
}

TEST_CASE("TF-5 the plan keeps one code per owner, refuses a code another owner has") {
  const auto random = test::seeded_random(12);
  auto plan = coded_plan(random);
  CHECK(plan.auth_codes.size() == 2);
  auto taken = set_auth_code(plan, auth_code_owner_kind::user, "bob", "482913", random);
  REQUIRE_FALSE(taken);
  CHECK(taken.error().detail == "auth code: code: choose another code");
  auto replaced = set_auth_code(plan, auth_code_owner_kind::user, "alice", "591726", random);
  REQUIRE(replaced);
  CHECK(replaced->object == "dial_plan/auth_code/user:alice");
  CHECK(replaced->before == "code set");
  CHECK(replaced->after == "code set");
  CHECK(plan.auth_codes.size() == 2);
  // Stored with the secrets for the stores and lines; reads and audit trails get owners only.
  auto decoded = decode_dial_plan(encode_dial_plan(plan, true));
  REQUIRE(decoded);
  CHECK(*decoded == plan);
  const auto shown = encode_dial_plan(plan, false);
  CHECK(shown.find(plan.auth_codes[0].digest) == std::string::npos);
  CHECK(shown.find(plan.auth_code_key) == std::string::npos);
  CHECK(shown.find("\"owner\":\"alice\"") != std::string::npos);
  CHECK(remove_auth_code(plan, auth_code_owner_kind::user, "alice"));
  CHECK(remove_auth_code(plan, auth_code_owner_kind::user, "alice").error().code ==
        errc::not_found);
  // An owner that does not exist does not compile.
  auto orphan = coded_plan(random);
  orphan.templates.clear();
  const auto data = directory_with(orphan);
  CHECK(compile_dial_plan(data).error().detail ==
        "auth code template:sales: owner: no such template");
}

TEST_CASE("TF-5 a restricted caller places one call with the code owner's rights") {
  const auto random = test::seeded_random(13);
  const auto data = directory_with(coded_plan(random));
  const auto plan = compile_dial_plan(data);
  REQUIRE(plan);
  // carol may not call abroad...
  CHECK(place(data, *plan, "203", "9011442079460000").outcome == dial_outcome::barred);
  // ...but with alice's code she may, once, and nothing shows the code.
  auto coded = place(data, *plan, "203", "*12482913#9011442079460000");
  REQUIRE(coded.outcome == dial_outcome::outside);
  CHECK(coded.outside->number == "011442079460000");
  CHECK(coded.outside->user == "alice");
  CHECK(coded.account_code);
  CHECK(coded.dialled_shown == "*12****#9011442079460000");
  CHECK(coded.detail.find("user:alice") != std::string::npos);
  // A phone with no user (NoUser) with the sales template's code.
  auto template_code = place(data, *plan, "204", "*12735102#9011442079460000");
  REQUIRE(template_code.outcome == dial_outcome::outside);
  CHECK(template_code.outside->rights_template == "sales");
  CHECK(template_code.outside->user.empty());
  // A wrong code is barred and counts as a failure; an empty number is not a guess.
  auto wrong = place(data, *plan, "203", "*12482914#9011442079460000");
  CHECK(wrong.outcome == dial_outcome::barred);
  CHECK(wrong.barred_by == bar_reason::auth_code);
  CHECK(wrong.auth_failure);
  CHECK(wrong.dialled_shown == "*12****#9011442079460000");
  auto bare = place(data, *plan, "203", "*12482913");
  CHECK(bare.outcome == dial_outcome::barred);
  CHECK_FALSE(bare.auth_failure);
  // A code is never a forwarding target (it would be kept and shown in the clear).
  auto forward = resolve_forward(data, *plan, "carol", "*12482913#9011442079460000",
                                 test::monday_morning(), false);
  CHECK(forward.outcome == dial_outcome::barred);
  CHECK(forward.barred_by == bar_reason::forwarding);
  CHECK(forward.detail.find("482913") == std::string::npos);
  // A template's code still counts as the caller's user's call for the fraud rules.
  CHECK(place(data, *plan, "203", "*12735102#9011442079460000").outside->user == "carol");
  // Emergency calls never need a code, and a code in front of one still reaches it.
  CHECK(place(data, *plan, "204", "911").outcome == dial_outcome::emergency);
  CHECK(place(data, *plan, "203", "*12482913#911").outcome == dial_outcome::emergency);
}

TEST_CASE("TF-5 TF-10 a user who must give a code reaches outside numbers only with their own") {
  const auto random = test::seeded_random(14);
  auto config = coded_plan(random);
  config.users["alice"].auth_code_required = true;
  const auto data = directory_with(config);
  const auto plan = compile_dial_plan(data);
  REQUIRE(plan);
  auto plain = place(data, *plan, "201", "95551234");
  CHECK(plain.outcome == dial_outcome::barred);
  CHECK(plain.barred_by == bar_reason::auth_code);
  CHECK(plain.detail == "an authorization code is required for alice");
  CHECK(place(data, *plan, "201", "*12482913#95551234").outcome == dial_outcome::outside);
  CHECK(place(data, *plan, "201", "202").outcome == dial_outcome::extension);
  CHECK(place(data, *plan, "201", "911").outcome == dial_outcome::emergency);
}
