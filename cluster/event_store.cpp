#include "cluster/event_store.hpp"

#include <nlohmann/json.hpp>

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

std::string encode_event(const security::audit_record& record) {
  nlohmann::json json{
      {"sequence", record.sequence},
      {"time_us",
       std::chrono::duration_cast<std::chrono::microseconds>(record.time.time_since_epoch())
           .count()},
      {"kind", security::to_string(record.kind)},
      {"outcome", security::to_string(record.outcome)},
      {"actor", record.actor},
      {"source", record.source},
      {"service", record.service},
      {"action", record.action},
      {"object", record.object},
      {"reason", record.reason},
      {"before", record.before},
      {"after", record.after},
      {"hash", record.hash},
  };
  return json.dump();
}

std::expected<security::audit_record, std::string> decode_event(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return std::unexpected("stored event is not JSON");
  try {
    security::audit_record record;
    record.sequence = json.at("sequence").get<std::uint64_t>();
    record.time = std::chrono::system_clock::time_point(
        std::chrono::microseconds(json.at("time_us").get<std::int64_t>()));
    auto kind = security::parse_audit_kind(json.at("kind").get<std::string>());
    auto outcome = security::parse_audit_outcome(json.at("outcome").get<std::string>());
    if (!kind || !outcome)
      return std::unexpected("stored event has an unknown kind or outcome");
    record.kind = *kind;
    record.outcome = *outcome;
    record.actor = json.at("actor").get<std::string>();
    record.source = json.at("source").get<std::string>();
    record.service = json.at("service").get<std::string>();
    record.action = json.at("action").get<std::string>();
    record.object = json.at("object").get<std::string>();
    record.reason = json.at("reason").get<std::string>();
    record.before = json.at("before").get<std::string>();
    record.after = json.at("after").get<std::string>();
    record.hash = json.at("hash").get<std::string>();
    return record;
  } catch (const nlohmann::json::exception& e) {
    return std::unexpected(std::string("stored event is incomplete: ") + e.what());
  }
}

event_store::event_store(std::shared_ptr<storage::kv_store> store) : store_(std::move(store)) {}

std::uint64_t event_store::stored_up_to(const std::string& node) const {
  auto value = store_->get(cursor_key(node));
  if (!value || !*value)
    return 0;
  return std::strtoull((*value)->c_str(), nullptr, 10);
}

std::expected<std::uint64_t, std::string>
event_store::store(const std::string& node, const std::vector<security::audit_record>& records) {
  auto up_to = stored_up_to(node);
  std::vector<std::pair<std::string, std::string>> batch;
  for (const auto& record : records) {
    if (record.sequence <= up_to)
      continue; // already stored: a resend after a lost acknowledgement
    if (record.sequence != up_to + 1)
      break;
    batch.emplace_back(event_key(node, record.sequence), encode_event(record));
    up_to = record.sequence;
  }
  if (batch.empty())
    return up_to;
  batch.emplace_back(cursor_key(node), std::to_string(up_to));
  // Events and the cursor in one synced batch: what is acknowledged is on disk.
  if (auto written = store_->put_all(batch); !written)
    return std::unexpected(written.error().detail);
  return up_to;
}

std::expected<std::vector<security::audit_record>, std::string>
event_store::list(const std::string& node, std::uint64_t after, std::size_t limit) const {
  auto prefix = "event/" + node + "/";
  auto found = store_->scan(prefix, after == 0 ? std::string{} : event_key(node, after), limit);
  if (!found)
    return std::unexpected(found.error().detail);
  std::vector<security::audit_record> records;
  for (const auto& [key, value] : *found) {
    auto record = decode_event(value);
    if (!record)
      return std::unexpected(key + ": " + record.error());
    records.push_back(std::move(*record));
  }
  return records;
}

} // namespace ward::cluster
