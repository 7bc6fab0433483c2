#pragma once

#include "core/random.hpp"
#include "telephony/b2bua.hpp"
#include "telephony/dial_plan.hpp"
#include "telephony/directory.hpp"
#include "telephony/fraud_meter.hpp"
#include "telephony/registrar.hpp"
#include "telephony/sip_guard.hpp"
#include "telephony/sip_message.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ward::telephony {

/// Why the pipeline stopped a message before a method handled it, and so what the transport
/// does with it: answer with `status_of()` (0: no answer at all) and count it (the comment
/// of each value says which counter).
enum class sip_refusal : std::uint8_t {
  /// The guard refused the source (not allowed, blacklisted, flooding; SPEC SIP-4) before
  /// anything was parsed: no answer, counted as dropped.
  guarded,
  /// A CRLF keep-alive (RFC 5626 4.4.1), or anything of four bytes or fewer: no answer,
  /// not counted.
  keep_alive,
  /// A STUN keep-alive (RFC 5626 4.4.2) sent to the SIP port: no answer, not counted.
  stun,
  /// Neither a request line nor a status line: no answer, counted as malformed and, for a
  /// socket peer, toward its blacklisting.
  not_sip,
  /// A start line the parser accepted but a message it refused: as `not_sip`.
  malformed,
  /// SPEC SIP-4: a User-Agent the policy refuses (scanners announce themselves): no answer,
  /// counted as a refused user agent and toward the source's blacklisting.
  user_agent,
  /// SPEC SIP-4: a blacklisted extension registering or calling: 403, not counted.
  extension_blacklisted,
  /// An INVITE with a To tag, a BYE or a CANCEL that matches no dialog: 481.
  no_dialog,
  /// An INVITE to a number the dial plan does not know: 404.
  unknown_number,
  /// An INVITE the dial plan bars for this caller: 403.
  barred,
  /// SPEC TF-2: an emergency call with no emergency route configured: 503 with a Warning.
  no_emergency_route,
  /// An INVITE to an extension registered nowhere: 480.
  unavailable,
  /// SPEC SIP-5: a remote worker's REGISTER from another address than its pinned one, or
  /// not over TLS while remote workers are enabled: 403 with a Warning, counted toward
  /// blacklisting like a wrong password.
  remote_worker_rules,
  /// SPEC TF-9: an outside call whose trunks are all disabled or at their channel limit, or
  /// a call from a trunk at its limit: 503.
  no_trunk_available,
  /// SPEC TF-9: a call from a trunk that is disabled: 403.
  trunk_disabled,
  /// A short code that changes a setting (outgoing call bar, forwarding, authorization
  /// code) dialled from a phone: 403 until phones can use them.
  feature_code,
};

std::string_view to_string(sip_refusal refusal);

/// The answer a refusal gets: status 0 means none at all.
struct sip_refusal_answer {
  int status = 0;
  std::string_view reason;
  /// A Warning header value, or empty.
  std::string_view warning;
};

sip_refusal_answer answer_of(sip_refusal refusal);

/// What one stage decided: go on (with what the next stage needs) or a refusal.
template <typename T = void> using sip_stage = std::expected<T, sip_refusal>;

/// Stage 1, the guard (SPEC SIP-4): decides before anything is parsed, so blacklisted,
/// refused and flooding sources cost one lookup. Lines are authenticated nodes and pass.
sip_stage<> admit_source(sip_guard& guard, const sip_endpoint& from,
                         std::chrono::system_clock::time_point now);

/// Stage 2, keep-alives: CRLF and STUN keep-alives are neither messages nor malformed.
sip_stage<> skip_keep_alive(std::string_view data);

/// Stage 3, the parser: a message with a SIP start line that parses. What fails is counted
/// toward the blacklisting of a socket peer.
sip_stage<sip_message> parse_stage(std::string_view data, const sip_endpoint& from,
                                   sip_guard& guard, std::chrono::system_clock::time_point now);

/// Stage 4 for requests, the User-Agent screen (SPEC SIP-4); lines are not screened.
sip_stage<> screen_user_agent(const sip_policy& policy, const sip_message& request,
                              const sip_endpoint& from, sip_guard& guard,
                              std::chrono::system_clock::time_point now);

/// Stage 5, dialog match: whether `message` belongs to a call the B2BUA knows (then what
/// the call sends is appended to `sends`). Responses stop here whether matched or not.
bool match_dialog(b2bua& calls, const sip_message& message, const sip_endpoint& from,
                  std::chrono::system_clock::time_point now, const random_source& random,
                  std::vector<sip_send>& sends);

/// Stage 6 for REGISTER and INVITE: a blacklisted extension neither registers nor calls,
/// whatever password it offers, until the blacklisting lapses or is reset (SPEC SIP-4).
sip_stage<> screen_extension(const sip_message& request, const sip_endpoint& from,
                             const sip_guard& guard, std::chrono::system_clock::time_point now);

/// Which node each extension registered elsewhere is on (SPEC SIP-6), as the other nodes
/// announce it; an announcement not refreshed within a minute lapses.
class location_table {
public:
  using time_point = std::chrono::system_clock::time_point;
  /// Replaces what `node` has registered; `extensions` sorted.
  void replace(std::string node, std::vector<std::string> extensions, time_point now);
  /// The first node other than `self`, in name order, whose fresh announcement lists
  /// `extension`; empty when none.
  std::string find(const std::string& extension, std::string_view self, time_point now) const;

private:
  struct entry {
    std::vector<std::string> extensions;
    time_point refreshed{};
  };
  std::map<std::string, entry> nodes_;
};

/// Where an extension is registered: its binding here expiring last, else (unless
/// `local_only`, as for calls that came over a line) a node whose location table lists it.
call_target locate(const registrar& registrar, const location_table& locations,
                   std::string_view self, const std::string& extension, bool local_only,
                   std::chrono::system_clock::time_point now);

/// SPEC MED-2, MED-3: each leg's media security (the extension's override, or the line's for
/// a leg that is a cluster line, else the system setting), and direct media only between
/// phones on this node's own network.
call_media_policy media_policy_for(const telephony_directory_data& directory,
                                   const sip_endpoint& from, const std::string& caller,
                                   const call_target& target, bool emergency);

/// SPEC TF-3: a call the dial plan barred, for the metric and the call record.
struct barred_call {
  std::string caller;
  std::string dialled;
  bar_reason reason = bar_reason::short_code;
  /// A Barred short code asked for a call record (its telephone field holds SMDR), or the
  /// barring was by class, outgoing call bar or NoUser, which are always recorded.
  bool record = false;
  std::string detail;
};

/// SPEC TF-9: the trunk whose address `from` is (same transport and address; the port is
/// not compared, carriers send from several), or nullptr.
const trunk_config* trunk_from(const dial_plan_config& plan, const sip_endpoint& from);

/// SPEC TF-9: the extension an incoming route sends `dialled` from `trunk` to: the
/// best-ranked route for this trunk or for any trunk; empty when none.
std::string route_incoming(const compiled_dial_plan& plan, std::string_view trunk,
                           std::string_view dialled);

/// SPEC TF-2: an emergency call, for the alarm and the audit trail.
struct emergency_call {
  std::string caller;
  std::string dialled;
  /// The extension it rings; empty without a route.
  std::string route;
};

/// What became of one message, for the node's counters and callbacks. The answers and
/// requests to send are appended to the `sends` handed to `sip_pipeline::process`.
struct sip_outcome {
  /// Set when a stage refused the message; its answer, if any, is already in `sends`.
  std::optional<sip_refusal> refusal;
  /// An INVITE was handed to the B2BUA to start a call (counted even if the B2BUA refuses).
  bool call_started = false;
  /// A REGISTER changed the bindings.
  bool bindings_changed = false;
  std::optional<emergency_call> emergency;
  std::optional<barred_call> barred;
  /// SPEC TF-10: an outside call left through a trunk (not an emergency call), for the fraud
  /// rules; its id is the caller's Call-ID.
  std::optional<metered_call> outside_call;
  /// SPEC SIP-3: an unknown extension registered while auto-create was on, and from where.
  std::optional<std::pair<std::string, std::string>> auto_created;
};

/// The SIP request pipeline of one node: guard → keep-alive → parse → (User-Agent screen)
/// → dialog match → method. Pure of I/O and threads: the node's worker hands it each
/// message with the time and the directory, sends what it appends to `sends` and counts
/// the outcome. It owns the response cache that answers retransmitted REGISTER and OPTIONS
/// requests without processing them twice.
class sip_pipeline {
public:
  using time_point = std::chrono::system_clock::time_point;
  /// How long a response is kept for retransmissions of its request (RFC 3261 Timer J).
  static constexpr auto retransmission_window = std::chrono::seconds(32);
  static constexpr std::size_t max_cached_responses = 200'000;

  /// `node` is this node's name; the references must outlive the pipeline. `locations`
  /// is what the other nodes announced (SPEC SIP-6), kept up to date by the caller.
  sip_pipeline(std::string node, registrar& registrar, sip_guard& guard, b2bua& calls,
               const location_table& locations, random_source random);

  /// One message from `from` through every stage.
  sip_outcome process(std::string_view data, const sip_endpoint& from, time_point now,
                      const telephony_directory_data& directory, std::vector<sip_send>& sends);

  /// Forgets responses whose retransmission window passed.
  void expire(time_point now);
  /// The node's time zone, for time profiles (SPEC TF-2); system_zone() unless set.
  void set_zone(zone_converter zone) { zone_ = std::move(zone); }
  /// SPEC TF-10: users and trunks this node's fraud rules hold while its line to the
  /// primary is down.
  void set_fraud_holds(fraud_holds holds) { holds_ = std::move(holds); }
  std::size_t cached_responses() const { return responses_.size(); }

private:
  struct request_context {
    const sip_message& message;
    const sip_endpoint& from;
    time_point now;
    const telephony_directory_data& directory;
    std::vector<sip_send>& sends;
    sip_outcome& outcome;
  };
  void handle_request(const request_context& request);
  void handle_invite(const request_context& request);
  /// REGISTER, OPTIONS and what is not implemented: answered once, retransmissions from
  /// the response cache.
  void answer_once(const request_context& request);
  std::string answer_register(const request_context& request, const std::string& source,
                              std::string_view tag);
  void reply(const request_context& request, int code, std::string_view reason,
             const std::vector<std::pair<std::string, std::string>>& headers = {});
  void refuse(const request_context& request, sip_refusal refusal, std::string_view warning = {});
  /// An INVITE from a trunk (SPEC TF-9): no digest, an incoming route to an extension.
  void handle_trunk_invite(const request_context& request, const trunk_config& trunk);
  /// The trunk's call to `extension`, wherever it is registered.
  void start_trunk_call_to(const request_context& request, const trunk_config& trunk,
                           const std::string& caller, const std::string& extension);
  /// SPEC TF-6: where a call to `extension` goes when its user forwards every call there
  /// (one hop: a forward's own forward is not followed); nullopt when it is not forwarded.
  std::optional<dial_result> forwarded(const request_context& request,
                                       const compiled_dial_plan& plan, const std::string& extension,
                                       bool from_trunk) const;
  /// A forward the rules refuse: 403, recorded and counted like any barred call.
  /// `shown` is what the records show as dialled (never an authorization code).
  void refuse_forward(const request_context& request, const std::string& caller,
                      const std::string& shown, const dial_result& route);
  /// An outside call: the first trunk of `route` that is enabled and has a free channel.
  void start_outside_call(const request_context& request, const std::string& caller,
                          const outside_route& route, bool emergency);
  /// The dial plan compiled for `directory`, compiled again when its dial plan, emergency
  /// numbers, users or extensions changed; nullptr when it does not compile.
  const compiled_dial_plan* plan_for(const telephony_directory_data& directory);

  std::string node_;
  registrar& registrar_;
  sip_guard& guard_;
  b2bua& calls_;
  const location_table& locations_;
  random_source random_;
  struct cached {
    std::string response;
    time_point until;
  };
  std::unordered_map<std::string, cached> responses_;
  zone_converter zone_ = system_zone();
  fraud_holds holds_;
  /// What plan_ was compiled from.
  struct plan_inputs {
    dial_plan_config plan;
    std::vector<std::string> emergency_numbers;
    std::size_t users = 0;
    std::size_t extensions = 0;
    std::uint64_t version = 0;
  };
  std::optional<plan_inputs> plan_inputs_;
  std::optional<compiled_dial_plan> plan_;
};

} // namespace ward::telephony
