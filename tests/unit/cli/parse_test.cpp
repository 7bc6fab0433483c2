#include "cli/errors.hpp"
#include "cli/parse.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ward::cli;

namespace {

/// The message of the usage_error `run` throws, or "" when it throws none.
template <class Run> std::string usage_message(Run run) {
  try {
    run();
  } catch (const usage_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("choices joins the accepted values as the help shows them") {
  CHECK(choices(switch_values) == "on | off");
  CHECK(choices(media_level_names) == "disabled | best_effort | enforce");
  CHECK(choices(service_level_names) ==
        "disabled | unsecure_only | unsecure_and_secure | secure_low | secure_medium | "
        "secure_high");
  CHECK(choices({}) == "");
}

TEST_CASE("parse_date reads YYYY-MM-DD as midnight UTC") {
  CHECK(parse_date("1970-01-01") == 0);
  CHECK(parse_date("2026-12-07") == 1796601600);
  CHECK(parse_date("2000-02-29") == 951782400);
}

TEST_CASE("parse_date refuses anything else, naming the format") {
  CHECK(usage_message([] { parse_date("07.12.2026"); }) ==
        "dates are YYYY-MM-DD, got '07.12.2026'");
  CHECK(usage_message([] { parse_date(""); }) == "dates are YYYY-MM-DD, got ''");
  CHECK(usage_message([] { parse_date("tomorrow"); }) != "");
}

TEST_CASE("parse_switch takes on/true/yes and off/false/no") {
  for (auto text : {"on", "true", "yes"})
    CHECK(parse_switch(text, "--cti"));
  for (auto text : {"off", "false", "no"})
    CHECK_FALSE(parse_switch(text, "--cti"));
}

TEST_CASE("parse_switch refuses other spellings, naming the option") {
  CHECK(usage_message([] { parse_switch("On", "--cti"); }) == "--cti takes on or off, got 'On'");
  CHECK(usage_message([] { parse_switch("maybe", "strict_sips"); }) ==
        "strict_sips takes on or off, got 'maybe'");
  CHECK(usage_message([] { parse_switch("", "--cti"); }) != "");
}

TEST_CASE("media_level_of takes the three levels, and system only for an override") {
  for (auto level : {"disabled", "best_effort", "enforce"}) {
    CHECK(media_level_of(level, "media set system", false) == level);
    CHECK(media_level_of(level, "media set line", true) == level);
  }
  CHECK(media_level_of("system", "media set line", true) == "system");
  CHECK(usage_message([] { media_level_of("system", "media set system", false); }) ==
        "media set system takes disabled, best_effort or enforce, got 'system'");
  CHECK(usage_message([] { media_level_of("Enforce", "media set line", true); }) ==
        "media set line takes disabled, best_effort, enforce or system, got 'Enforce'");
}

TEST_CASE("checked_node_name takes 1 to 63 of a-z 0-9 -") {
  CHECK(checked_node_name("node-b2") == "node-b2");
  CHECK(checked_node_name(std::string(63, 'a')) == std::string(63, 'a'));
  CHECK(usage_message([] { checked_node_name("node b"); }) ==
        "a node name is 1 to 63 of a-z 0-9 -, got 'node b'");
  CHECK(usage_message([] { checked_node_name(""); }) != "");
  CHECK(usage_message([] { checked_node_name("Node"); }) != "");
  CHECK(usage_message([] { checked_node_name(std::string(64, 'a')); }) != "");
}

TEST_CASE("checked_extension_number takes digits only") {
  CHECK(checked_extension_number("2101") == "2101");
  CHECK(usage_message([] { checked_extension_number("21a"); }) ==
        "an extension number is digits, got '21a'");
  CHECK(usage_message([] { checked_extension_number(""); }) != "");
}

TEST_CASE("sip_settings_of sets only the keys it is given") {
  auto request = sip_settings_of(
      {"strict_sips=on", "rtp_port_min=20000", "direct_media=off", "emergency_extension=2100"});
  CHECK(request.strict_sips());
  CHECK(request.rtp_port_min() == 20000);
  CHECK_FALSE(request.direct_media());
  CHECK(request.emergency_extension() == "2100");
  CHECK_FALSE(request.has_user_agent_allow());
  CHECK_FALSE(request.has_emergency_numbers());
  CHECK_FALSE(request.has_rtp_port_max());
  CHECK_FALSE(request.has_auto_create());
}

TEST_CASE("sip_settings_of reads comma-separated lists, trimming blanks; empty clears") {
  auto request = sip_settings_of({"user_agent_block=Friendly , sipvicious", "emergency_numbers="});
  REQUIRE(request.has_user_agent_block());
  CHECK(request.user_agent_block().entries_size() == 2);
  CHECK(request.user_agent_block().entries(0) == "Friendly");
  CHECK(request.user_agent_block().entries(1) == "sipvicious");
  REQUIRE(request.has_emergency_numbers());
  CHECK(request.emergency_numbers().entries_size() == 0);
}

TEST_CASE("sip_settings_of refuses bad assignments before anything is sent") {
  CHECK(usage_message([] { sip_settings_of({"colour=blue"}); }) ==
        std::string("unknown setting 'colour'; keys are ") + sip_setting_keys);
  CHECK(usage_message([] { sip_settings_of({"strict_sips"}); }) ==
        std::string("expected key=value, got 'strict_sips'; keys are ") + sip_setting_keys);
  CHECK(usage_message([] { sip_settings_of({"=on"}); }) != "");
  CHECK(usage_message([] {
          sip_settings_of({"strict_sips=on", "strict_sips=off"});
        }) == "strict_sips is given twice");
  CHECK(usage_message([] { sip_settings_of({"strict_sips=maybe"}); }) ==
        "strict_sips takes on or off, got 'maybe'");
  CHECK(usage_message([] { sip_settings_of({"rtp_port_min=65536"}); }) ==
        "rtp_port_min takes a port number, got '65536'");
  CHECK(usage_message([] { sip_settings_of({"rtp_port_max=-1"}); }) != "");
  CHECK(usage_message([] { sip_settings_of({"emergency_numbers=112,,911"}); }) ==
        "emergency_numbers has an empty entry in '112,,911'; entries are comma-separated, and "
        "emergency_numbers= clears the list");
}
