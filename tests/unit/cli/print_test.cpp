#include "cli/print.hpp"
#include "cli/table.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>

using namespace ward::cli;
namespace pb = ward::admin::v1;

namespace {

template <class Reply> std::string printed(const Reply& reply) {
  std::ostringstream out;
  print(out, reply);
  return out.str();
}

} // namespace

TEST_CASE("date_text is UTC to the second, and - for never") {
  CHECK(date_text(0) == "-");
  CHECK(date_text(1796601600) == "2026-12-07T00:00:00Z");
  CHECK(date_text(951825599) == "2000-02-29T11:59:59Z");
}

TEST_CASE("duration_text leaves out leading zero units") {
  CHECK(duration_text(0) == "0s");
  CHECK(duration_text(59) == "59s");
  CHECK(duration_text(60) == "1m 0s");
  CHECK(duration_text(3600) == "1h 0m 0s");
  CHECK(duration_text(90061) == "1d 1h 1m 1s");
}

TEST_CASE("role_name spells the roles as the configuration does") {
  CHECK(role_name(pb::NODE_ROLE_PRIMARY) == "primary");
  CHECK(role_name(pb::NODE_ROLE_SECONDARY) == "secondary");
  CHECK(role_name(pb::NODE_ROLE_EXPANSION) == "expansion");
  CHECK(role_name(pb::NODE_ROLE_APPSERVER) == "appserver");
  CHECK(role_name(pb::NodeRole{}) == "unspecified");
}

TEST_CASE("a service user is one labelled row per field") {
  pb::ServiceUser user;
  user.set_name("alice");
  user.set_status("enabled");
  user.add_groups("Security Administrator");
  user.add_groups("Auditor");
  user.set_recent_failures(2);
  auto text = printed(user);
  CHECK(text.starts_with("name              alice\n"
                         "status            enabled\n"));
  CHECK(text.find("groups            Security Administrator, Auditor\n") != std::string::npos);
  CHECK(text.find("expires           -\n") != std::string::npos);
  CHECK(text.find("recent failures   2\n") != std::string::npos);
}

TEST_CASE("sip settings print one key: value per line, - for an empty list") {
  pb::SipSettings sip;
  sip.set_auto_create(false);
  sip.set_strict_sips(true);
  sip.mutable_user_agent_block()->add_entries("friendly");
  sip.mutable_user_agent_block()->add_entries("sipvicious");
  sip.set_rtp_port_min(20000);
  sip.set_rtp_port_max(20100);
  CHECK(printed(sip) == "auto_create: off\n"
                        "auto_create_enabled_at: -\n"
                        "auto_create_lapses_at: -\n"
                        "strict_sips: on\n"
                        "user_agent_allow: -\n"
                        "user_agent_block: friendly,sipvicious\n"
                        "remote_workers: off\n"
                        "rtp_port_min: 20000\n"
                        "rtp_port_max: 20100\n"
                        "direct_media: off\n"
                        "emergency_numbers: -\n"
                        "emergency_extension: -\n");
}

TEST_CASE("registrations print a table, or say there are none") {
  CHECK(printed(pb::RegistrationList{}) == "no registrations\n");
  pb::RegistrationList list;
  auto* r = list.add_registrations();
  r->set_extension("2101");
  r->set_transport("udp");
  r->set_source("127.0.0.1:5070");
  r->set_expires_in(3600);
  r->set_contact("sip:2101@127.0.0.1:5070");
  r->set_user_agent("baresip");
  auto text = printed(list);
  CHECK(text ==
        "EXTENSION  TRANSPORT  SOURCE          EXPIRES  CONTACT                  USER AGENT\n"
        "2101       udp        127.0.0.1:5070  3600s    sip:2101@127.0.0.1:5070  baresip\n");
}

TEST_CASE("blacklists print one row per entry, or say nothing is blacklisted") {
  CHECK(printed(pb::BlacklistReply{}) == "nothing is blacklisted\n");
  pb::BlacklistReply lists;
  auto* address = lists.add_addresses();
  address->set_key("127.0.0.61");
  address->set_permanent(true);
  address->set_blocks(3);
  auto text = printed(lists);
  CHECK(text == "KIND     KEY         UNTIL      BLOCKS\n"
                "address  127.0.0.61  permanent  3\n");
}

TEST_CASE("the audit verdict names the first damaged record") {
  pb::AuditVerifyReply intact;
  intact.set_intact(true);
  intact.set_records(12);
  CHECK(printed(intact) == "audit trail intact: 12 records\n");
  pb::AuditVerifyReply damaged;
  damaged.set_first_bad_sequence(7);
  damaged.set_problem("hash mismatch");
  CHECK(printed(damaged) == "audit trail DAMAGED at record 7: hash mismatch\n");
}

TEST_CASE("MED-1 MED-2 media levels and SRTP options: system, then each override in name order") {
  pb::SipSettings sip;
  sip.set_media_security("best_effort");
  sip.set_srtp("rtp_encryption=on,rtp_authentication=80,rtcp_encryption=off");
  (*sip.mutable_line_srtp())["node-b"] =
      "rtp_encryption=on,rtp_authentication=32,rtcp_encryption=on";
  auto& lines = *sip.mutable_line_media_security()->mutable_levels();
  lines["node-c"] = "disabled";
  lines["node-b"] = "enforce";
  pb::ExtensionList extensions;
  extensions.add_extensions()->set_media_security("system");
  auto* strict = extensions.add_extensions();
  strict->set_number("2101");
  strict->set_media_security("enforce");
  strict->set_srtp("rtp_encryption=off,rtp_authentication=80,rtcp_encryption=off");
  std::ostringstream out;
  print_media_overview(out, sip, extensions);
  CHECK(out.str() ==
        "system: best_effort\n"
        "line node-b: enforce\n"
        "line node-c: disabled\n"
        "extension 2101: enforce\n"
        "system srtp: rtp_encryption=on,rtp_authentication=80,rtcp_encryption=off\n"
        "line node-b srtp: rtp_encryption=on,rtp_authentication=32,rtcp_encryption=on\n"
        "extension 2101 srtp: rtp_encryption=off,rtp_authentication=80,"
        "rtcp_encryption=off\n");
  auto json = media_overview_json(sip, extensions);
  CHECK(json.find("\"system\": \"best_effort\"") != std::string::npos);
  CHECK(json.find("\"2101\": \"enforce\"") != std::string::npos);
}

TEST_CASE("a reply without a printer of its own prints as JSON with every field") {
  pb::CodeRules rules;
  rules.set_min_length(4);
  auto text = printed(static_cast<const google::protobuf::Message&>(rules));
  CHECK(text == to_json(rules));
  CHECK(text.find("\"min_length\": 4") != std::string::npos);
  CHECK(text.find("\"complexity_test\": false") != std::string::npos);
}

TEST_CASE("tables size each column to its widest cell, two spaces apart") {
  text_table table({"ACTION", "OUTCOME", "NOTE"});
  table.add({"password_change", "success", ""});
  table.add({"login", "failure", "wrong password"});
  std::ostringstream out;
  table.print(out);
  CHECK(out.str() == "ACTION           OUTCOME  NOTE\n"
                     "password_change  success\n"
                     "login            failure  wrong password\n");
}

TEST_CASE("table widths count UTF-8 characters, not bytes") {
  text_table table({"NAME", "X"});
  table.add({"J\u00f6rg", "1"});
  std::ostringstream out;
  table.print(out);
  CHECK(out.str() == "NAME  X\nJ\u00f6rg  1\n");
}
