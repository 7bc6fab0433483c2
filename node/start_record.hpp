#pragma once

#include "core/clock.hpp"
#include "storage/kv_store.hpp"

#include <cstdint>
#include <expected>

namespace ward::node {

struct start_record {
  /// Starts of this node's store, the current one included.
  std::uint64_t start_count = 0;
  clock::time_point first_start;
};

/// Counts this start in the store (synced before returning) and returns the history.
std::expected<start_record, storage::store_error> record_start(storage::kv_store& store,
                                                               clock::time_point now);

} // namespace ward::node
