#pragma once

#include "cluster/error.hpp"
#include "security/audit_log.hpp"
#include "storage/kv_store.hpp"

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <vector>

namespace ward::cluster {

/// The primary's store of the audit records and alarms other nodes forwarded over their
/// lines (SPEC MON-2, LINE-4), kept per node of origin under the node's own sequence
/// numbers. Storing is idempotent, so a batch sent again after a lost acknowledgement
/// changes nothing.
class event_store {
public:
  explicit event_store(std::shared_ptr<storage::kv_store> store);

  /// Stores `records` of `node`, which must come oldest first. Returns the highest
  /// sequence up to which every record of the node is now stored: what the node may drop
  /// from its outbox. Records after a gap are not stored, so the node sends them again
  /// from where the gap starts.
  std::expected<std::uint64_t, error> store(const std::string& node,
                                            const std::vector<security::audit_record>& records);

  /// The highest sequence of `node` stored without gaps; 0 for none.
  std::uint64_t stored_up_to(const std::string& node) const;

  /// Every name events are kept under (nodes, and devices whose syslog the primary
  /// received) with its stored_up_to, in name order; at most `limit`.
  std::expected<std::vector<std::pair<std::string, std::uint64_t>>, error>
  sources(std::size_t limit) const;

  /// Up to `limit` records of `node` with a sequence above `after`, oldest first.
  std::expected<std::vector<security::audit_record>, error>
  list(const std::string& node, std::uint64_t after, std::size_t limit) const;

private:
  std::shared_ptr<storage::kv_store> store_;
};

} // namespace ward::cluster
