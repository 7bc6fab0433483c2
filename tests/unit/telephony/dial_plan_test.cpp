// SPEC TF-1..TF-5, TF-7, TF-9: the dial plan as a whole: levels, ARS, barring, NoUser,
// and its storage in the directory.
#include "telephony/dial_plan.hpp"
#include "telephony/dial_plan_edit.hpp"

#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace ward::telephony;
using namespace std::chrono;

namespace {

using enum short_code_feature;

telephony_user user(std::string name, std::string extension) {
  telephony_user u;
  u.name = std::move(name);
  u.extension = std::move(extension);
  return u;
}

/// The guide's three ARS tables (chapter 16) behind one carrier trunk.
dial_plan_config guide_plan() {
  dial_plan_config plan;
  trunk_config carrier;
  carrier.name = "carrier";
  carrier.address = "192.0.2.50";
  plan.trunks.emplace("carrier", carrier);
  ars_table& main = plan.ars_tables.front();
  main.codes = {{"0N;", barred, "SMDR", {}},
                {"1N;", barred, "SMDR", {}},
                {"*67N;", barred, "SMDR", {}},
                {"*82N;", barred, "SMDR", {}},
                {"N;", dial, "N", {}}};
  main.trunks = {"carrier"};
  ars_table long_distance;
  long_distance.id = 51;
  long_distance.name = "Local & Long Distance";
  long_distance.codes = {{"1900N", barred, "SMDR", {}}, {"1XXXN;", dial, "1N", {}},
                         {"0N;", barred, "SMDR", {}},   {"*67N;", barred, "SMDR", {}},
                         {"*82N;", barred, "SMDR", {}}, {"N;", dial, "N", {}}};
  long_distance.trunks = {"carrier"};
  long_distance.time_profile = "office";
  long_distance.out_of_hours = main_ars_id;
  ars_table unrestricted;
  unrestricted.id = 52;
  unrestricted.name = "Unrestricted";
  unrestricted.codes = {{"N;", dial, "N", {}}};
  unrestricted.trunks = {"carrier"};
  plan.ars_tables.push_back(long_distance);
  plan.ars_tables.push_back(unrestricted);
  time_profile office;
  office.name = "office";
  office.weekly.push_back({*parse_days("weekdays"), *parse_day_span("08:00-18:00")});
  plan.time_profiles.push_back(office);
  plan.system_short_codes = {{"9N", dial, "N", "50:Main"}, {"*34", outgoing_call_bar_on, {}, {}}};
  rights_template long_distance_rights;
  long_distance_rights.name = "long-distance";
  long_distance_rights.short_codes = {{"9N", dial, "N", "51:Local & Long Distance"}};
  plan.templates.emplace("long-distance", long_distance_rights);
  user_dial_settings alice;
  alice.rights_template = "long-distance";
  plan.users.emplace("alice", alice);
  user_dial_settings carol;
  carol.outgoing_call_barred = true;
  plan.users.emplace("carol", carol);
  user_dial_settings dave;
  dave.short_codes = {{"9N", dial, "N", "52:Unrestricted"}};
  plan.users.emplace("dave", dave);
  return plan;
}

telephony_directory_data directory_with(const dial_plan_config& plan) {
  telephony_directory_data data;
  for (const auto* number : {"201", "202", "203", "204", "205"})
    data.extensions.emplace(number, extension_record{number, {}, false, true});
  for (auto u :
       {user("alice", "201"), user("bob", "202"), user("carol", "203"), user("dave", "205")})
    data.users.emplace(u.name, u);
  data.policy.emergency_numbers = {"112", "911"};
  data.dial_plan = plan;
  return data;
}

local_moment monday(int hour) {
  const year_month_day date{year(2026), December, day(7)};
  return {date, Monday, static_cast<std::uint16_t>(hour * 60)};
}

struct case_row {
  std::string caller;
  std::string dialled;
  dial_outcome want;
  /// The number sent out, or the extension rung.
  std::string target;
  int hour = 10;
};

} // namespace

TEST_CASE("TF-1 TF-2 TF-3 TF-4 TF-7 a dialled number resolves through levels, ARS and barring") {
  const auto data = directory_with(guide_plan());
  const auto plan = compile_dial_plan(data);
  REQUIRE(plan.has_value());
  const std::vector<case_row> rows{
      // bob has no settings: system 9N to Main, local only.
      {"202", "95551234", dial_outcome::outside, "5551234"},
      {"202", "912125551234", dial_outcome::barred, ""},
      // alice's template sends 9N to Local & Long Distance in office hours...
      {"201", "912125551234", dial_outcome::outside, "12125551234"},
      {"201", "919005551234", dial_outcome::barred, ""},
      {"201", "9*6712125551234", dial_outcome::barred, ""},
      // ...and to Main out of hours.
      {"201", "912125551234", dial_outcome::barred, "", 20},
      {"201", "95551234", dial_outcome::outside, "5551234", 20},
      // dave's own 9N goes to Unrestricted, but international stays barred by the system.
      {"205", "9011442079460000", dial_outcome::barred, ""},
      {"205", "9*67011442079460000", dial_outcome::barred, ""},
      {"205", "912125551234", dial_outcome::outside, "12125551234"},
      // carol's outgoing calls are barred: internal and emergency only.
      {"203", "95551234", dial_outcome::barred, ""},
      {"203", "202", dial_outcome::extension, "202"},
      {"203", "911", dial_outcome::emergency, "911"},
      // 204 has no user (NoUser): internal and emergency only.
      {"204", "95551234", dial_outcome::barred, ""},
      {"204", "201", dial_outcome::extension, "201"},
      {"204", "112", dial_outcome::emergency, "112"},
      // Emergency numbers win over every short code, and go out through Main's trunks.
      {"201", "911", dial_outcome::emergency, "911"},
      {"201", "201", dial_outcome::barred, ""},
      {"201", "*34", dial_outcome::feature, ""},
      {"201", "7777", dial_outcome::unknown, ""},
  };
  for (const auto& row : rows) {
    CAPTURE(row.caller);
    CAPTURE(row.dialled);
    CAPTURE(row.hour);
    const auto result = resolve_dial(
        data, *plan, {row.caller, row.dialled, dialling::en_bloc, monday(row.hour), {}});
    CHECK(result.outcome == row.want);
    if (row.want == dial_outcome::extension)
      CHECK(result.extension == row.target);
    if (row.want == dial_outcome::outside || row.want == dial_outcome::emergency) {
      REQUIRE(result.outside.has_value());
      CHECK(result.outside->number == row.target);
      CHECK(result.outside->trunks == std::vector<std::string>{"carrier"});
    }
  }
}

TEST_CASE("TF-3 a barred call says why, and a Barred SMDR code asks for a call record") {
  const auto data = directory_with(guide_plan());
  const auto plan = *compile_dial_plan(data);
  auto resolve = [&](std::string_view caller, std::string_view dialled,
                     std::string_view rights_of = {}) {
    return resolve_dial(data, plan, {caller, dialled, dialling::en_bloc, monday(10), rights_of});
  };
  const auto by_code = resolve("202", "912125551234");
  CHECK(by_code.barred_by == bar_reason::short_code);
  CHECK(by_code.barred_record);
  CHECK(by_code.detail.find("50:Main") != std::string::npos);
  const auto by_class = resolve("205", "9011442079460000");
  CHECK(by_class.barred_by == bar_reason::calling_class);
  CHECK_FALSE(by_class.barred_record);
  CHECK(resolve("203", "95551234").barred_by == bar_reason::outgoing_call_bar);
  CHECK(resolve("204", "95551234").barred_by == bar_reason::no_user);
  CHECK(resolve("201", "201").barred_by == bar_reason::own_extension);
  // With dave's rights (an authorization code's owner), the NoUser extension gets through.
  const auto with_rights = resolve("204", "912125551234", "dave");
  CHECK(with_rights.outcome == dial_outcome::outside);
  CHECK(with_rights.outside->ars == "52:Unrestricted");
  CHECK(with_rights.outside->of == calling_class::national);
}

TEST_CASE("TF-3 allowing a class for one user opens it for that user only") {
  auto config = guide_plan();
  config.users["dave"].barring[calling_class::international] = bar_setting::allowed;
  const auto data = directory_with(config);
  const auto plan = *compile_dial_plan(data);
  const auto dave =
      resolve_dial(data, plan, {"205", "9011442079460000", dialling::en_bloc, monday(10), {}});
  CHECK(dave.outcome == dial_outcome::outside);
  CHECK(dave.outside->of == calling_class::international);
  // Every caller-ID prefix variant still classifies as international: allowed for dave...
  CHECK(resolve_dial(data, plan, {"205", "9*67011442079460000", dialling::en_bloc, monday(10), {}})
            .outcome == dial_outcome::outside);
  // ...and barred for alice, whose Local & Long Distance table would dial 011 as N;.
  config.ars_tables[1].codes.erase(config.ars_tables[1].codes.begin() + 2);
  const auto opened = directory_with(config);
  const auto opened_plan = *compile_dial_plan(opened);
  for (const auto* number : {"9011442079460000", "9*82011442079460000", "9#31#011442079460000"}) {
    CAPTURE(number);
    const auto alice =
        resolve_dial(opened, opened_plan, {"201", number, dialling::en_bloc, monday(10), {}});
    CHECK(alice.outcome == dial_outcome::barred);
  }
}

TEST_CASE("TF-1 overlap dialling asks for more digits while a code could still grow") {
  const auto data = directory_with(guide_plan());
  const auto plan = *compile_dial_plan(data);
  const auto partial = resolve_dial(data, plan, {"202", "9", dialling::overlap, monday(10), {}});
  CHECK(partial.outcome == dial_outcome::incomplete);
}

TEST_CASE("TF-2 without an emergency extension, emergency calls leave through Main's trunks") {
  auto config = guide_plan();
  auto data = directory_with(config);
  auto plan = *compile_dial_plan(data);
  const auto out = resolve_dial(data, plan, {"201", "112", dialling::en_bloc, monday(3), {}});
  CHECK(out.outcome == dial_outcome::emergency);
  CHECK(out.extension.empty());
  REQUIRE(out.outside.has_value());
  CHECK(out.outside->trunks == std::vector<std::string>{"carrier"});
  data.policy.emergency_extension = "204";
  const auto rung = resolve_dial(data, plan, {"201", "112", dialling::en_bloc, monday(3), {}});
  CHECK(rung.extension == "204");
  CHECK_FALSE(rung.outside.has_value());
}

TEST_CASE("TF-9 a dial plan that names what does not exist is refused, naming the field") {
  struct refusal {
    std::string why;
    dial_plan_config config;
    std::string field;
  };
  std::vector<refusal> refusals;
  auto add = [&](std::string why, auto change, std::string field) {
    auto config = guide_plan();
    change(config);
    refusals.push_back({std::move(why), std::move(config), std::move(field)});
  };
  add(
      "ARS names a missing trunk", [](auto& c) { c.ars_tables[1].trunks = {"backup"}; },
      "ars 51:Local & Long Distance");
  add(
      "template missing", [](auto& c) { c.users["alice"].rights_template = "sales"; },
      "user alice template");
  add(
      "no such user", [](auto& c) { c.users["mallory"] = {}; }, "user mallory");
  add(
      "route to a missing table", [](auto& c) { c.system_short_codes[0].route = "53:Other"; },
      "system short codes");
  add(
      "trunk address", [](auto& c) { c.trunks["carrier"].address = "carrier.example"; },
      "trunk carrier address");
  add(
      "trunk channels", [](auto& c) { c.trunks["carrier"].channels = 0; },
      "trunk carrier channels");
  add(
      "trunk credentials", [](auto& c) { c.trunks["carrier"].username = "ward"; },
      "trunk carrier credentials");
  add(
      "incoming route to a missing extension",
      [](auto& c) {
        c.incoming_routes.push_back({"carrier", "2125550100", "299"});
      },
      "incoming route 2125550100");
  add(
      "forward target", [](auto& c) { c.users["alice"].forward.unconditional = "sip:x"; },
      "user alice forwarding");
  add(
      "Main removed", [](auto& c) { c.ars_tables.erase(c.ars_tables.begin()); }, "ars");
  for (const auto& one : refusals) {
    CAPTURE(one.why);
    const auto compiled = compile_dial_plan(directory_with(one.config));
    REQUIRE_FALSE(compiled.has_value());
    CHECK(compiled.error().code == errc::invalid_config);
    CHECK(compiled.error().detail.starts_with(one.field + ": "));
  }
}

TEST_CASE("TF-9 the directory keeps its dial plan when a change does not compile") {
  telephony_directory directory(directory_with(guide_plan()), "ward",
                                ward::security::test_argon2_cost);
  const auto version = directory.data().version;
  auto broken = guide_plan();
  broken.ars_tables[1].trunks = {"backup"};
  const auto refused = directory.set_dial_plan(broken);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().field == "ars 51:Local & Long Distance");
  CHECK(directory.data().dial_plan == guide_plan());
  CHECK(directory.data().version == version);

  // An emergency number a table's own code bars cannot be added to the SIP policy.
  auto changed = guide_plan();
  changed.ars_tables[2].codes.insert(changed.ars_tables[2].codes.begin(), {"999", barred, {}, {}});
  REQUIRE(directory.set_dial_plan(changed));
  auto policy = directory.data().policy;
  policy.emergency_numbers.push_back("999");
  const auto policy_refused = directory.set_sip_policy(policy, ward::test::fixed_now());
  REQUIRE_FALSE(policy_refused.has_value());
  CHECK(policy_refused.error().field == "ars");

  // An extension an incoming route rings cannot be deleted; a user's settings go with them.
  changed.incoming_routes.push_back({"carrier", "2125550100", "204"});
  REQUIRE(directory.set_dial_plan(changed));
  CHECK(directory.delete_extension("204").error().code ==
        ward::security::security_errc::failed_precondition);
  // SPEC TF-10 TF-5: a user a fraud rule watches cannot be deleted; the user's
  // authorization code goes with the user.
  fraud_rule watch;
  watch.name = "watch-dave";
  watch.scope = fraud_scope::user;
  watch.subject = "dave";
  watch.critical.limit = 5;
  changed.fraud_rules.push_back(watch);
  REQUIRE(set_auth_code(changed, auth_code_owner_kind::user, "dave", "482913",
                        ward::test::seeded_random(3)));
  REQUIRE(directory.set_dial_plan(changed));
  CHECK(directory.delete_user("dave").error().code ==
        ward::security::security_errc::failed_precondition);
  changed.fraud_rules.clear();
  REQUIRE(directory.set_dial_plan(changed));
  REQUIRE(directory.delete_user("dave"));
  CHECK_FALSE(directory.data().dial_plan.users.contains("dave"));
  CHECK(directory.data().dial_plan.auth_codes.empty());
  CHECK(compile_dial_plan(directory.data()));
}

TEST_CASE("TF-9 the dial plan is stored with the directory; reads leave trunk passwords out") {
  auto config = guide_plan();
  config.trunks["carrier"].username = "ward-site-1";
  config.trunks["carrier"].password = "carrier-secret-1";
  config.trunks["carrier"].media_security = ward::media::media_security::enforce;
  config.users["dave"].barring[calling_class::international] = bar_setting::allowed;
  config.users["alice"].forward.on_busy = "202";
  config.time_profiles[0].dated.push_back(
      {*parse_date("2026-12-24"), *parse_day_span("09:00-12:00")});
  config.time_profiles[0].closed.push_back(*parse_date("2026-12-25"));
  config.incoming_routes.push_back({"carrier", "21255501XX", "201"});
  config.numbering = preset_plan(numbering_preset::uk);
  const auto data = directory_with(config);
  const auto decoded = decode_directory(encode_directory(data));
  REQUIRE(decoded.has_value());
  CHECK(decoded->dial_plan == config);
  const auto shown = encode_dial_plan(config, false);
  CHECK(shown.find("carrier-secret-1") == std::string::npos);
  CHECK(shown.find("\"password_set\":true") != std::string::npos);
  // A directory stored before the dial plan existed reads with the defaults.
  auto old = nlohmann::json::parse(encode_directory(directory_with({})));
  REQUIRE(old.erase("dial_plan") == 1);
  const auto defaults = decode_directory(old.dump());
  REQUIRE(defaults.has_value());
  CHECK(defaults->dial_plan == dial_plan_config{});
  // A stored feature or class Ward does not know is damage, not a silent default.
  auto damaged = encode_directory(data);
  damaged.replace(damaged.find("\"outgoing_call_bar_on\""), 22, "\"outgoing_call_bar_up\"");
  CHECK(decode_directory(damaged).error().code == errc::damaged_record);
}
