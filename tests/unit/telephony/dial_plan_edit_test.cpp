// SPEC TF-1..TF-9: the edits the administration API makes to the dial plan, each saying
// what it changed for the audit trail and refusing what it cannot make sense of.
#include "telephony/dial_plan_edit.hpp"

#include <doctest/doctest.h>

using namespace ward::telephony;

namespace {

using enum short_code_feature;

plan_scope scope(std::string_view text) {
  auto parsed = parse_plan_scope(text);
  REQUIRE(parsed.has_value());
  return *parsed;
}

} // namespace

TEST_CASE("TF-1 scopes name the system, a template, a user or an ARS table") {
  CHECK(scope("system").kind == plan_scope_kind::system);
  CHECK(scope("template:sales").name == "sales");
  CHECK(scope("user:alice").kind == plan_scope_kind::user);
  CHECK(scope("ars:51").ars_id == 51U);
  for (const auto* bad :
       {"", "systems", "template:", "template:Sales", "ars:x", "ars:0", "user:"}) {
    CAPTURE(bad);
    const auto refused = parse_plan_scope(bad);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().detail.starts_with("scope: "));
  }
  CHECK(to_string(scope("ars:51")) == "ars:51");
}

TEST_CASE("TF-1 a short code is added, replaced and removed, each edit saying how it read") {
  dial_plan_config plan;
  auto added = set_short_code(plan, scope("system"), {"9N", dial, "N", "50:Main"});
  REQUIRE(added.has_value());
  CHECK(added->object == "dial_plan/short_code/system/9N");
  CHECK(added->before == "(none)");
  CHECK(added->after == "9N dial N 50:Main");
  auto replaced = set_short_code(plan, scope("system"), {"9N", barred, "SMDR", {}});
  REQUIRE(replaced.has_value());
  CHECK(replaced->before == "9N dial N 50:Main");
  CHECK(plan.system_short_codes.size() == 1);
  CHECK(set_short_code(plan, scope("system"), {"9A", dial, "N", {}})
            .error()
            .detail.starts_with("short code: code: 'A'"));
  CHECK(set_short_code(plan, scope("template:sales"), {"8N", dial, "N", {}}).error().code ==
        errc::not_found);
  CHECK(set_short_code(plan, scope("ars:60"), {"8N", dial, "N", {}}).error().code ==
        errc::not_found);
  REQUIRE(set_short_code(plan, scope("user:alice"), {"8N", dial, "N", {}}).has_value());
  CHECK(plan.users["alice"].short_codes.size() == 1);
  auto removed = remove_short_code(plan, scope("system"), "9N");
  REQUIRE(removed.has_value());
  CHECK(removed->after == "(none)");
  CHECK(plan.system_short_codes.empty());
  CHECK(remove_short_code(plan, scope("system"), "9N").error().code == errc::not_found);
  CHECK(remove_short_code(plan, scope("user:bob"), "8N").error().code == errc::not_found);
}

TEST_CASE("TF-2 ARS tables keep their codes when their routing changes; Main stays") {
  dial_plan_config plan;
  REQUIRE(set_short_code(plan, scope("ars:50"), {"N;", dial, "N", {}}).has_value());
  ars_table fields;
  fields.name = "Main";
  fields.trunks = {"carrier"};
  REQUIRE(set_ars_table(plan, fields).has_value());
  CHECK(plan.ars_tables.front().codes.size() == 1);
  CHECK(plan.ars_tables.front().trunks == std::vector<std::string>{"carrier"});
  fields.id = 51;
  fields.name = "Long Distance";
  auto created = set_ars_table(plan, fields);
  REQUIRE(created.has_value());
  CHECK(created->after == "51:Long Distance trunk carrier");
  CHECK(remove_ars_table(plan, 50).error().code == errc::invalid_config);
  CHECK(remove_ars_table(plan, 52).error().code == errc::not_found);
  CHECK(remove_ars_table(plan, 51).has_value());
}

TEST_CASE("TF-9 a trunk change without a password keeps the stored one") {
  dial_plan_config plan;
  trunk_config trunk;
  trunk.name = "carrier";
  trunk.address = "192.0.2.50";
  trunk.username = "site-1";
  trunk.password = "first-secret";
  REQUIRE(set_trunk(plan, trunk).has_value());
  trunk.password.clear();
  trunk.channels = 10;
  auto changed = set_trunk(plan, trunk);
  REQUIRE(changed.has_value());
  CHECK(plan.trunks["carrier"].password == "first-secret");
  CHECK(plan.trunks["carrier"].channels == 10U);
  CHECK(changed->after.find("first-secret") == std::string::npos);
  trunk.name = "Carrier";
  CHECK(set_trunk(plan, trunk).error().detail.starts_with("trunk: name"));
  CHECK(remove_trunk(plan, "carrier").has_value());
  CHECK(remove_trunk(plan, "carrier").error().code == errc::not_found);
}

TEST_CASE("TF-3 barring per scope; at the system, inherit means the default") {
  dial_plan_config plan;
  REQUIRE(set_barring(plan, scope("system"), calling_class::international, bar_setting::allowed));
  CHECK(plan.system_barring[calling_class::international] == bar_setting::allowed);
  auto reset =
      set_barring(plan, scope("system"), calling_class::international, bar_setting::inherit);
  REQUIRE(reset.has_value());
  CHECK(plan.system_barring[calling_class::international] == bar_setting::barred);
  CHECK(reset->before == "international allowed");
  CHECK(
      set_barring(plan, scope("ars:50"), calling_class::local, bar_setting::barred).error().code ==
      errc::invalid_config);
  REQUIRE(set_barring(plan, scope("user:alice"), calling_class::mobile, bar_setting::barred));
  CHECK(plan.users["alice"].barring[calling_class::mobile] == bar_setting::barred);
}

TEST_CASE("TF-2 TF-3 time profiles and numbering plans are read from their text forms") {
  dial_plan_config plan;
  time_profile office;
  office.name = "office";
  office.weekly.push_back(*parse_weekly_entry("weekdays=08:00-18:00"));
  office.dated.push_back(*parse_dated_entry("2026-12-24=09:00-12:00"));
  REQUIRE(set_time_profile(plan, office).has_value());
  CHECK(parse_weekly_entry("weekdays").error().detail.starts_with("weekly: "));
  CHECK(parse_weekly_entry("someday=08:00-09:00").error().code == errc::invalid_config);
  CHECK(parse_dated_entry("2026-13-01=09:00-12:00").error().detail.starts_with("date: "));
  CHECK(remove_time_profile(plan, "office").has_value());

  REQUIRE(set_numbering(plan, std::nullopt, {"*67"}, {"011N=international", "N=local"}));
  CHECK(plan.numbering.rules.size() == 2);
  CHECK(set_numbering(plan, std::nullopt, {}, {"011N=far"})
            .error()
            .detail.starts_with("class rule: "));
  CHECK(set_numbering(plan, std::nullopt, {}, {"01;1N=international"})
            .error()
            .detail.starts_with("numbering plan: "));
  REQUIRE(set_numbering(plan, numbering_preset::uk, {}, {}));
  CHECK(plan.numbering == preset_plan(numbering_preset::uk));
}

TEST_CASE("TF-1 TF-7 templates, users' dial settings and incoming routes are edited; the stored "
          "switches read back (TF-6 applies them once forwarding lands)") {
  dial_plan_config plan;
  REQUIRE(set_template(plan, "sales", true).has_value());
  CHECK(plan.templates["sales"].inhibit_off_switch);
  CHECK(set_template(plan, "Sales", std::nullopt).error().code == errc::invalid_config);
  user_dial_fields fields;
  fields.rights_template = "sales";
  fields.outgoing_call_barred = true;
  auto user = set_user_dial(plan, "alice", fields);
  REQUIRE(user.has_value());
  CHECK(user->after.find("template=sales outgoing_call_barred=on") != std::string::npos);
  CHECK(remove_template(plan, "sales").has_value());
  CHECK(remove_template(plan, "sales").error().code == errc::not_found);
  auto switches = set_switches(plan, true, std::nullopt);
  REQUIRE(switches.has_value());
  CHECK(switches->after == "inhibit_off_switch=on trunk_to_trunk_transfer=off");
  incoming_route route{"carrier", "21255501XX", "202"};
  REQUIRE(set_incoming_route(plan, route).has_value());
  route.extension = "203";
  CHECK(set_incoming_route(plan, route)->before == "21255501XX -> 202");
  CHECK(plan.incoming_routes.size() == 1);
  CHECK(remove_incoming_route(plan, "carrier", "21255501XX").has_value());
  CHECK(remove_incoming_route(plan, "", "21255501XX").error().code == errc::not_found);
}
