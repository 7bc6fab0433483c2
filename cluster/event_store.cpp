#include "cluster/event_store.hpp"

#include <cstdio>

namespace ward::cluster {
namespace {

std::string event_key(const std::string& node, std::uint64_t sequence) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(sequence));
  return "event/" + node + "/" + digits;
}

std::string cursor_key(const std::string& node) {
  return "event_cursor/" + node;
}

} // namespace

event_store::event_store(std::shared_ptr<storage::kv_store> store) : store_(std::move(store)) {}

std::uint64_t event_store::stored_up_to(const std::string& node) const {
  auto value = store_->get(cursor_key(node));
  if (!value || !*value)
    return 0;
  return std::strtoull((*value)->c_str(), nullptr, 10);
}

std::expected<std::uint64_t, error>
event_store::store(const std::string& node, const std::vector<security::audit_record>& records) {
  auto up_to = stored_up_to(node);
  std::vector<std::pair<std::string, std::string>> batch;
  for (const auto& record : records) {
    if (record.sequence <= up_to)
      continue; // already stored: a resend after a lost acknowledgement
    if (record.sequence != up_to + 1)
      break;
    auto encoded = security::encode_audit_record(record);
    if (!encoded)
      return std::unexpected(
          error{errc::damaged_record,
                "event " + std::to_string(record.sequence) + ": " + encoded.error().detail});
    batch.emplace_back(event_key(node, record.sequence), std::move(*encoded));
    up_to = record.sequence;
  }
  if (batch.empty())
    return up_to;
  batch.emplace_back(cursor_key(node), std::to_string(up_to));
  // Events and the cursor in one synced batch: what is acknowledged is on disk.
  if (auto written = store_->put_all(batch); !written)
    return std::unexpected(error{errc::storage_failure, written.error().detail});
  return up_to;
}

std::expected<std::vector<std::pair<std::string, std::uint64_t>>, error>
event_store::sources(std::size_t limit) const {
  const std::string prefix = cursor_key("");
  auto found = store_->scan(prefix, {}, limit);
  if (!found)
    return std::unexpected(error{errc::storage_failure, found.error().detail});
  std::vector<std::pair<std::string, std::uint64_t>> named;
  for (const auto& [key, value] : *found)
    named.emplace_back(key.substr(prefix.size()), std::strtoull(value.c_str(), nullptr, 10));
  return named;
}

std::expected<std::vector<security::audit_record>, error>
event_store::list(const std::string& node, std::uint64_t after, std::size_t limit) const {
  auto prefix = "event/" + node + "/";
  auto found = store_->scan(prefix, after == 0 ? std::string{} : event_key(node, after), limit);
  if (!found)
    return std::unexpected(error{errc::storage_failure, found.error().detail});
  std::vector<security::audit_record> records;
  for (const auto& [key, value] : *found) {
    auto record = security::decode_audit_record(value);
    if (!record)
      return std::unexpected(error{errc::damaged_record, key + ": " + record.error().detail});
    records.push_back(std::move(*record));
  }
  return records;
}

} // namespace ward::cluster
