#pragma once

#include "telephony/error.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ward::telephony {

/// What the transport does with a message (SPEC SIP-4).
enum class guard_verdict : std::uint8_t {
  pass,
  /// No answer at all: scanners learn nothing, and no amplification.
  drop_silently,
  reject_403,
  reject_503_rate,
  /// A blacklisted source: answered (or dropped) without parsing past the first line.
  blacklisted,
};

std::string_view to_string(guard_verdict verdict);

/// Every guard decision worth metrics, audit or an alarm.
enum class guard_event_kind : std::uint8_t {
  auth_failure_counted,
  address_blacklisted_temporary,
  address_blacklisted_permanent,
  extension_blacklisted_temporary,
  extension_blacklisted_permanent,
  rate_limited,
  allow_list_refused,
  user_agent_refused,
  malformed_counted,
  blacklist_reset,
  remote_worker_refused,
};

std::string_view to_string(guard_event_kind kind);

struct guard_event {
  using time_point = std::chrono::system_clock::time_point;
  guard_event_kind kind = guard_event_kind::auth_failure_counted;
  /// Canonical IP literal (inet_ntop form), empty when the event concerns an extension only.
  std::string address;
  std::string extension;
  /// For people reading the audit log; never parsed.
  std::string detail;
  /// End of a temporary blacklisting; what another node applies on replication.
  time_point until{};
  /// Blocks so far for the blacklisted address or extension (escalation state).
  std::uint32_t blocks = 0;
};

struct guard_policy {
  /// Failures of one address within `failure_window` that blacklist it; 0 = never.
  std::uint32_t failure_threshold = 10;
  std::chrono::seconds failure_window{60};
  /// Length of the first temporary block; each further block doubles it.
  std::chrono::seconds first_block{300};
  /// The Nth block is permanent until reset; 0 = blocks stay temporary.
  std::uint32_t blocks_before_permanent = 3;
  /// Failures of one extension within `failure_window` that blacklist it; 0 = never.
  std::uint32_t extension_failure_threshold = 20;
  /// Off when an SBC fronts the node: every message then comes from the SBC's address.
  bool address_blacklisting = true;
  /// CIDR blocks (IPv4 or IPv6) allowed to talk to the node; empty = all.
  std::vector<std::string> allow_list;
  /// Case-insensitive substrings; with a non-empty allow list, only matching agents pass.
  std::vector<std::string> user_agent_allow, user_agent_block;
  /// Token bucket per source address; 0 = no rate limit.
  std::uint32_t messages_per_second = 50;
  std::uint32_t burst = 100;
  /// Malformed messages count toward the address failure threshold: scanners send them.
  bool malformed_counts_as_failure = true;
  /// Memory bounds: idle, non-blacklisted entries are evicted first.
  std::size_t max_tracked_addresses = 100000;
  std::size_t max_tracked_extensions = 100000;
  /// Events waiting for drain_events(); beyond this they are counted and dropped.
  std::size_t max_pending_events = 10000;
  /// Seeds the address hash so nobody can aim source addresses at one hash bucket; the
  /// registrar sets it from the system random source.
  std::uint64_t hash_seed = 0x9e3779b97f4a7c15ull;
};

/// A remote worker's extension (SPEC SIP-5): registrations only from the pinned public
/// address; empty = not pinned.
struct remote_worker_rule {
  std::string pinned_address;
};

std::expected<void, error> validate_remote_worker_rule(const remote_worker_rule& rule);
/// True when the rule pins no address or `source` is the pinned one (any spelling).
bool remote_worker_source_allowed(const remote_worker_rule& rule, std::string_view source);

/// The RTP port range rule (SPEC SIP-5): even low port, low < high, no privileged ports,
/// and with remote workers the top stays at or below 50750.
std::expected<void, error> check_rtp_range(std::uint16_t low, std::uint16_t high,
                                           bool remote_workers_enabled);

/// Brute-force protection and admission control of a SIP node (SPEC SIP-4). Pure: time
/// comes in as arguments, decisions go out as verdicts and typed events. Not thread-safe.
class sip_guard {
public:
  using time_point = std::chrono::system_clock::time_point;

  struct blacklist_entry {
    /// Canonical IP literal or extension number.
    std::string key;
    bool permanent = false;
    /// End of a temporary block; meaningless when permanent.
    time_point until{};
    std::uint32_t blocks = 0;
    bool operator==(const blacklist_entry&) const = default;
  };

  /// Validates the policy (CIDR syntax, empty user-agent patterns, burst).
  static std::expected<sip_guard, error> create(guard_policy policy);

  /// The cheapest check, before any parsing: allow list, blacklist, rate limit.
  guard_verdict admit(std::string_view address, time_point now);

  /// Pure user-agent screening: block list first, then the allow list.
  guard_verdict check_user_agent(std::string_view user_agent) const;
  /// The same, recording a refusal as an event.
  guard_verdict check_user_agent(std::string_view address, std::string_view user_agent);

  /// Refuses a remote worker's registration from anywhere but its pinned address.
  guard_verdict check_remote_worker(const remote_worker_rule& rule, std::string_view address,
                                    std::string_view extension);

  void record_auth_failure(std::string_view address, std::string_view extension, time_point now);
  /// Clears the extension's failure count. The address's count stays: otherwise one valid
  /// account would let an attacker interleave successes with guesses at other extensions.
  void record_auth_success(std::string_view address, std::string_view extension);
  void record_malformed(std::string_view address, time_point now);

  /// An administrator's reset: true when the address or extension had any blacklisting.
  bool reset_address(std::string_view address);
  bool reset_extension(std::string_view extension);

  bool is_address_blacklisted(std::string_view address, time_point now) const;
  bool is_extension_blacklisted(std::string_view extension, time_point now) const;

  std::vector<guard_event> drain_events();
  std::uint64_t dropped_events() const { return dropped_events_; }

  /// Currently blacklisted entries, sorted by key, for the status API.
  std::vector<blacklist_entry> blacklisted_addresses(time_point now) const;
  std::vector<blacklist_entry> blacklisted_extensions(time_point now) const;

  /// Applies a blacklisting or reset replicated from another node; emits nothing, so
  /// replication cannot loop. Counting events are local and ignored.
  void apply_remote(const guard_event& event, time_point now);

  std::size_t tracked_addresses() const { return addresses_.size(); }
  std::size_t tracked_extensions() const { return extensions_.size(); }
  const guard_policy& policy() const { return policy_; }

  /// An IP address as 16 bytes, IPv4 as IPv4-mapped IPv6 so each address has one key.
  struct ip_key {
    std::array<unsigned char, 16> bytes{};
    bool operator==(const ip_key&) const = default;
  };
  struct cidr {
    ip_key network;
    unsigned prefix = 128;
  };

private:
  struct counter {
    time_point window_start{};
    std::uint32_t failures = 0;
    std::uint32_t blocks = 0;
    time_point blocked_until{};
    bool permanent = false;
    time_point last_seen{};
  };
  struct address_state {
    counter failures;
    double tokens = 0;
    time_point refilled{};
    bool limited = false;
  };
  struct ip_hash {
    std::uint64_t seed;
    std::size_t operator()(const ip_key& key) const;
  };
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  enum class block_outcome : std::uint8_t { none, temporary, permanent };

  sip_guard(guard_policy policy, std::vector<cidr> allow);

  bool allowed(const ip_key& key) const;
  address_state* address_entry(const ip_key& key, time_point now);
  counter* extension_entry(std::string_view extension, time_point now);
  block_outcome count_failure(counter& state, std::uint32_t threshold, time_point now) const;
  void emit(guard_event event);
  void emit_block(block_outcome outcome, const counter& state, std::string address,
                  std::string extension);
  static bool blocked(const counter& state, time_point now);
  bool user_agent_matches(const std::vector<std::string>& patterns, std::string_view ua) const;

  guard_policy policy_;
  std::vector<cidr> allow_;
  std::unordered_map<ip_key, address_state, ip_hash> addresses_;
  std::unordered_map<std::string, counter, string_hash, std::equal_to<>> extensions_;
  std::vector<guard_event> events_;
  std::uint64_t dropped_events_ = 0;
};

/// IPv4 or IPv6 literal (no zone, no brackets, no port) to its key.
std::optional<sip_guard::ip_key> parse_ip(std::string_view text);
/// The canonical text of a key: dotted quad for IPv4, RFC 5952 form for IPv6.
std::string format_ip(const sip_guard::ip_key& key);
/// "10.0.0.0/8", "2001:db8::/32", or a bare address (a single host); host bits must be 0.
std::expected<sip_guard::cidr, error> parse_cidr(std::string_view text);
bool cidr_contains(const sip_guard::cidr& block, const sip_guard::ip_key& key);

} // namespace ward::telephony
