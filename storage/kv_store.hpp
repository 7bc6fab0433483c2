#pragma once

#include "core/typed_error.hpp"

#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rocksdb {
class DB;
}

namespace ward::storage {

/// Why a store operation failed.
enum class store_errc {
  /// The database could not be opened (missing permissions, held by another process).
  open_failed,
  /// A read or write failed at the storage layer.
  io_error,
  /// The stored data failed RocksDB's own consistency checks.
  corrupt,
};

using store_error = typed_error<store_errc>;

/// A durable key-value store over RocksDB. Every write is synced to disk before it
/// returns, so whatever a caller acknowledges after a write survives a crash.
class kv_store {
public:
  /// Opens (creating if needed) the store in `directory`.
  static std::expected<std::unique_ptr<kv_store>, store_error>
  open(const std::filesystem::path& directory);

  kv_store(const kv_store&) = delete;
  kv_store& operator=(const kv_store&) = delete;
  /// Flushes the memtable and closes the database.
  ~kv_store();

  std::expected<std::optional<std::string>, store_error> get(std::string_view key) const;
  std::expected<void, store_error> put(std::string_view key, std::string_view value);
  std::expected<void, store_error> erase(std::string_view key);
  /// Writes every pair or none (one synced RocksDB write batch).
  std::expected<void, store_error>
  put_all(const std::vector<std::pair<std::string, std::string>>& entries);
  /// Up to `limit` pairs whose keys start with `prefix` and sort after `after` (all of the
  /// prefix when `after` is empty), in key order.
  std::expected<std::vector<std::pair<std::string, std::string>>, store_error>
  scan(std::string_view prefix, std::string_view after, std::size_t limit) const;
  /// Writes the memtable to SST files; used on clean shutdown.
  std::expected<void, store_error> flush();

  const std::filesystem::path& directory() const { return directory_; }

private:
  kv_store(std::filesystem::path directory, std::unique_ptr<rocksdb::DB> db);

  std::filesystem::path directory_;
  std::unique_ptr<rocksdb::DB> db_;
};

} // namespace ward::storage
