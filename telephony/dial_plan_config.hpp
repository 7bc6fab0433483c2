#pragma once

#include "media/media_policy.hpp"
#include "telephony/ars.hpp"
#include "telephony/auth_code.hpp"
#include "telephony/call_barring.hpp"
#include "telephony/error.hpp"
#include "telephony/fraud_rule.hpp"
#include "telephony/short_code.hpp"
#include "telephony/sip_message.hpp"
#include "telephony/time_profile.hpp"

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

/// A SIP trunk: a carrier's SIP peer the cluster places and takes outside calls through
/// (SPEC TF-9). Only its address may send calls in as the trunk.
struct trunk_config {
  /// 1 to 31 of a-z 0-9 -.
  std::string name;
  /// Numeric IPv4 or IPv6 address of the carrier's SIP server.
  std::string address;
  std::uint16_t port = 5061;
  /// udp, tcp or tls; TLS checks the carrier's certificate at the telephony check level.
  transport kind = transport::tls;
  /// The carrier's SIP domain: the Request-URI host of outgoing calls and, over TLS, the
  /// identity its certificate must show (RFC 5922). Empty = the address.
  std::string domain;
  /// Digest credentials the carrier challenges for; empty username = none.
  std::string username;
  std::string password;
  /// The number presented as the caller towards the carrier; empty = the caller's extension.
  std::string caller_id;
  /// The most calls at once through this trunk, in and out (SPEC TF-9); 1 to 10000.
  std::uint32_t channels = 30;
  /// The trunk leg's media security; nullopt = the system's.
  std::optional<media::media_security> media_security;
  /// Disabled by an administrator or by a fraud rule (SPEC TF-10): no calls either way.
  bool enabled = true;
  bool operator==(const trunk_config&) const = default;
};

/// Where a call a trunk brings in goes (SPEC TF-9): the called number (a short code pattern,
/// DDI digits) to an extension. `trunk` empty = from any trunk.
struct incoming_route {
  std::string trunk;
  std::string number;
  std::string extension;
  bool operator==(const incoming_route&) const = default;
};

/// Call forwarding of one user (SPEC TF-6); empty = off.
struct forwarding {
  std::string unconditional;
  std::string on_busy;
  std::string on_no_answer;
  bool operator==(const forwarding&) const = default;
};

/// A user rights template (SPEC TF-1, TF-2): short codes and barring shared by its users.
struct rights_template {
  std::string name;
  std::vector<short_code> short_codes;
  class_barring barring;
  /// SPEC TF-6 per template; the system setting still wins.
  bool inhibit_off_switch = false;
  bool operator==(const rights_template&) const = default;
};

/// One user's dial settings, beside the user's record in the directory.
struct user_dial_settings {
  /// Empty = no template.
  std::string rights_template;
  std::vector<short_code> short_codes;
  class_barring barring;
  /// SPEC TF-7 "Outgoing Call Bar On": only internal and emergency calls.
  bool outgoing_call_barred = false;
  /// SPEC TF-6: forward or transfer to outside numbers refused for this user.
  bool inhibit_off_switch = false;
  forwarding forward;
  /// SPEC TF-5, TF-10: outside calls only with an authorization code (set by an
  /// administrator or by a fraud rule's require_auth_code action).
  bool auth_code_required = false;
  bool operator==(const user_dial_settings&) const = default;
};

/// The cluster's dial plan (SPEC TF-1..TF-9), kept in the telephony directory and
/// replicated with it.
struct dial_plan_config {
  std::vector<short_code> system_short_codes;
  std::map<std::string, rights_template> templates;
  /// Keyed by telephony user name.
  std::map<std::string, user_dial_settings> users;
  /// Always holds 50:Main.
  std::vector<ars_table> ars_tables{ars_table{}};
  std::vector<time_profile> time_profiles;
  numbering_plan numbering = preset_plan(numbering_preset::nanp);
  class_barring system_barring = default_system_barring();
  /// SPEC TF-6: no forward or transfer to an outside number for anyone; wins over users.
  bool inhibit_off_switch = false;
  /// SPEC TF-6: a call from a trunk transferred or forwarded to a trunk; off by default.
  bool trunk_to_trunk_transfer = false;
  std::map<std::string, trunk_config> trunks;
  std::vector<incoming_route> incoming_routes;
  /// SPEC TF-10, in the order they were made.
  std::vector<fraud_rule> fraud_rules;
  /// SPEC TF-5: at most one code per user and per template, kept as keyed hashes under
  /// `auth_code_key` (made with the first code; never shown, sent only over lines).
  std::vector<auth_code_entry> auth_codes;
  std::string auth_code_key;
  bool operator==(const dial_plan_config&) const = default;
};

inline constexpr std::size_t max_trunks = 64;
inline constexpr std::size_t max_rights_templates = 256;
inline constexpr std::size_t max_incoming_routes = 2000;
inline constexpr std::size_t max_time_profiles = 64;

/// A dial plan checked and compiled for matching. Built whenever the dial plan, the
/// emergency numbers or the extensions change; the SIP worker holds one.
struct compiled_dial_plan {
  std::vector<compiled_short_code> system_codes;
  std::map<std::string, std::vector<compiled_short_code>, std::less<>> template_codes;
  std::map<std::string, std::vector<compiled_short_code>, std::less<>> user_codes;
  compiled_ars ars;
  compiled_numbering_plan numbering;
  /// The incoming routes' number patterns, in the order of source.incoming_routes.
  std::vector<std::vector<code_symbol>> incoming;
  dial_plan_config source;
};

/// Checks `config` against the SIP policy's `emergency_numbers` and the directory's user
/// names and extensions: names and ranges, every short code set, ARS tables and time
/// profiles, the numbering plan, trunks (and that the ARS tables name existing trunks),
/// templates users refer to, incoming routes to existing extensions, forwarding targets
/// that are numbers, fraud rules whose subjects and time profiles exist. errc::invalid_config, the
/// detail reading "field: reason".
std::expected<compiled_dial_plan, error>
compile_dial_plan(const dial_plan_config& config, std::span<const std::string> emergency_numbers,
                  const std::map<std::string, std::string>& user_extensions,
                  std::span<const std::string> extension_numbers);

/// The dial plan as the JSON object the directory encoding holds, trunk passwords left out
/// when `with_secrets` is false (for audit trails and reads).
std::string encode_dial_plan(const dial_plan_config& config, bool with_secrets);
std::expected<dial_plan_config, error> decode_dial_plan(std::string_view text);

} // namespace ward::telephony
