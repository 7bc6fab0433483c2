#pragma once

#include "core/random.hpp"
#include "telephony/error.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

/// Digest algorithms a registrar offers (SPEC SIP-2): SHA-256 per RFC 8760, MD5 only
/// because old phones know nothing else.
enum class digest_algorithm : std::uint8_t { md5, sha256 };

/// "MD5" or "SHA-256", as written in challenges.
std::string_view to_string(digest_algorithm algorithm);
/// Case-insensitive; the "-sess" variants are refused: they need the client's cnonce in HA1,
/// which a stored HA1 cannot provide.
std::optional<digest_algorithm> parse_digest_algorithm(std::string_view text);

/// What a nonce presented by a client turned out to be.
enum class nonce_status : std::uint8_t {
  /// Issued by a node holding the secret, within its lifetime.
  valid,
  /// Authentic but expired (or evicted from the replay window): the client gets a fresh
  /// challenge with stale=true and retries without asking the user.
  stale,
  /// Not issued by us: malformed, wrong length, or a MAC that does not verify.
  forged,
};

std::string_view to_string(nonce_status status);

/// Stateless nonces: base64url(timestamp(8) || random(8) || HMAC-SHA256(secret,
/// timestamp || random || realm)[0..16]). Any node holding the secret validates a nonce
/// another node issued, so a phone may register anywhere without shared nonce state.
class nonce_authority {
public:
  using time_point = std::chrono::system_clock::time_point;

  /// Length of an issued nonce: 32 bytes in unpadded base64url.
  static constexpr std::size_t nonce_length = 43;
  /// Clock difference tolerated between nodes for nonces stamped "in the future".
  static constexpr std::chrono::seconds clock_skew{30};

  nonce_authority(std::array<std::byte, 32> secret, std::string realm,
                  std::chrono::seconds lifetime);

  std::string issue(time_point now, const random_source& random) const;
  nonce_status check(std::string_view nonce, time_point now) const;

  const std::string& realm() const { return realm_; }
  std::chrono::seconds lifetime() const { return lifetime_; }

private:
  std::array<unsigned char, 16> mac(std::span<const unsigned char, 16> stamp_and_random) const;

  std::array<std::byte, 32> secret_;
  std::string realm_;
  std::chrono::seconds lifetime_;
};

/// The issue time (seconds since the epoch) carried by a well-formed nonce; no
/// authenticity check: call nonce_authority::check first.
std::optional<std::int64_t> nonce_issue_time(std::string_view nonce);

/// Replay protection for nonce counts (RFC 7616 section 3.3): remembers, for a bounded
/// number of nonces, the highest nc accepted. Memory is one fixed table allocated up front.
/// When full, the nonce first seen longest ago is evicted and every nonce issued no later
/// than it becomes unacceptable (the registrar answers stale=true), so eviction can never
/// let a counter be accepted twice. Size it for the nonces first used within a challenge
/// round trip plus re-use: 64k covers more than 6 s at 10,000 new nonces/s. Timestamps have
/// one-second granularity, so nonces issued in the evicted one's second are refused too.
/// Not thread-safe: one window per worker or a lock.
class nonce_counter_window {
public:
  explicit nonce_counter_window(std::size_t capacity = 65536);

  /// True when `nc` is strictly above every count accepted for `nonce`. A nonce without
  /// qop (old phones) has no count: pass 1, which makes the nonce single-use.
  bool accept(std::string_view nonce, std::uint32_t nc);

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return ring_.size(); }
  /// Nonces issued at or before this second are refused unless still tracked.
  std::int64_t evicted_through() const { return evicted_through_; }

private:
  struct slot {
    std::array<unsigned char, 32> key{};
    std::int64_t issued = 0;
    std::uint32_t nc = 0;
    bool used = false;
  };
  static constexpr std::uint32_t empty = 0xffffffffu;

  std::size_t home(const std::array<unsigned char, 32>& key) const;
  std::size_t find(const std::array<unsigned char, 32>& key) const;
  void erase_index(std::size_t position);

  std::vector<slot> ring_;
  /// Open addressing with linear probing; entries are ring indexes.
  std::vector<std::uint32_t> index_;
  std::size_t next_ = 0;
  std::size_t size_ = 0;
  std::int64_t evicted_through_ = std::numeric_limits<std::int64_t>::min();
};

/// "00000001" → 1: exactly 8 hex digits (RFC 7616), anything else refused.
std::optional<std::uint32_t> parse_nonce_count(std::string_view nc);

/// Whether `c` may appear in an RFC 3261 token.
bool is_sip_token_char(char c);

/// The fields of an Authorization header a registrar needs, quotes and escapes removed.
struct digest_credentials {
  std::string username, realm, nonce, uri, response, cnonce, qop, nc, opaque;
  digest_algorithm algorithm = digest_algorithm::md5;
};

/// Recomputes the response from HA1 (RFC 2617 / 7616 / 8760) with qop=auth, or the
/// RFC 2069 form when the client sent no qop, and compares in constant time. The HA1 must
/// match the algorithm (32 or 64 hex digits); the caller picks it from the username.
bool verify_response(const digest_credentials& credentials, std::string_view method,
                     std::string_view ha1_hex);

/// The value of a WWW-Authenticate header offering one algorithm with qop=auth.
std::string make_challenge(std::string_view realm, std::string_view nonce,
                           digest_algorithm algorithm, bool stale);

/// A server's digest challenge as a client answers it (a carrier challenging a call the
/// node sends through a trunk, SPEC TF-9).
struct digest_challenge {
  std::string realm, nonce, opaque;
  digest_algorithm algorithm = digest_algorithm::md5;
  /// The server offered qop=auth; without it the RFC 2069 form is answered.
  bool qop_auth = false;
};

/// The challenge of a WWW-Authenticate or Proxy-Authenticate value; nullopt when it is not
/// Digest, lacks a realm or nonce, names an algorithm Ward does not compute, or offers
/// only a qop other than auth.
std::optional<digest_challenge> parse_challenge(std::string_view value);

/// The Authorization (or Proxy-Authorization) value answering `challenge` for `method` on
/// `uri` as `username` with `password`, with nonce count 1 and `cnonce`.
std::string answer_challenge(const digest_challenge& challenge, std::string_view username,
                             std::string_view password, std::string_view method,
                             std::string_view uri, std::string_view cnonce);

/// Longest Authorization header value parsed; anything longer is hostile.
inline constexpr std::size_t max_authorization_length = 4096;

/// A strict parser of an Authorization header value (`Digest` auth-params, RFC 7616 /
/// RFC 3261 syntax): tokens or quoted-strings with escapes, duplicates refused, unknown
/// parameters ignored, required ones checked. Total: every input yields a value or an error.
std::expected<digest_credentials, error> parse_authorization(std::string_view header_value);

} // namespace ward::telephony
