#pragma once

#include "core/random.hpp"
#include "telephony/directory.hpp"
#include "telephony/error.hpp"
#include "telephony/sip_digest.hpp"
#include "telephony/sip_message.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ward::telephony {

/// How a registrar answers REGISTER (SPEC SIP-1, SIP-2, SIP-3).
struct registrar_settings {
  using time_point = std::chrono::system_clock::time_point;

  /// Shorter non-zero intervals get 423 with Min-Expires (RFC 3261 10.3 step 7).
  std::chrono::seconds min_expires{60};
  /// Longer intervals are shortened to this.
  std::chrono::seconds max_expires{3600};
  /// Used when neither the contact nor the request says.
  std::chrono::seconds default_expires{3600};
  /// Offered first (RFC 8760: the client takes the first it supports).
  digest_algorithm preferred = digest_algorithm::sha256;
  /// MD5 only for old phones (SPEC SIP-2); SHA-256 is always offered.
  bool offer_md5 = true;
  /// Off only for sites whose phones refuse a challenge that offers anything but MD5 (some
  /// old SIP stacks fail the whole authentication when they see SHA-256).
  bool offer_sha256 = true;
  /// Contacts one extension may bind; a further one replaces the binding expiring soonest,
  /// so a stolen password cannot grow the table.
  std::size_t max_bindings_per_extension = 10;
  /// Nonces whose counters are remembered for replay protection (nonce_counter_window).
  std::size_t replay_window = 65536;
};

/// What became of one REGISTER.
enum class register_status : std::uint8_t {
  /// 401 with fresh challenges: the request carried no credentials for this realm, or a
  /// nonce this cluster never issued.
  challenged,
  /// 200: the bindings were added or refreshed, or the request was a query (no Contact).
  registered,
  /// 200: Expires 0 or "*" removed bindings.
  unregistered,
  /// 403: wrong password, unknown extension, username not the To extension, locked user.
  forbidden,
  /// 404: the To URI names no extension at all (not used for unknown extensions: those
  /// are answered exactly like a wrong password so nobody can list the valid ones).
  not_found,
  /// 400 (416 for a Request-URI scheme other than sip/sips): not a REGISTER, a malformed
  /// Authorization, no qop, a digest uri other than the Request-URI, a misused "*".
  bad_request,
  /// 423 with Min-Expires.
  interval_too_brief,
  /// 401 with stale=true: right password, nonce past its lifetime (RFC 7616 3.3).
  stale_nonce,
  /// 401 with stale=true: right password, but the nonce count was used before. A
  /// retransmission must be absorbed by the transaction layer before it gets here.
  replayed,
};

std::string_view to_string(register_status status);

/// The answer to one REGISTER and what the guard and the audit trail need to know about it.
struct register_outcome {
  register_status status = register_status::bad_request;
  int code = 400;
  std::string_view reason = "Bad Request";
  /// WWW-Authenticate (one per algorithm, preferred first), Contact (every current binding
  /// with its remaining expiry) or Min-Expires; ready for build_response().
  std::vector<std::pair<std::string, std::string>> headers;
  /// The extension named by the To URI; empty when there is none.
  std::string extension;
  /// Counts toward blacklisting (SPEC SIP-4): a wrong password, an unknown extension, a
  /// username other than the To extension. A first request without credentials does not.
  bool auth_failure = false;
  /// SPEC SIP-3: the extension did not exist and auto-create was on, so the binding was made
  /// without authentication; the node creates the extension.
  bool auto_created = false;
  /// The algorithm of credentials that verified; nullopt otherwise (and for extensions that
  /// may register without authorization).
  std::optional<digest_algorithm> algorithm;
  /// For the audit log; never sent to the phone (it would tell unknown from wrong).
  std::string detail;
};

/// One contact bound to an extension.
struct registration_binding {
  using time_point = std::chrono::system_clock::time_point;
  std::string extension;
  /// The contact URI as parsed.
  std::string contact;
  time_point expires_at{};
  /// "ip:port" the REGISTER came from, and over which transport: where requests go back to
  /// a phone behind NAT.
  std::string source;
  transport kind = transport::udp;
  std::string call_id;
  std::uint32_t cseq = 0;
  std::string user_agent;
  /// False for an extension with force_authorization off and no secret.
  bool authenticated = true;
  bool operator==(const registration_binding&) const = default;
};

/// The registrar of one node (RFC 3261 section 10.3): digest authentication against the
/// directory (SPEC SIP-2) and the table of bindings. Pure: time, randomness and the
/// directory come in as arguments, decisions go out as outcomes. Not thread-safe: one per
/// registrar actor.
///
/// The realm is the nonce authority's; it must be the realm the directory computed its HA1
/// values with, or no password will ever verify.
class registrar {
public:
  using time_point = std::chrono::system_clock::time_point;

  /// Validates the settings (min <= default <= max, MD5 offered when preferred, bounds).
  static std::expected<registrar, error> create(nonce_authority nonces,
                                                registrar_settings settings = {});

  /// Authenticates and applies one REGISTER from `source` ("ip:port") over `kind`.
  register_outcome handle_register(const sip_message& request, const std::string& source,
                                   transport kind, const telephony_directory_data& directory,
                                   time_point now, const random_source& random);

  /// Authenticates a request that starts a call (SPEC SIP-2, SIP-6) as the extension its From
  /// URI names, against Proxy-Authorization; code 200 means go on (`algorithm` says whether
  /// credentials verified), 407 carries fresh challenges, 403 a failure the guard counts.
  register_outcome authorize_request(const sip_message& request,
                                     const telephony_directory_data& directory, time_point now,
                                     const random_source& random);

  /// Every unexpired binding, sorted by extension then contact.
  std::vector<registration_binding> bindings(time_point now) const;
  /// The unexpired bindings of one extension, sorted by contact.
  std::vector<registration_binding> lookup(std::string_view extension, time_point now) const;
  /// Drops expired bindings and returns them (for unregistration events).
  std::vector<registration_binding> expire(time_point now);

  const std::string& realm() const { return nonces_.realm(); }
  const registrar_settings& settings() const { return settings_; }

private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  /// Each binding as the public view shows it, so that lookups hand out copies as they are.
  using binding_table = std::unordered_map<std::string, std::vector<registration_binding>,
                                           string_hash, std::equal_to<>>;

  registrar(nonce_authority nonces, registrar_settings settings);

  register_outcome challenge(register_outcome out, register_status status, time_point now,
                             const random_source& random, bool proxy = false) const;
  /// Digest authentication of `request` as `user` (SPEC SIP-2): the phone password, else the
  /// login code; 200 when verified or not required, else the answer to send.
  register_outcome authenticate(register_outcome out, const sip_message& request,
                                std::string_view user, bool proxy,
                                const telephony_directory_data& directory, time_point now,
                                const random_source& random);
  register_outcome apply_contacts(register_outcome out, const sip_message& request,
                                  const std::string& source, transport kind, bool authenticated,
                                  time_point now);
  void add_contact_headers(register_outcome& out, time_point now) const;
  /// The telephony user whose extension `number` is, through an index rebuilt whenever the
  /// directory's version or user count changes.
  const telephony_user* owner_of(const telephony_directory_data& directory,
                                 std::string_view number);

  nonce_authority nonces_;
  registrar_settings settings_;
  nonce_counter_window counters_;
  binding_table bindings_;
  /// Extension number to user name, for the login-code fallback (SPEC SIP-2).
  std::unordered_map<std::string, std::string, string_hash, std::equal_to<>> owners_;
  std::uint64_t owners_version_ = 0;
  std::size_t owners_count_ = 0;
  bool owners_indexed_ = false;
};

} // namespace ward::telephony
