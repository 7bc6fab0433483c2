#pragma once

#include "telephony/dial_plan_config.hpp"
#include "telephony/directory.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ward::telephony {

/// What the dial plan makes of a dialled number (SPEC SIP-6; the short codes, ARS tables and
/// barring of SPEC TF-1..TF-5 extend it).
enum class dial_outcome : std::uint8_t {
  /// An internal extension: the call goes to where it is registered.
  extension,
  /// One of the policy's emergency numbers (SPEC TF-1 "Dial Emergency", TF-2, TF-5): never
  /// barred, rung at the emergency extension, and its media falls back to RTP where Enforce
  /// cannot be met (SPEC MED-2). `extension` is empty when no emergency route is configured.
  emergency,
  /// Nothing the dial plan knows: 404.
  unknown,
  /// The dial plan refuses this caller this number: 403.
  barred,
  /// An outside number, leaving through a trunk (SPEC TF-2, TF-9).
  outside,
  /// A short code that changes the caller's settings rather than calling (SPEC TF-1, TF-6,
  /// TF-7): outgoing call bar, forwarding.
  feature,
  /// Overlap dialling: more digits are needed (484).
  incomplete,
};

std::string_view to_string(dial_outcome outcome);

/// Why a call was barred, for the refusal, the call record and the metric (SPEC TF-3).
enum class bar_reason : std::uint8_t {
  /// A Barred short code of the user, template, system or ARS table matched.
  short_code,
  /// The destination's calling class is barred for the caller.
  calling_class,
  /// The caller's outgoing calls are barred (Outgoing Call Bar On).
  outgoing_call_bar,
  /// No user is logged in at the calling extension (SPEC TF-7 NoUser).
  no_user,
  /// An extension cannot call itself.
  own_extension,
  /// SPEC TF-10: a fraud rule holds the caller on this node while its line to the primary
  /// is down.
  fraud_hold,
  /// SPEC TF-5: an authorization code was wrong, or the caller needs one and gave none.
  auth_code,
  /// SPEC TF-6: a forward the rules refuse (inhibit off-switch, trunk to trunk, a target
  /// that is no number to forward to).
  forwarding,
};

inline constexpr std::size_t bar_reason_count = 8;

std::string_view to_string(bar_reason reason);

/// Where an outside call leaves (SPEC TF-2, TF-9).
struct outside_route {
  /// The number sent to the carrier.
  std::string number;
  /// Trunk names, in the order to try them.
  std::vector<std::string> trunks;
  calling_class of = calling_class::international;
  /// "51:Local & Long Distance": the table that decided.
  std::string ars;
  bool out_of_hours = false;
  /// Whose rights placed the call, for the fraud rules (SPEC TF-10); empty for an
  /// emergency call.
  std::string user;
  std::string rights_template;
};

struct dial_result {
  dial_outcome outcome = dial_outcome::unknown;
  /// The extension to ring, for dial_outcome::extension and dial_outcome::emergency.
  std::string extension;
  /// For the audit trail and the call record.
  std::string detail;
  /// dial_outcome::outside, and dial_outcome::emergency leaving through a trunk.
  std::optional<outside_route> outside;
  /// dial_outcome::barred.
  bar_reason barred_by = bar_reason::short_code;
  /// A Barred short code whose telephone field holds "SMDR" (SPEC TF-3): write a Barred
  /// call record.
  bool barred_record = false;
  /// dial_outcome::feature: the feature and the digits its code's wildcards took.
  short_code_feature feature = short_code_feature::dial;
  std::string feature_digits;
  /// SPEC TF-5: the call is placed with an authorization code's rights (the SMDR account
  /// code flag).
  bool account_code = false;
  /// SPEC TF-5: a wrong authorization code, to count like a wrong password.
  bool auth_failure = false;
  /// What logs and call records show as dialled when it differs from what was dialled: an
  /// authorization code's digits never appear.
  std::string dialled_shown;
};

/// One dialled number to resolve.
struct dial_request {
  /// The calling extension.
  std::string_view caller;
  std::string_view dialled;
  dialling mode = dialling::en_bloc;
  /// The node's local time, for time profiles.
  local_moment now;
  /// The user whose rights apply instead of the extension's (an authorization code's
  /// owner, SPEC TF-5); empty = the user at the calling extension.
  std::string_view rights_of;
  /// The template whose rights apply (a template's authorization code); empty = none.
  std::string_view rights_template_of;
  /// An authorization code was given: no NoUser bar, no "code required" bar.
  bool authorized = false;
};

/// Resolves a dialled number (SPEC TF-1..TF-5, TF-7), in this order:
/// 1. emergency numbers and the system's Dial Emergency codes: always permitted;
/// 2. the user's short codes, then the user's template's, then internal extensions, then
///    the system's short codes (within one set the best-ranked match);
/// 3. a Dial code's number goes to its ARS table (50:Main when it names none), whose match
///    decides: leave through the table's trunks, barred, or emergency;
/// 4. an outside number is classified after its caller-ID prefixes are taken off, and
///    barred when its class is barred for the user (user, template, system);
/// 5. outgoing-call-barred users and extensions without a user reach only internal and
///    emergency numbers; users who need an authorization code reach outside numbers only
///    with one;
/// 6. an Auth Code short code's digits read CODE#NUMBER: a code of a user or template places
///    NUMBER with its owner's rights (SPEC TF-5), a wrong one is barred.
/// The authorization-code key and entries are the plan's own.
dial_result resolve_dial(const telephony_directory_data& directory, const compiled_dial_plan& plan,
                         const dial_request& request);

/// SPEC TF-6: where `user`'s forward to `target` goes, resolved with the user's own rights
/// (from the user's extension): barred when the user may not dial it, when it leaves through
/// a trunk while off-switch forwarding is inhibited (the system's setting, the template's or
/// the user's: any one inhibits), when a call from a trunk (`from_trunk`) would leave through
/// a trunk while trunk-to-trunk transfer is off, and when it is an emergency number or no
/// number the dial plan knows. The same check refuses a forward when it is set and when it
/// is used.
dial_result resolve_forward(const telephony_directory_data& directory,
                            const compiled_dial_plan& plan, std::string_view user,
                            std::string_view target, const local_moment& now, bool from_trunk);

/// Routes `dialled` (the Request-URI user) for `caller`. Emergency numbers come first, so no
/// extension can shadow one; then internal extensions. A caller's own extension is barred
/// so a phone cannot loop calls through the node.
dial_result route_dialled(const telephony_directory_data& directory, std::string_view caller,
                          std::string_view dialled);

} // namespace ward::telephony
