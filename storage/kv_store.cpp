#include "storage/kv_store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

namespace ward::storage {
namespace {

store_error from_status(const rocksdb::Status& status, store_errc fallback) {
  if (status.IsCorruption())
    return {store_errc::corrupt, status.ToString()};
  return {fallback, status.ToString()};
}

rocksdb::WriteOptions synced_writes() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

} // namespace

kv_store::kv_store(std::filesystem::path directory, std::unique_ptr<rocksdb::DB> db)
    : directory_(std::move(directory)), db_(std::move(db)) {}

std::expected<std::unique_ptr<kv_store>, store_error>
kv_store::open(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec)
    return std::unexpected(store_error{
        store_errc::open_failed, "cannot create " + directory.string() + ": " + ec.message()});
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // Ward's stores are small; keep RocksDB's footprint small too.
  options.max_background_jobs = 1;
  options.write_buffer_size = 4 << 20;
  options.max_open_files = 64;
  options.keep_log_file_num = 2;
  rocksdb::DB* raw = nullptr;
  auto status = rocksdb::DB::Open(options, directory.string(), &raw);
  if (!status.ok())
    return std::unexpected(from_status(status, store_errc::open_failed));
  return std::unique_ptr<kv_store>(new kv_store(directory, std::unique_ptr<rocksdb::DB>(raw)));
}

kv_store::~kv_store() {
  if (db_) {
    (void)flush();
    (void)db_->Close();
  }
}

std::expected<std::optional<std::string>, store_error> kv_store::get(std::string_view key) const {
  std::string value;
  auto status = db_->Get(rocksdb::ReadOptions{}, rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound())
    return std::optional<std::string>{};
  if (!status.ok())
    return std::unexpected(from_status(status, store_errc::io_error));
  return std::optional<std::string>{std::move(value)};
}

std::expected<std::vector<std::pair<std::string, std::string>>, store_error>
kv_store::scan(std::string_view prefix, std::string_view after, std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> found;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions{}));
  auto start = after.empty() ? prefix : after;
  for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid() && found.size() < limit;
       it->Next()) {
    auto key = std::string_view(it->key().data(), it->key().size());
    if (!key.starts_with(prefix))
      break;
    if (!after.empty() && key == after)
      continue;
    found.emplace_back(std::string(key), it->value().ToString());
  }
  if (!it->status().ok())
    return std::unexpected(from_status(it->status(), store_errc::io_error));
  return found;
}

std::expected<void, store_error> kv_store::put(std::string_view key, std::string_view value) {
  auto status = db_->Put(synced_writes(), rocksdb::Slice(key.data(), key.size()),
                         rocksdb::Slice(value.data(), value.size()));
  if (!status.ok())
    return std::unexpected(from_status(status, store_errc::io_error));
  return {};
}

std::expected<void, store_error>
kv_store::put_all(const std::vector<std::pair<std::string, std::string>>& entries) {
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : entries)
    batch.Put(key, value);
  auto status = db_->Write(synced_writes(), &batch);
  if (!status.ok())
    return std::unexpected(from_status(status, store_errc::io_error));
  return {};
}

std::expected<void, store_error> kv_store::erase(std::string_view key) {
  auto status = db_->Delete(synced_writes(), rocksdb::Slice(key.data(), key.size()));
  if (!status.ok())
    return std::unexpected(from_status(status, store_errc::io_error));
  return {};
}

std::expected<void, store_error> kv_store::flush() {
  auto status = db_->Flush(rocksdb::FlushOptions{});
  if (!status.ok())
    return std::unexpected(from_status(status, store_errc::io_error));
  return {};
}

} // namespace ward::storage
