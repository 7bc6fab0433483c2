#include "security/audit_log.hpp"

#include "core/hex.hpp"
#include "core/utf8.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>

namespace ward::security {
namespace {

using json = nlohmann::json;
using time_point = std::chrono::system_clock::time_point;

/// Bumped if the line format ever changes, so an old reader refuses a new line instead of
/// misreading it.
constexpr int format_version = 1;

constexpr std::size_t read_block = 64 * 1024;

std::string genesis_hash() {
  return std::string(64, '0');
}

audit_error io_failure(std::string what, const std::filesystem::path& path, int error_number) {
  return audit_error{audit_errc::io_error,
                     std::move(what) + " " + path.string() + ": " + std::strerror(error_number)};
}

std::optional<std::string> sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
    return std::nullopt;
  return to_hex(std::span(digest.data(), length));
}

/// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by
/// U+FFFD. The JSON writer refuses invalid UTF-8, and the audit trail must not lose a
/// record because a hostile peer sent odd bytes.
std::string valid_utf8(std::string_view text) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    char32_t code_point = 0;
    if (const std::size_t length = utf8_sequence(text, code_point); length != 0) {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    } else {
      out.append(replacement);
      text.remove_prefix(1);
    }
  }
  return out;
}

std::int64_t to_microseconds(time_point time) {
  return std::chrono::floor<std::chrono::microseconds>(time).time_since_epoch().count();
}

/// The microsecond range a system_clock time point can hold without overflow.
constexpr std::int64_t max_microseconds =
    std::chrono::duration_cast<std::chrono::microseconds>(time_point::duration::max()).count();
constexpr std::int64_t min_microseconds =
    std::chrono::duration_cast<std::chrono::microseconds>(time_point::duration::min()).count();

/// ISO-8601 UTC with microseconds, for people reading the file; never read back.
std::string iso_8601(time_point time) {
  using namespace std::chrono;
  auto micros = floor<microseconds>(time);
  auto day = floor<days>(micros);
  year_month_day date{day};
  hh_mm_ss clock_time{micros - day};
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()),
                static_cast<long long>(clock_time.hours().count()),
                static_cast<long long>(clock_time.minutes().count()),
                static_cast<long long>(clock_time.seconds().count()),
                static_cast<long long>(clock_time.subseconds().count()));
  return text;
}

/// Every field except `hash`. nlohmann's object keeps keys sorted, so its compact dump is
/// one fixed byte string per record: the canonical encoding that is hashed.
json body_of(const audit_record& record) {
  return json{
      {"v", format_version},
      {"sequence", record.sequence},
      {"time_us", to_microseconds(record.time)},
      {"time", iso_8601(record.time)},
      {"kind", to_string(record.kind)},
      {"outcome", to_string(record.outcome)},
      {"actor", record.actor},
      {"source", record.source},
      {"service", record.service},
      {"action", record.action},
      {"object", record.object},
      {"reason", record.reason},
      {"before", record.before},
      {"after", record.after},
      {"previous_hash", record.previous_hash},
  };
}

/// The hash `record` should carry, or an error when it cannot be encoded.
std::expected<std::string, audit_error> hash_of(const audit_record& record) {
  try {
    auto hash = sha256_hex(body_of(record).dump());
    if (!hash)
      return std::unexpected(audit_error{audit_errc::invalid_argument, "SHA-256 failed"});
    return *hash;
  } catch (const std::exception& e) {
    return std::unexpected(audit_error{audit_errc::invalid_argument, e.what()});
  }
}

/// The line stored for `record`, without its newline.
std::expected<std::string, audit_error> line_of_record(const audit_record& record) {
  try {
    auto object = body_of(record);
    object["hash"] = record.hash;
    return object.dump();
  } catch (const std::exception& e) {
    return std::unexpected(audit_error{audit_errc::invalid_argument, e.what()});
  }
}

std::unexpected<audit_error> corrupt(std::string detail) {
  return std::unexpected(audit_error{audit_errc::corrupt, std::move(detail)});
}

std::expected<std::string, audit_error> string_field(const json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string())
    return corrupt(std::string("no text field '") + key + "'");
  return found->get<std::string>();
}

/// The enumerator the text field `key` names, by `parse` (parse_audit_kind, ...).
template <class Enum>
std::expected<Enum, audit_error> enum_field(const json& object, const char* key,
                                            std::optional<Enum> (*parse)(std::string_view)) {
  auto text = string_field(object, key);
  if (!text)
    return std::unexpected(text.error());
  auto parsed = parse(*text);
  if (!parsed)
    return corrupt("unknown " + std::string(key) + " '" + *text + "'");
  return *parsed;
}

/// Reads a line back into a record, checking only its shape; whether it is the canonical,
/// correctly hashed line for that record is check_line's business.
std::expected<audit_record, audit_error> decode_record_line(std::string_view line) {
  try {
    auto object = json::parse(line, nullptr, false);
    if (object.is_discarded())
      return corrupt("not JSON");
    if (!object.is_object())
      return corrupt("not a JSON object");
    auto version = object.find("v");
    if (version == object.end() || !version->is_number_unsigned() ||
        version->get<std::uint64_t>() != format_version)
      return corrupt("unknown format version");
    auto sequence = object.find("sequence");
    if (sequence == object.end() || !sequence->is_number_unsigned())
      return corrupt("no sequence");
    auto micros = object.find("time_us");
    if (micros == object.end() || !micros->is_number_integer())
      return corrupt("no time_us");
    if (micros->is_number_unsigned() &&
        micros->get<std::uint64_t>() > static_cast<std::uint64_t>(max_microseconds))
      return corrupt("time_us out of range");
    auto micros_value = micros->get<std::int64_t>();
    if (micros_value < min_microseconds || micros_value > max_microseconds)
      return corrupt("time_us out of range");

    audit_record record;
    record.sequence = sequence->get<std::uint64_t>();
    record.time = time_point(std::chrono::microseconds(micros_value));
    auto kind = enum_field(object, "kind", parse_audit_kind);
    if (!kind)
      return std::unexpected(kind.error());
    record.kind = *kind;
    auto outcome = enum_field(object, "outcome", parse_audit_outcome);
    if (!outcome)
      return std::unexpected(outcome.error());
    record.outcome = *outcome;

    const std::pair<const char*, std::string*> texts[] = {
        {"actor", &record.actor},
        {"source", &record.source},
        {"service", &record.service},
        {"action", &record.action},
        {"object", &record.object},
        {"reason", &record.reason},
        {"before", &record.before},
        {"after", &record.after},
        {"previous_hash", &record.previous_hash},
        {"hash", &record.hash},
    };
    for (auto [key, target] : texts) {
      auto value = string_field(object, key);
      if (!value)
        return std::unexpected(value.error());
      *target = std::move(*value);
    }
    return record;
  } catch (const std::exception& e) {
    return corrupt(e.what());
  }
}

/// Why `line` is not exactly what the log writes for `record`, or nothing. Comparing the
/// bytes, not just the parsed values, is what catches changes the JSON parser would
/// forgive: another escape for the same character, spacing, key order, duplicate keys.
std::optional<std::string> check_line(std::string_view line, const audit_record& record) {
  auto expected_line = line_of_record(record);
  if (!expected_line)
    return "cannot be re-encoded: " + expected_line.error().detail;
  if (*expected_line != line)
    return std::string("is not in canonical form");
  auto expected_hash = hash_of(record);
  if (!expected_hash)
    return "cannot be hashed: " + expected_hash.error().detail;
  if (*expected_hash != record.hash)
    return std::string("has a hash that does not match its content");
  return std::nullopt;
}

/// Finds where JSON parsing of a fragment stops, to tell a line cut short by a crash
/// (still inside the top-level object when the bytes run out) from a damaged one.
class prefix_probe final : public json::json_sax_t {
public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    error_position_ = position;
    depth_at_error_ = depth_;
    return false;
  }

  /// True when the fragment of `size` bytes is an unfinished JSON object.
  bool ran_out(std::size_t size) const {
    // The parser reports an error at the end of input one past the last byte.
    return error_position_ == size + 1 && depth_at_error_ > 0;
  }

private:
  bool enter() {
    ++depth_;
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  int depth_at_error_ = 0;
  std::size_t error_position_ = 0;
};

/// True when `tail` can be what a crash leaves of a line being written: nothing but the
/// start of a record, possibly followed by zeros (some file systems show never-written
/// blocks as zeros after a crash).
bool is_torn_line(std::string_view tail) {
  auto end = tail.find_last_not_of('\0');
  if (end == std::string_view::npos)
    return true;
  tail = tail.substr(0, end + 1);
  if (tail.front() != '{')
    return false;
  try {
    prefix_probe probe;
    json::sax_parse(tail, &probe);
    return probe.ran_out(tail.size());
  } catch (const std::exception&) {
    return false;
  }
}

std::expected<void, int> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return std::unexpected(n < 0 ? errno : EIO);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::expected<std::string, int> read_range(int fd, std::uint64_t from, std::uint64_t to) {
  std::string out(to - from, '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    auto n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(from + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return std::unexpected(errno);
    if (n == 0)
      break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

/// The offset of the last newline before `before`, or nothing if there is none.
std::expected<std::optional<std::uint64_t>, int> find_last_newline(int fd, std::uint64_t before) {
  while (before > 0) {
    auto from = before > read_block ? before - read_block : 0;
    auto block = read_range(fd, from, before);
    if (!block)
      return std::unexpected(block.error());
    if (auto at = block->rfind('\n'); at != std::string::npos)
      return from + at;
    before = from;
  }
  return std::nullopt;
}

/// Calls `on_line(line, terminated)` for every line between byte `start` (a line's first
/// byte) and byte `end` of `fd`; a last line without its newline comes with `terminated`
/// false.
template <typename on_line_t>
std::expected<void, int> for_each_line(int fd, std::uint64_t end, on_line_t on_line,
                                       std::uint64_t start = 0, const bool* stop = nullptr) {
  std::string pending;
  std::uint64_t offset = start;
  while (offset < end && !(stop && *stop)) {
    auto block = read_range(fd, offset, std::min<std::uint64_t>(end, offset + read_block));
    if (!block)
      return std::unexpected(block.error());
    if (block->empty())
      break;
    offset += block->size();
    std::string_view rest(*block);
    for (auto at = rest.find('\n'); at != std::string_view::npos; at = rest.find('\n')) {
      pending.append(rest.substr(0, at));
      on_line(std::string_view(pending), true);
      pending.clear();
      rest.remove_prefix(at + 1);
    }
    pending.append(rest);
  }
  if (!pending.empty())
    on_line(std::string_view(pending), false);
  return {};
}

std::expected<std::uint64_t, int> file_size(int fd) {
  struct stat status {};
  if (::fstat(fd, &status) != 0)
    return std::unexpected(errno);
  return static_cast<std::uint64_t>(status.st_size);
}

/// Makes a newly created file's directory entry durable; without it a crash can lose the
/// file, and every record in it, even though each record was synced. Returns errno, or 0.
int sync_directory(const std::filesystem::path& file) {
  auto directory = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  int failure = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return failure;
}

bool matches(const audit_record& record, const audit_filter& filter) {
  return record.sequence > filter.after_sequence && (!filter.kind || record.kind == *filter.kind) &&
         (filter.actor.empty() || record.actor == filter.actor) &&
         (!filter.since || record.time >= *filter.since) &&
         (!filter.until || record.time < *filter.until);
}

} // namespace

std::optional<audit_kind> parse_audit_kind(std::string_view text) {
  return parse_name(audit_kind_names, text);
}

std::optional<audit_outcome> parse_audit_outcome(std::string_view text) {
  return parse_name(audit_outcome_names, text);
}

audit_log::audit_log(std::filesystem::path path, int fd, const clock& time)
    : path_(std::move(path)), fd_(fd), clock_(time), last_hash_(genesis_hash()) {}

audit_log::~audit_log() {
  ::close(fd_);
}

std::expected<std::unique_ptr<audit_log>, audit_error> audit_log::open(std::filesystem::path path,
                                                                       const clock& time) {
  bool created = true;
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  }
  if (fd < 0)
    return std::unexpected(io_failure("cannot open", path, errno));
  std::unique_ptr<audit_log> log(new audit_log(path, fd, time));

  struct stat status {};
  if (::fstat(fd, &status) != 0)
    return std::unexpected(io_failure("cannot stat", path, errno));
  // A FIFO or device would block or lie about its size.
  if (!S_ISREG(status.st_mode))
    return std::unexpected(
        audit_error{audit_errc::invalid_argument, path.string() + " is not a regular file"});
  // A second writer would fork the chain: two records with the same sequence.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0)
    return std::unexpected(io_failure("cannot lock (another writer holds it?)", path, errno));
  if (created) {
    // The audit trail holds before/after images of security data: not for other users,
    // whatever the umask says.
    if (::fchmod(fd, 0600) != 0)
      return std::unexpected(io_failure("cannot set the mode of", path, errno));
    if (int failure = sync_directory(path); failure != 0)
      return std::unexpected(io_failure("cannot sync the directory of", path, failure));
  }

  auto size = static_cast<std::uint64_t>(status.st_size);
  if (size > 0) {
    auto last_byte = read_range(fd, size - 1, size);
    if (!last_byte)
      return std::unexpected(io_failure("cannot read", path, last_byte.error()));
    if (*last_byte != "\n") {
      auto newline = find_last_newline(fd, size);
      if (!newline)
        return std::unexpected(io_failure("cannot read", path, newline.error()));
      std::uint64_t start = *newline ? **newline + 1 : 0;
      auto tail = read_range(fd, start, size);
      if (!tail)
        return std::unexpected(io_failure("cannot read", path, tail.error()));
      auto record = decode_record_line(*tail);
      bool complete = record && !check_line(*tail, *record);
      if (!complete && is_torn_line(*tail)) {
        if (::ftruncate(fd, static_cast<off_t>(start)) != 0)
          return std::unexpected(io_failure("cannot truncate the torn line of", path, errno));
        log->repaired_bytes_ = size - start;
        size = start;
      } else {
        // Either a whole record that lost only its newline, or damage that is not a crash
        // artefact (a changed newline, say). Both stay for verify() to judge; the newline
        // keeps the next record on a line of its own.
        if (auto written = write_all(fd, "\n"); !written)
          return std::unexpected(io_failure("cannot write", path, written.error()));
        size += 1;
      }
      if (::fdatasync(fd) != 0)
        return std::unexpected(io_failure("cannot sync", path, errno));
    }
  }

  if (size > 0) {
    auto newline = find_last_newline(fd, size - 1);
    if (!newline)
      return std::unexpected(io_failure("cannot read", path, newline.error()));
    auto line = read_range(fd, *newline ? **newline + 1 : 0, size - 1);
    if (!line)
      return std::unexpected(io_failure("cannot read", path, line.error()));
    auto record = decode_record_line(*line);
    if (!record) {
      // The last line is damaged: continue after the last one that still reads as a
      // record, the best guess at where the trail was.
      auto scanned = for_each_line(fd, size, [&](std::string_view text, bool) {
        if (auto candidate = decode_record_line(text))
          record = std::move(candidate);
      });
      if (!scanned)
        return std::unexpected(io_failure("cannot read", path, scanned.error()));
    }
    if (record) {
      log->last_sequence_ = record->sequence;
      log->last_hash_ = record->hash;
    }
  }
  return log;
}

std::expected<audit_record, audit_error> audit_log::append(audit_record record) {
  std::vector<audit_record> one;
  one.push_back(std::move(record));
  auto appended = append_all(std::move(one));
  if (!appended)
    return std::unexpected(appended.error());
  return std::move(appended->front());
}

std::expected<std::vector<audit_record>, audit_error>
audit_log::append_all(std::vector<audit_record> records) {
  for (auto& record : records) {
    if (to_string(record.kind) == "unknown")
      return std::unexpected(audit_error{audit_errc::invalid_argument, "audit kind out of range"});
    if (to_string(record.outcome) == "unknown")
      return std::unexpected(
          audit_error{audit_errc::invalid_argument, "audit outcome out of range"});
    for (auto* text : {&record.actor, &record.source, &record.service, &record.action,
                       &record.object, &record.reason, &record.before, &record.after})
      *text = valid_utf8(*text);
  }

  std::lock_guard lock(mutex_);
  if (broken_)
    return std::unexpected(
        audit_error{audit_errc::io_error, "an earlier write to " + path_.string() +
                                              " failed and could not be undone; reopen the log"});
  auto size_before = file_size(fd_);
  if (!size_before)
    return std::unexpected(io_failure("cannot stat", path_, size_before.error()));
  const auto now = std::chrono::floor<std::chrono::microseconds>(clock_.now());
  std::string lines;
  std::vector<std::uint64_t> offsets;
  auto sequence = last_sequence_;
  auto previous = last_hash_;
  for (auto& record : records) {
    record.sequence = ++sequence;
    record.time = now;
    record.previous_hash = previous;
    auto hash = hash_of(record);
    if (!hash)
      return std::unexpected(
          audit_error{audit_errc::io_error, "cannot hash the record: " + hash.error().detail});
    record.hash = std::move(*hash);
    auto line = line_of_record(record);
    if (!line)
      return std::unexpected(
          audit_error{audit_errc::io_error, "cannot encode the record: " + line.error().detail});
    offsets.push_back(*size_before + lines.size());
    lines += *line;
    lines += '\n';
    previous = record.hash;
  }
  auto written = write_all(fd_, lines);
  int failure = written ? 0 : written.error();
  if (written && ::fdatasync(fd_) != 0) {
    failure = errno;
    // After a failed sync the kernel may have dropped the dirty pages and forgotten the
    // error; nothing written through this descriptor can be trusted any more.
    broken_ = true;
  }
  if (failure != 0) {
    // A partial line left in place would glue itself to the next record.
    if (::ftruncate(fd_, static_cast<off_t>(*size_before)) != 0)
      broken_ = true;
    return std::unexpected(io_failure("cannot append to", path_, failure));
  }
  if (!records.empty()) {
    last_sequence_ = records.back().sequence;
    last_hash_ = records.back().hash;
  }
  for (std::size_t i = 0; i < records.size(); ++i)
    if (records[i].sequence % index_interval == 0)
      index_.emplace(records[i].sequence, offsets[i]);
  return records;
}

std::expected<std::vector<audit_record>, audit_error>
audit_log::query(const audit_filter& filter) const {
  if (filter.limit == 0 || filter.limit > max_audit_query_limit)
    return std::unexpected(
        audit_error{audit_errc::invalid_argument,
                    "query limit must be 1 to " + std::to_string(max_audit_query_limit)});
  std::uint64_t end = 0;
  std::uint64_t start = 0;
  {
    // Appends hold the lock from write to sync, so the size seen here ends on a whole
    // record; reading without the lock keeps a long query from stalling logins.
    std::lock_guard lock(mutex_);
    auto size = file_size(fd_);
    if (!size)
      return std::unexpected(io_failure("cannot stat", path_, size.error()));
    end = *size;
    // Paging forward (the line forwarder does, batch after batch) starts at the nearest
    // indexed record at or before the cursor instead of at the top of the trail.
    if (auto it = index_.upper_bound(filter.after_sequence); it != index_.begin())
      start = std::prev(it)->second;
  }
  std::deque<audit_record> found;
  bool full = false;
  auto scanned = for_each_line(
      fd_, end,
      [&](std::string_view line, bool terminated) {
        if (!terminated || full)
          return;
        auto record = decode_record_line(line);
        if (!record || !matches(*record, filter))
          return;
        found.push_back(std::move(*record));
        if (found.size() > filter.limit)
          found.pop_front();
        full = filter.oldest_first && found.size() >= filter.limit;
      },
      start, &full);
  if (!scanned)
    return std::unexpected(io_failure("cannot read", path_, scanned.error()));
  return std::vector<audit_record>(std::make_move_iterator(found.begin()),
                                   std::make_move_iterator(found.end()));
}

std::expected<verify_result, audit_error> audit_log::verify() const {
  std::uint64_t end = 0;
  std::uint64_t written_sequence = 0;
  std::string written_hash;
  {
    std::lock_guard lock(mutex_);
    auto size = file_size(fd_);
    if (!size)
      return std::unexpected(io_failure("cannot stat", path_, size.error()));
    end = *size;
    written_sequence = last_sequence_;
    written_hash = last_hash_;
  }

  verify_result result;
  std::uint64_t line_number = 0;
  std::uint64_t expected_sequence = 1;
  std::string expected_previous = genesis_hash();
  auto fail = [&](std::string problem) {
    result.intact = false;
    result.first_bad_sequence = expected_sequence;
    result.problem = "line " + std::to_string(line_number) + " " + std::move(problem);
  };
  auto scanned = for_each_line(fd_, end, [&](std::string_view line, bool terminated) {
    ++line_number;
    if (terminated)
      ++result.records;
    if (!result.intact)
      return; // only counting from here on
    if (!terminated)
      return fail("is not terminated by a newline");
    auto record = decode_record_line(line);
    if (!record)
      return fail("is not an audit record: " + record.error().detail);
    if (auto problem = check_line(line, *record))
      return fail(std::move(*problem));
    if (record->sequence != expected_sequence)
      return fail("has sequence " + std::to_string(record->sequence) + " where " +
                  std::to_string(expected_sequence) + " was due");
    if (record->previous_hash != expected_previous)
      return fail("does not chain to the record before it");
    ++expected_sequence;
    expected_previous = record->hash;
  });
  if (!scanned)
    return std::unexpected(io_failure("cannot read", path_, scanned.error()));
  if (result.intact &&
      (expected_sequence - 1 != written_sequence || expected_previous != written_hash)) {
    // The file is a clean chain but shorter than (or different from) what this log wrote:
    // records were cut from the end while it was open.
    result.intact = false;
    result.first_bad_sequence = expected_sequence;
    result.problem = "the file ends at sequence " + std::to_string(expected_sequence - 1) +
                     " but this log wrote up to " + std::to_string(written_sequence);
  }
  return result;
}

std::uint64_t audit_log::last_sequence() const {
  std::lock_guard lock(mutex_);
  return last_sequence_;
}

std::string audit_log::last_hash() const {
  std::lock_guard lock(mutex_);
  return last_hash_;
}

std::expected<std::string, audit_error> encode_audit_record(const audit_record& record) {
  return line_of_record(record);
}

std::expected<audit_record, audit_error> decode_audit_record(std::string_view line) {
  return decode_record_line(line);
}

} // namespace ward::security
