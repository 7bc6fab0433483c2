#include "telephony/directory.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ward::telephony {
namespace {

using json = nlohmann::json;

std::int64_t to_unix(time_point when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

std::int64_t to_unix_ms(time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

json line_media_json(const sip_policy& policy) {
  json lines = json::object();
  for (const auto& [node, level] : policy.line_media_security)
    lines[node] = std::string(media::to_string(level));
  return lines;
}

/// A media security level as stored; an unknown one is damage, reported like a mistyped
/// member.
std::expected<media::media_security, error> stored_level(const json& value,
                                                         std::string_view where) {
  auto text = value.get<std::string>();
  auto level = media::parse_media_security(text);
  if (!level)
    return std::unexpected(
        error{errc::damaged_record,
              std::string(where) + " is not a media security level: '" + text + "'"});
  return *level;
}

/// SRTP options as stored; unreadable ones are damage.
std::expected<media::srtp_profile, error> stored_srtp(const json& value, std::string_view where) {
  auto text = value.get<std::string>();
  auto profile = media::parse_srtp_profile(text);
  if (!profile)
    return std::unexpected(
        error{errc::damaged_record, std::string(where) + ": " + profile.error().detail});
  return *profile;
}

json line_srtp_json(const sip_policy& policy) {
  json lines = json::object();
  for (const auto& [node, profile] : policy.line_srtp)
    lines[node] = media::to_string(profile);
  return lines;
}

json policy_json(const sip_policy& policy) {
  return {{"auto_create", policy.auto_create},
          {"auto_create_enabled_at_unix_ms", to_unix_ms(policy.auto_create_enabled_at)},
          {"strict_sips", policy.strict_sips},
          {"user_agent_allow", policy.user_agent_allow},
          {"user_agent_block", policy.user_agent_block},
          {"remote_workers", policy.remote_workers},
          {"rtp_port_min", policy.rtp_port_min},
          {"rtp_port_max", policy.rtp_port_max},
          {"media_security", std::string(media::to_string(policy.media_security))},
          {"line_media_security", line_media_json(policy)},
          {"direct_media", policy.direct_media},
          {"emergency_numbers", policy.emergency_numbers},
          {"emergency_extension", policy.emergency_extension},
          {"srtp", media::to_string(policy.srtp)},
          {"line_srtp", line_srtp_json(policy)}};
}

/// Throws json::exception for a missing or mistyped member, like the rest of
/// decode_directory; a policy that reads but does not validate is an error.
std::expected<sip_policy, error> policy_of(const json& entry) {
  sip_policy policy;
  policy.auto_create = entry.at("auto_create").get<bool>();
  policy.auto_create_enabled_at = time_point(
      std::chrono::milliseconds(entry.at("auto_create_enabled_at_unix_ms").get<std::int64_t>()));
  policy.strict_sips = entry.at("strict_sips").get<bool>();
  policy.user_agent_allow = entry.at("user_agent_allow").get<std::vector<std::string>>();
  policy.user_agent_block = entry.at("user_agent_block").get<std::vector<std::string>>();
  policy.remote_workers = entry.at("remote_workers").get<bool>();
  for (auto [key, port] : {std::pair{"rtp_port_min", &policy.rtp_port_min},
                           std::pair{"rtp_port_max", &policy.rtp_port_max}}) {
    auto value = entry.at(key).get<std::int64_t>();
    if (value < 0 || value > 65535)
      return std::unexpected(
          error{errc::damaged_record, std::string("sip_policy.") + key + " is not a port number"});
    *port = static_cast<std::uint16_t>(value);
  }
  // Absent in encodings from before SPEC MED-2: the defaults.
  if (entry.contains("media_security")) {
    auto level = stored_level(entry.at("media_security"), "sip_policy.media_security");
    if (!level)
      return std::unexpected(level.error());
    policy.media_security = *level;
  }
  if (entry.contains("line_media_security")) {
    const auto& lines = entry.at("line_media_security");
    if (!lines.is_object())
      return std::unexpected(
          error{errc::damaged_record, "sip_policy.line_media_security is not an object"});
    for (const auto& [node, value] : lines.items()) {
      auto level = stored_level(value, "sip_policy.line_media_security." + node);
      if (!level)
        return std::unexpected(level.error());
      policy.line_media_security.emplace(node, *level);
    }
  }
  // Absent in encodings from before SPEC MED-3 direct media and the emergency route: the
  // defaults.
  if (entry.contains("direct_media"))
    policy.direct_media = entry.at("direct_media").get<bool>();
  if (entry.contains("emergency_numbers"))
    policy.emergency_numbers = entry.at("emergency_numbers").get<std::vector<std::string>>();
  if (entry.contains("emergency_extension"))
    policy.emergency_extension = entry.at("emergency_extension").get<std::string>();
  // Absent in encodings from before SPEC MED-1 options: the defaults.
  if (entry.contains("srtp")) {
    auto profile = stored_srtp(entry.at("srtp"), "sip_policy.srtp");
    if (!profile)
      return std::unexpected(profile.error());
    policy.srtp = *profile;
  }
  if (entry.contains("line_srtp")) {
    const auto& lines = entry.at("line_srtp");
    if (!lines.is_object())
      return std::unexpected(error{errc::damaged_record, "sip_policy.line_srtp is not an object"});
    for (const auto& [node, value] : lines.items()) {
      auto profile = stored_srtp(value, "sip_policy.line_srtp." + node);
      if (!profile)
        return std::unexpected(profile.error());
      policy.line_srtp.emplace(node, *profile);
    }
  }
  // validate_sip_policy's detail reads "field: reason".
  if (auto valid = validate_sip_policy(policy); !valid)
    return std::unexpected(error{errc::damaged_record, "sip_policy." + valid.error().detail});
  return policy;
}

} // namespace

std::string encode_sip_policy(const sip_policy& policy) {
  return policy_json(policy).dump();
}

std::string encode_directory(const telephony_directory_data& data) {
  json users = json::array();
  for (const auto& [_, user] : data.users) {
    json failures = json::array();
    for (auto failure : user.lock.recent_failures)
      failures.push_back(to_unix(failure));
    json entry{{"name", user.name},
               {"full_name", user.full_name},
               {"extension", user.extension},
               {"password_hash", user.password_hash},
               {"login_code_ha1_md5", user.login_code_digest.ha1_md5},
               {"login_code_ha1_sha256", user.login_code_digest.ha1_sha256},
               {"login_code_hash", user.login_code_hash},
               {"voicemail_code_hash", user.voicemail_code_hash},
               {"recent_failures", failures},
               {"locked_permanently", user.lock.locked_permanently}};
    if (user.lock.locked_until)
      entry["locked_until"] = to_unix(*user.lock.locked_until);
    users.push_back(entry);
  }
  json extensions = json::array();
  for (const auto& [_, record] : data.extensions) {
    json entry{{"number", record.number},
               {"ha1_md5", record.phone_password_digest.ha1_md5},
               {"ha1_sha256", record.phone_password_digest.ha1_sha256},
               {"has_phone_password", record.has_phone_password},
               {"phone_password_remote_grade", record.phone_password_remote_grade},
               {"force_authorization", record.force_authorization},
               {"remote_worker_address", record.remote_worker_address}};
    // Absent = the system setting.
    if (record.media_security)
      entry["media_security"] = std::string(media::to_string(*record.media_security));
    if (record.srtp)
      entry["srtp"] = media::to_string(*record.srtp);
    extensions.push_back(std::move(entry));
  }
  return json{{"format", 1},
              {"version", data.version},
              {"users", users},
              {"extensions", extensions},
              {"sip_policy", policy_json(data.policy)},
              {"dial_plan", json::parse(encode_dial_plan(data.dial_plan, true))}}
      .dump();
}

std::expected<telephony_directory_data, error> decode_directory(std::string_view text) {
  try {
    auto document = json::parse(text);
    telephony_directory_data data;
    data.version = document.at("version").get<std::uint64_t>();
    for (const auto& entry : document.at("users")) {
      telephony_user user;
      user.name = entry.at("name").get<std::string>();
      user.full_name = entry.at("full_name").get<std::string>();
      user.extension = entry.at("extension").get<std::string>();
      user.password_hash = entry.at("password_hash").get<std::string>();
      user.login_code_digest = {entry.at("login_code_ha1_md5").get<std::string>(),
                                entry.at("login_code_ha1_sha256").get<std::string>()};
      user.login_code_hash = entry.at("login_code_hash").get<std::string>();
      user.voicemail_code_hash = entry.at("voicemail_code_hash").get<std::string>();
      for (const auto& failure : entry.at("recent_failures"))
        user.lock.recent_failures.push_back(
            time_point(std::chrono::seconds(failure.get<std::int64_t>())));
      user.lock.locked_permanently = entry.at("locked_permanently").get<bool>();
      if (entry.contains("locked_until"))
        user.lock.locked_until =
            time_point(std::chrono::seconds(entry.at("locked_until").get<std::int64_t>()));
      data.users.emplace(user.name, std::move(user));
    }
    for (const auto& entry : document.at("extensions")) {
      extension_record record;
      record.number = entry.at("number").get<std::string>();
      record.phone_password_digest = {entry.at("ha1_md5").get<std::string>(),
                                      entry.at("ha1_sha256").get<std::string>()};
      record.has_phone_password = entry.at("has_phone_password").get<bool>();
      record.force_authorization = entry.at("force_authorization").get<bool>();
      // Absent in encodings from before SPEC SIP-5: not a remote worker.
      if (entry.contains("phone_password_remote_grade"))
        record.phone_password_remote_grade = entry.at("phone_password_remote_grade").get<bool>();
      if (entry.contains("remote_worker_address"))
        record.remote_worker_address = entry.at("remote_worker_address").get<std::string>();
      // Absent = the system setting (and in encodings from before SPEC MED-2).
      if (entry.contains("media_security")) {
        auto level = stored_level(entry.at("media_security"),
                                  "extension " + record.number + " media_security");
        if (!level)
          return std::unexpected(with_context("damaged telephony directory", level.error()));
        record.media_security = *level;
      }
      if (entry.contains("srtp")) {
        auto profile = stored_srtp(entry.at("srtp"), "extension " + record.number + " srtp");
        if (!profile)
          return std::unexpected(with_context("damaged telephony directory", profile.error()));
        record.srtp = *profile;
      }
      data.extensions.emplace(record.number, std::move(record));
    }
    // Absent in encodings from before the SIP policy: the defaults.
    if (document.contains("sip_policy")) {
      auto policy = policy_of(document.at("sip_policy"));
      if (!policy)
        return std::unexpected(with_context("damaged telephony directory", policy.error()));
      data.policy = std::move(*policy);
    }
    // Absent in encodings from before the dial plan (SPEC TF-1..TF-9): the defaults.
    if (document.contains("dial_plan")) {
      auto plan = decode_dial_plan(document.at("dial_plan").dump());
      if (!plan)
        return std::unexpected(with_context("damaged telephony directory", plan.error()));
      data.dial_plan = std::move(*plan);
    }
    return data;
  } catch (const json::exception& e) {
    return std::unexpected(
        error{errc::damaged_record, std::string("damaged telephony directory: ") + e.what()});
  }
}

} // namespace ward::telephony
