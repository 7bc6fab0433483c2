#include "node/start_record.hpp"

#include <charconv>
#include <string>

namespace ward::node {
namespace {

constexpr std::string_view start_count_key = "node/start_count";
constexpr std::string_view first_start_key = "node/first_start_unix";

std::int64_t parse_or_zero(const std::optional<std::string>& text) {
  std::int64_t value = 0;
  if (text)
    std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

} // namespace

std::expected<start_record, storage::store_error> record_start(storage::kv_store& store,
                                                               clock::time_point now) {
  auto count = store.get(start_count_key);
  if (!count)
    return std::unexpected(count.error());
  auto first = store.get(first_start_key);
  if (!first)
    return std::unexpected(first.error());

  start_record record;
  record.start_count = static_cast<std::uint64_t>(parse_or_zero(*count)) + 1;
  auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto first_unix = *first ? parse_or_zero(*first) : now_unix;
  record.first_start = clock::time_point(std::chrono::seconds(first_unix));

  if (!*first)
    if (auto written = store.put(first_start_key, std::to_string(first_unix)); !written)
      return std::unexpected(written.error());
  if (auto written = store.put(start_count_key, std::to_string(record.start_count)); !written)
    return std::unexpected(written.error());
  return record;
}

} // namespace ward::node
