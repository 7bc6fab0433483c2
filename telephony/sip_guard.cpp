#include "telephony/sip_guard.hpp"

#include "core/net_address.hpp"

#include <algorithm>
#include <cstring>

namespace ward::telephony {
namespace {

using time_point = sip_guard::time_point;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::uint64_t mix(std::uint64_t x) {
  // splitmix64 finaliser.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

std::string seconds_text(std::chrono::seconds s) {
  return std::to_string(s.count()) + " s";
}

/// Evicts down to 90 % of `cap`: entries not blacklisted at `now` only, those without
/// escalation history first, then the longest idle. Amortised over the 10 % freed, the
/// sort costs O(log n) per new entry, even while a spray of sources arrives.
template <class Map, class CounterOf>
void evict(Map& map, std::size_t cap, time_point now, CounterOf counter_of) {
  using iterator = typename Map::iterator;
  std::vector<iterator> candidates;
  candidates.reserve(map.size());
  for (auto it = map.begin(); it != map.end(); ++it) {
    const auto& c = counter_of(it->second);
    if (!c.permanent && c.blocked_until <= now)
      candidates.push_back(it);
  }
  std::size_t target = cap - cap / 10;
  if (target >= cap)
    target = cap - 1;
  if (map.size() <= target)
    return;
  std::size_t excess = map.size() - target;
  excess = std::min(excess, candidates.size());
  auto order = [&](const iterator& a, const iterator& b) {
    const auto& ca = counter_of(a->second);
    const auto& cb = counter_of(b->second);
    if ((ca.blocks > 0) != (cb.blocks > 0))
      return ca.blocks == 0;
    return ca.last_seen < cb.last_seen;
  };
  std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(excess),
                   candidates.end(), order);
  for (std::size_t i = 0; i < excess; ++i)
    map.erase(candidates[i]);
}

} // namespace

std::string_view to_string(guard_verdict verdict) {
  switch (verdict) {
    case guard_verdict::pass:
      return "pass";
    case guard_verdict::drop_silently:
      return "drop_silently";
    case guard_verdict::reject_403:
      return "reject_403";
    case guard_verdict::reject_503_rate:
      return "reject_503_rate";
    case guard_verdict::blacklisted:
      return "blacklisted";
  }
  return "drop_silently";
}

std::string_view to_string(guard_event_kind kind) {
  switch (kind) {
    case guard_event_kind::auth_failure_counted:
      return "auth_failure_counted";
    case guard_event_kind::address_blacklisted_temporary:
      return "address_blacklisted_temporary";
    case guard_event_kind::address_blacklisted_permanent:
      return "address_blacklisted_permanent";
    case guard_event_kind::extension_blacklisted_temporary:
      return "extension_blacklisted_temporary";
    case guard_event_kind::extension_blacklisted_permanent:
      return "extension_blacklisted_permanent";
    case guard_event_kind::rate_limited:
      return "rate_limited";
    case guard_event_kind::allow_list_refused:
      return "allow_list_refused";
    case guard_event_kind::user_agent_refused:
      return "user_agent_refused";
    case guard_event_kind::malformed_counted:
      return "malformed_counted";
    case guard_event_kind::blacklist_reset:
      return "blacklist_reset";
    case guard_event_kind::remote_worker_refused:
      return "remote_worker_refused";
  }
  return "unknown";
}

// ---- addresses ---------------------------------------------------------------------------

std::optional<sip_guard::ip_key> parse_ip(std::string_view text) {
  auto address = parse_ip_address(text);
  if (!address)
    return std::nullopt;
  return sip_guard::ip_key{v4_mapped(*address).bytes};
}

std::string format_ip(const sip_guard::ip_key& key) {
  return to_string(unmapped(ip_address{ip_family::v6, key.bytes}));
}

std::expected<sip_guard::cidr, error> parse_cidr(std::string_view text) {
  auto block = ward::parse_cidr(text);
  if (!block) {
    auto refuse = [text](const char* why) {
      return std::unexpected(error{errc::bad_address, why + std::string(text)});
    };
    switch (block.error()) {
      case address_errc::bad_prefix:
        return refuse("bad prefix length: ");
      case address_errc::prefix_too_long:
        return refuse("prefix length too long: ");
      case address_errc::host_bits_set:
        return refuse("host bits set: ");
      default:
        return refuse("not an IP address: ");
    }
  }
  // Keys hold IPv4 as IPv4-mapped IPv6, so an IPv4 prefix counts past the 96-bit mapping.
  const bool v4 = block->network.family == ip_family::v4;
  return sip_guard::cidr{{v4_mapped(block->network).bytes},
                         v4 ? block->prefix + 96 : block->prefix};
}

bool cidr_contains(const sip_guard::cidr& block, const sip_guard::ip_key& key) {
  return contains(ip_network{{ip_family::v6, block.network.bytes}, block.prefix},
                  ip_address{ip_family::v6, key.bytes});
}

std::size_t sip_guard::ip_hash::operator()(const ip_key& key) const {
  std::uint64_t high = 0, low = 0;
  std::memcpy(&high, key.bytes.data(), 8);
  std::memcpy(&low, key.bytes.data() + 8, 8);
  return static_cast<std::size_t>(mix(mix(high ^ seed) ^ low));
}

// ---- remote workers and RTP --------------------------------------------------------------

namespace {

std::unexpected<error> invalid_config(const char* why) {
  return std::unexpected(error{errc::invalid_config, why});
}

} // namespace

std::expected<void, error> validate_remote_worker_rule(const remote_worker_rule& rule) {
  if (!rule.pinned_address.empty() && !parse_ip(rule.pinned_address))
    return std::unexpected(error{errc::bad_address, "pinned address is not an IP address"});
  return {};
}

bool remote_worker_source_allowed(const remote_worker_rule& rule, std::string_view source) {
  if (rule.pinned_address.empty())
    return true;
  auto pinned = parse_ip(rule.pinned_address);
  auto from = parse_ip(source);
  return pinned && from && *pinned == *from;
}

std::expected<void, error> check_rtp_range(std::uint16_t low, std::uint16_t high,
                                           bool remote_workers_enabled) {
  if (low < 1024)
    return invalid_config("RTP ports must be 1024 or above");
  if (low % 2 != 0)
    return invalid_config("the lowest RTP port must be even (RTP even, RTCP odd)");
  if (low >= high)
    return invalid_config("the lowest RTP port must be below the highest");
  if (remote_workers_enabled && high > 50750)
    return invalid_config("with remote workers the highest RTP port must be at most 50750");
  return {};
}

// ---- sip_guard ---------------------------------------------------------------------------

std::expected<sip_guard, error> sip_guard::create(guard_policy policy) {
  std::vector<cidr> allow;
  allow.reserve(policy.allow_list.size());
  for (const auto& entry : policy.allow_list) {
    auto block = parse_cidr(entry);
    if (!block)
      return std::unexpected(with_context("allow_list", block.error()));
    allow.push_back(*block);
  }
  for (auto* list : {&policy.user_agent_allow, &policy.user_agent_block}) {
    for (auto& pattern : *list) {
      // An empty pattern would match every agent and silently turn the list into "all".
      if (pattern.empty())
        return invalid_config("user agent patterns must not be empty");
      std::transform(pattern.begin(), pattern.end(), pattern.begin(), lower);
    }
  }
  if (policy.messages_per_second > 0 && policy.burst == 0)
    return invalid_config("burst must be at least 1 when rate limiting is on");
  if (policy.max_tracked_addresses == 0 || policy.max_tracked_extensions == 0)
    return invalid_config("tracking caps must be at least 1");
  if (policy.failure_window.count() <= 0 || policy.first_block.count() <= 0)
    return invalid_config("failure window and first block must be positive");
  return sip_guard(std::move(policy), std::move(allow));
}

sip_guard::sip_guard(guard_policy policy, std::vector<cidr> allow)
    : policy_(std::move(policy)), allow_(std::move(allow)),
      addresses_(16, ip_hash{policy_.hash_seed}) {}

bool sip_guard::allowed(const ip_key& key) const {
  if (allow_.empty())
    return true;
  return std::any_of(allow_.begin(), allow_.end(),
                     [&](const cidr& block) { return cidr_contains(block, key); });
}

bool sip_guard::blocked(const counter& state, time_point now) {
  return state.permanent || state.blocked_until > now;
}

void sip_guard::emit(guard_event event) {
  if (events_.size() >= policy_.max_pending_events) {
    ++dropped_events_;
    return;
  }
  events_.push_back(std::move(event));
}

sip_guard::address_state* sip_guard::address_entry(const ip_key& key, time_point now) {
  if (auto it = addresses_.find(key); it != addresses_.end())
    return &it->second;
  if (addresses_.size() >= policy_.max_tracked_addresses)
    evict(addresses_, policy_.max_tracked_addresses, now,
          [](const address_state& s) -> const counter& { return s.failures; });
  // Every entry blacklisted: the newcomer goes untracked rather than displacing a block.
  if (addresses_.size() >= policy_.max_tracked_addresses)
    return nullptr;
  auto& state = addresses_[key];
  state.tokens = static_cast<double>(policy_.burst);
  state.refilled = now;
  state.failures.last_seen = now;
  return &state;
}

sip_guard::counter* sip_guard::extension_entry(std::string_view extension, time_point now) {
  if (auto it = extensions_.find(extension); it != extensions_.end())
    return &it->second;
  if (extensions_.size() >= policy_.max_tracked_extensions)
    evict(extensions_, policy_.max_tracked_extensions, now,
          [](const counter& c) -> const counter& { return c; });
  if (extensions_.size() >= policy_.max_tracked_extensions)
    return nullptr;
  auto& state = extensions_[std::string(extension)];
  state.last_seen = now;
  return &state;
}

guard_verdict sip_guard::admit(std::string_view address, time_point now) {
  auto key = parse_ip(address);
  // The transport hands us the peer address; anything unparsable is a bug or a spoof.
  if (!key)
    return guard_verdict::drop_silently;
  if (!allowed(*key)) {
    emit({guard_event_kind::allow_list_refused, format_ip(*key), {}, "not in the allow list"});
    return guard_verdict::drop_silently;
  }
  if (policy_.address_blacklisting) {
    if (auto it = addresses_.find(*key);
        it != addresses_.end() && blocked(it->second.failures, now))
      return guard_verdict::blacklisted;
  }
  if (policy_.messages_per_second == 0)
    return guard_verdict::pass;
  auto* state = address_entry(*key, now);
  if (state == nullptr)
    return guard_verdict::pass;
  state->failures.last_seen = std::max(state->failures.last_seen, now);
  if (now > state->refilled) {
    std::chrono::duration<double> elapsed = now - state->refilled;
    state->tokens = std::min(static_cast<double>(policy_.burst),
                             state->tokens + elapsed.count() * policy_.messages_per_second);
    state->refilled = now;
  }
  if (state->tokens < 1.0) {
    // One event per episode of limiting, not per message: a flood must not flood the log.
    if (!state->limited)
      emit({guard_event_kind::rate_limited,
            format_ip(*key),
            {},
            std::to_string(policy_.messages_per_second) + " messages/s exceeded"});
    state->limited = true;
    return guard_verdict::reject_503_rate;
  }
  state->tokens -= 1.0;
  state->limited = false;
  return guard_verdict::pass;
}

bool sip_guard::user_agent_matches(const std::vector<std::string>& patterns,
                                   std::string_view ua) const {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    return !std::ranges::search(ua, pattern, [](char a, char b) { return lower(a) == b; }).empty();
  });
}

guard_verdict sip_guard::check_user_agent(std::string_view user_agent) const {
  if (user_agent_matches(policy_.user_agent_block, user_agent))
    return guard_verdict::reject_403;
  if (!policy_.user_agent_allow.empty() &&
      !user_agent_matches(policy_.user_agent_allow, user_agent))
    return guard_verdict::reject_403;
  return guard_verdict::pass;
}

guard_verdict sip_guard::check_user_agent(std::string_view address, std::string_view user_agent) {
  auto verdict = check_user_agent(user_agent);
  if (verdict != guard_verdict::pass) {
    auto key = parse_ip(address);
    // The agent string is attacker-chosen: bound what reaches the audit log.
    emit({guard_event_kind::user_agent_refused,
          key ? format_ip(*key) : std::string(),
          {},
          "user agent: " + std::string(user_agent.substr(0, 128))});
  }
  return verdict;
}

guard_verdict sip_guard::check_remote_worker(const remote_worker_rule& rule,
                                             std::string_view address, std::string_view extension) {
  if (remote_worker_source_allowed(rule, address))
    return guard_verdict::pass;
  auto key = parse_ip(address);
  emit({guard_event_kind::remote_worker_refused, key ? format_ip(*key) : std::string(),
        std::string(extension), "not the pinned address " + rule.pinned_address});
  return guard_verdict::reject_403;
}

sip_guard::block_outcome sip_guard::count_failure(counter& state, std::uint32_t threshold,
                                                  time_point now) const {
  state.last_seen = std::max(state.last_seen, now);
  // While blocked nothing more can happen to the entry; counting would only escalate a
  // block because the attacker kept knocking on a door already shut.
  if (threshold == 0 || blocked(state, now))
    return block_outcome::none;
  if (state.failures == 0 || now - state.window_start >= policy_.failure_window) {
    state.window_start = now;
    state.failures = 0;
  }
  if (++state.failures < threshold)
    return block_outcome::none;
  state.failures = 0;
  ++state.blocks;
  if (policy_.blocks_before_permanent > 0 && state.blocks >= policy_.blocks_before_permanent) {
    state.permanent = true;
    return block_outcome::permanent;
  }
  // Each block doubles, capped at 2^16 times the first, so escalation never overflows.
  auto factor = std::int64_t{1} << std::min<std::uint32_t>(state.blocks - 1, 16);
  state.blocked_until = now + policy_.first_block * factor;
  return block_outcome::temporary;
}

void sip_guard::emit_block(block_outcome outcome, const counter& state, std::string address,
                           std::string extension) {
  if (outcome == block_outcome::none)
    return;
  bool is_address = extension.empty();
  guard_event event;
  event.address = std::move(address);
  event.extension = std::move(extension);
  event.blocks = state.blocks;
  if (outcome == block_outcome::permanent) {
    event.kind = is_address ? guard_event_kind::address_blacklisted_permanent
                            : guard_event_kind::extension_blacklisted_permanent;
    event.detail = "blacklisted until reset after " + std::to_string(state.blocks) + " blocks";
  } else {
    event.kind = is_address ? guard_event_kind::address_blacklisted_temporary
                            : guard_event_kind::extension_blacklisted_temporary;
    event.until = state.blocked_until;
    event.detail = "blacklisted for " +
                   seconds_text(std::chrono::duration_cast<std::chrono::seconds>(
                       state.blocked_until - state.last_seen)) +
                   " (block " + std::to_string(state.blocks) + ")";
  }
  emit(std::move(event));
}

void sip_guard::record_auth_failure(std::string_view address, std::string_view extension,
                                    time_point now) {
  auto key = parse_ip(address);
  std::string canonical = key ? format_ip(*key) : std::string();
  std::string detail;
  if (key && policy_.address_blacklisting) {
    if (auto* state = address_entry(*key, now)) {
      auto outcome = count_failure(state->failures, policy_.failure_threshold, now);
      detail = "address " + std::to_string(state->failures.failures) + "/" +
               std::to_string(policy_.failure_threshold);
      emit({guard_event_kind::auth_failure_counted, canonical, std::string(extension), detail});
      emit_block(outcome, state->failures, canonical, {});
      detail.clear();
    }
  }
  if (!extension.empty()) {
    if (auto* state = extension_entry(extension, now)) {
      auto outcome = count_failure(*state, policy_.extension_failure_threshold, now);
      emit({guard_event_kind::auth_failure_counted, canonical, std::string(extension),
            "extension " + std::to_string(state->failures) + "/" +
                std::to_string(policy_.extension_failure_threshold)});
      // Extension block events carry no address: a block of the extension is not a block
      // of wherever the last guess came from.
      emit_block(outcome, *state, {}, std::string(extension));
    }
  }
}

void sip_guard::record_auth_success(std::string_view, std::string_view extension) {
  if (auto it = extensions_.find(extension); it != extensions_.end())
    it->second.failures = 0;
}

void sip_guard::record_malformed(std::string_view address, time_point now) {
  auto key = parse_ip(address);
  if (!key)
    return;
  auto canonical = format_ip(*key);
  emit({guard_event_kind::malformed_counted, canonical, {}, "malformed message"});
  if (!policy_.address_blacklisting || !policy_.malformed_counts_as_failure)
    return;
  if (auto* state = address_entry(*key, now))
    emit_block(count_failure(state->failures, policy_.failure_threshold, now), state->failures,
               canonical, {});
}

bool sip_guard::reset_address(std::string_view address) {
  auto key = parse_ip(address);
  if (!key)
    return false;
  auto it = addresses_.find(*key);
  if (it == addresses_.end() || it->second.failures.blocks == 0)
    return false;
  addresses_.erase(it);
  emit({guard_event_kind::blacklist_reset, format_ip(*key), {}, "address reset"});
  return true;
}

bool sip_guard::reset_extension(std::string_view extension) {
  auto it = extensions_.find(extension);
  if (it == extensions_.end() || it->second.blocks == 0)
    return false;
  extensions_.erase(it);
  emit({guard_event_kind::blacklist_reset, {}, std::string(extension), "extension reset"});
  return true;
}

bool sip_guard::is_address_blacklisted(std::string_view address, time_point now) const {
  if (!policy_.address_blacklisting)
    return false;
  auto key = parse_ip(address);
  if (!key)
    return false;
  auto it = addresses_.find(*key);
  return it != addresses_.end() && blocked(it->second.failures, now);
}

bool sip_guard::is_extension_blacklisted(std::string_view extension, time_point now) const {
  auto it = extensions_.find(extension);
  return it != extensions_.end() && blocked(it->second, now);
}

std::vector<guard_event> sip_guard::drain_events() {
  std::vector<guard_event> out;
  out.swap(events_);
  return out;
}

std::vector<sip_guard::blacklist_entry> sip_guard::blacklisted_addresses(time_point now) const {
  std::vector<blacklist_entry> out;
  for (const auto& [key, state] : addresses_)
    if (blocked(state.failures, now))
      out.push_back({format_ip(key), state.failures.permanent, state.failures.blocked_until,
                     state.failures.blocks});
  std::sort(out.begin(), out.end(),
            [](const blacklist_entry& a, const blacklist_entry& b) { return a.key < b.key; });
  return out;
}

std::vector<sip_guard::blacklist_entry> sip_guard::blacklisted_extensions(time_point now) const {
  std::vector<blacklist_entry> out;
  for (const auto& [number, state] : extensions_)
    if (blocked(state, now))
      out.push_back({number, state.permanent, state.blocked_until, state.blocks});
  std::sort(out.begin(), out.end(),
            [](const blacklist_entry& a, const blacklist_entry& b) { return a.key < b.key; });
  return out;
}

void sip_guard::apply_remote(const guard_event& event, time_point now) {
  auto merge = [&](counter& state, bool permanent) {
    state.blocks = std::max(state.blocks, event.blocks);
    state.failures = 0;
    if (permanent)
      state.permanent = true;
    else
      state.blocked_until = std::max(state.blocked_until, event.until);
    state.last_seen = std::max(state.last_seen, now);
  };
  switch (event.kind) {
    case guard_event_kind::address_blacklisted_temporary:
    case guard_event_kind::address_blacklisted_permanent: {
      if (!policy_.address_blacklisting)
        return;
      auto key = parse_ip(event.address);
      if (!key)
        return;
      if (auto* state = address_entry(*key, now))
        merge(state->failures, event.kind == guard_event_kind::address_blacklisted_permanent);
      return;
    }
    case guard_event_kind::extension_blacklisted_temporary:
    case guard_event_kind::extension_blacklisted_permanent:
      if (event.extension.empty())
        return;
      if (auto* state = extension_entry(event.extension, now))
        merge(*state, event.kind == guard_event_kind::extension_blacklisted_permanent);
      return;
    case guard_event_kind::blacklist_reset:
      if (!event.address.empty())
        if (auto key = parse_ip(event.address))
          addresses_.erase(*key);
      if (!event.extension.empty())
        if (auto it = extensions_.find(event.extension); it != extensions_.end())
          extensions_.erase(it);
      return;
    case guard_event_kind::auth_failure_counted:
    case guard_event_kind::rate_limited:
    case guard_event_kind::allow_list_refused:
    case guard_event_kind::user_agent_refused:
    case guard_event_kind::malformed_counted:
    case guard_event_kind::remote_worker_refused:
      return;
  }
}

} // namespace ward::telephony
