#include "node/admin/convert.hpp"

#include "telephony/b2bua.hpp"

#include <doctest/doctest.h>

namespace admin = ward::node::admin_api;
namespace media = ward::media;
namespace pb = ward::admin::v1;
namespace security = ward::security;

TEST_CASE("admin convert: security errors map to gRPC codes; only invalid arguments name "
          "their field") {
  auto invalid = admin::to_status(admin::invalid("name", "must be 1 to 64 characters"));
  CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(invalid.error_message() == "name: must be 1 to 64 characters");

  auto missing = admin::to_status(
      {security::security_errc::not_found, "name", "service user bob does not exist"});
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(missing.error_message() == "service user bob does not exist");

  CHECK(
      admin::to_status({security::security_errc::storage_failure, "audit", "disk"}).error_code() ==
      grpc::StatusCode::INTERNAL);
  CHECK(admin::to_status({security::security_errc::permission_denied, "", "no"}).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("admin convert: API dates before 1970 are clamped to it and 0 means never") {
  CHECK(admin::to_unix(std::nullopt) == 0);
  CHECK(admin::to_unix(admin::from_unix(1'700'000'000)) == 1'700'000'000);
  CHECK(admin::to_unix(admin::from_unix(-5)) == 0);
}

TEST_CASE("admin convert: a media security level from the API; 'system' only where allowed") {
  auto enforce = admin::media_security_of("enforce", "media_security", false);
  REQUIRE(enforce);
  CHECK(*enforce == media::media_security::enforce);

  auto system = admin::media_security_of("system", "media_security", true);
  REQUIRE(system);
  CHECK_FALSE(system->has_value());
  CHECK(admin::media_security_text(*system) == "system");

  auto refused = admin::media_security_of("system", "media_security", false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().field == "media_security");
  CHECK(refused.error().message == "must be disabled, best_effort or enforce, got 'system'");
}

TEST_CASE("admin convert: SIP settings replace only the fields present") {
  ward::telephony::sip_policy current;
  current.line_media_security["branch"] = media::media_security::enforce;
  current.line_media_security["depot"] = media::media_security::disabled;

  pb::SipSettings in;
  in.set_strict_sips(true);
  in.set_rtp_port_min(41000);
  (*in.mutable_line_media_security_changes())["depot"] = "system";
  auto policy = admin::merged(in, current);
  REQUIRE(policy);
  CHECK(policy->strict_sips);
  CHECK(policy->rtp_port_min == 41000);
  CHECK(policy->rtp_port_max == current.rtp_port_max);
  CHECK(policy->media_security == current.media_security);
  CHECK(policy->line_media_security.size() == 1);
  CHECK(policy->line_media_security.at("branch") == media::media_security::enforce);

  pb::SipSettings out_of_range;
  out_of_range.set_rtp_port_max(70000);
  auto refused = admin::merged(out_of_range, current);
  REQUIRE_FALSE(refused);
  CHECK(admin::to_status(refused.error()).error_message() ==
        "rtp_port_max: must be a port number (at most 65535)");
}

TEST_CASE("admin convert: a service user update refuses dates outside 1970..9999") {
  pb::UpdateServiceUserRequest request;
  request.set_name("alice");
  request.set_expires_at_unix(admin::latest_unix + 1);
  auto refused = admin::parse_user_update(request);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().field == "expires_at_unix");

  request.set_expires_at_unix(0);
  request.set_setting("disabled");
  auto update = admin::parse_user_update(request);
  REQUIRE(update);
  REQUIRE(update->expires_at.has_value());
  CHECK_FALSE(update->expires_at->has_value());
  CHECK(update->setting.has_value());
  CHECK_FALSE(update->password.has_value());
}

TEST_CASE("admin convert: a lockout rule names the field of a bad reject action") {
  pb::LockoutRule rule;
  rule.set_reject_limit(5);
  rule.set_reject_window_seconds(60);
  rule.set_reject_action("log_only");
  rule.set_temporary_lock_seconds(300);
  auto parsed = admin::parse_lockout(rule, "service_user");
  REQUIRE(parsed);
  pb::LockoutRule back;
  admin::fill(&back, *parsed);
  CHECK(back.SerializeAsString() == rule.SerializeAsString());

  rule.set_reject_action("shrug");
  auto refused = admin::parse_lockout(rule, "telephony_user");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().field == "telephony_user.reject_action");
}

TEST_CASE("admin convert: an Issue request gets the API's defaults and a known hash") {
  pb::IssueRequest request;
  request.set_common_name("phone-1");
  auto wanted = admin::parse_device_request(request);
  REQUIRE(wanted);
  CHECK(wanted->validity_days == 730);
  CHECK(wanted->key_bits == 2048);
  CHECK(wanted->hash == ward::pki::signature_hash::sha256);

  request.set_hash("md5");
  auto refused = admin::parse_device_request(request);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().field == "hash");
}

TEST_CASE("admin convert: serials are compared upper-case without colons") {
  CHECK(admin::normalized_serial("0a:1b:ff") == "0A1BFF");
  CHECK(admin::normalized_serial("ABC") == "ABC");
}

TEST_CASE("admin convert: a call that was not answered shows 0 as its answer time") {
  ward::telephony::call_view view;
  view.id = 7;
  view.started = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'500));
  pb::ActiveCall out;
  admin::fill(&out, view);
  CHECK(out.id() == 7);
  CHECK(out.started_unix_ms() == 1'500);
  CHECK(out.answered_unix_ms() == 0);
}
