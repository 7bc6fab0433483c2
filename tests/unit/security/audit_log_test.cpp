#include "security/audit_log.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <thread>

using namespace ward;
using namespace std::chrono_literals;
using security::audit_kind;
using security::audit_log;
using security::audit_outcome;
using security::audit_record;

namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

std::vector<std::string> lines_of(const std::string& content) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (auto at = content.find('\n'); at != std::string::npos; at = content.find('\n', start)) {
    lines.push_back(content.substr(start, at - start));
    start = at + 1;
  }
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string content;
  for (const auto& line : lines)
    content += line + "\n";
  return content;
}

audit_record login(std::string actor, audit_outcome outcome = audit_outcome::success) {
  audit_record record;
  record.kind = audit_kind::login;
  record.outcome = outcome;
  record.actor = std::move(actor);
  record.source = "ipv4:127.0.0.1:5555";
  record.service = "security";
  record.action = "Login";
  record.object = "session";
  record.reason = outcome == audit_outcome::success ? "" : "wrong password";
  return record;
}

audit_record change(std::string object, std::string before, std::string after) {
  audit_record record;
  record.kind = audit_kind::change;
  record.actor = "Administrator";
  record.source = "ipv6:[::1]:40000";
  record.service = "configuration";
  record.action = "ServiceUserUpdate";
  record.object = std::move(object);
  record.before = std::move(before);
  record.after = std::move(after);
  return record;
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) == 1);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += "0123456789abcdef"[digest[i] >> 4];
    out += "0123456789abcdef"[digest[i] & 0x0f];
  }
  return out;
}

/// A filter changed by `edit`; designated initializers would trip
/// -Wmissing-field-initializers on g++ 12.
template <typename edit_t> security::audit_filter filter(edit_t edit) {
  security::audit_filter result;
  edit(result);
  return result;
}

std::unique_ptr<audit_log> open_log(const std::filesystem::path& path, const ward::clock& time) {
  auto log = audit_log::open(path, time);
  REQUIRE(log.has_value());
  return std::move(*log);
}

security::verify_result verify(const std::filesystem::path& path, const ward::clock& time) {
  auto log = open_log(path, time);
  auto result = log->verify();
  REQUIRE(result.has_value());
  return *result;
}

/// A log with three records of different kinds, closed; returns its file.
std::filesystem::path three_record_log(const test::temp_dir& dir, manual_clock& time) {
  auto path = dir.path() / "audit.log";
  auto log = open_log(path, time);
  REQUIRE(log->append(login("Administrator")).has_value());
  time.advance(1s);
  REQUIRE(
      log->append(change("service_user/Operator", R"({"enabled":false})", R"({"enabled":true})"))
          .has_value());
  time.advance(1s);
  REQUIRE(log->append(login("Operator", audit_outcome::failure)).has_value());
  return path;
}

} // namespace

TEST_CASE("MON-1 appends get gapless sequences from 1 and each hash chains to the one before") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = open_log(dir.path() / "audit.log", time);
  CHECK(log->last_sequence() == 0);
  CHECK(log->last_hash() == std::string(64, '0'));

  std::string previous(64, '0');
  for (std::uint64_t expected = 1; expected <= 5; ++expected) {
    auto stored = log->append(login("Administrator"));
    REQUIRE(stored.has_value());
    CHECK(stored->sequence == expected);
    CHECK(stored->previous_hash == previous);
    CHECK(stored->hash.size() == 64);
    CHECK(stored->hash.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(stored->hash != previous);
    CHECK(log->last_sequence() == expected);
    CHECK(log->last_hash() == stored->hash);
    previous = stored->hash;
  }
}

TEST_CASE("MON-1 the log ignores caller-supplied sequence and time and hashes") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = open_log(dir.path() / "audit.log", time);
  auto forged = login("Administrator");
  forged.sequence = 77;
  forged.time = test::fixed_now() - 24h;
  forged.previous_hash = std::string(64, 'f');
  forged.hash = std::string(64, 'e');
  auto stored = log->append(forged);
  REQUIRE(stored.has_value());
  CHECK(stored->sequence == 1);
  CHECK(stored->time == test::fixed_now());
  CHECK(stored->previous_hash == std::string(64, '0'));
  CHECK(stored->hash != forged.hash);
  CHECK(log->verify().value().intact);
}

TEST_CASE("MON-1 the record time comes from the injected clock in whole microseconds") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now() + 1234567ns);
  auto log = open_log(dir.path() / "audit.log", time);
  auto stored = log->append(login("Administrator"));
  REQUIRE(stored.has_value());
  CHECK(stored->time == test::fixed_now() + 1234us);

  auto line = nlohmann::json::parse(lines_of(read(log->path())).at(0));
  CHECK(line["time_us"].get<std::int64_t>() == 1767225600001234);
  CHECK(line["time"].get<std::string>() == "2026-01-01T00:00:00.001234Z");
  auto read_back = log->query({});
  REQUIRE(read_back.has_value());
  REQUIRE(read_back->size() == 1);
  CHECK(read_back->front().time == stored->time);
}

TEST_CASE("MON-1 every field survives close and reopen and the sequence continues") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = dir.path() / "audit.log";
  audit_record first;
  {
    auto log = open_log(path, time);
    auto stored = log->append(change("service_user/Operator", R"({"name":"Op \"one\""})",
                                     "{\n\t\"name\": \"Op\\u0000two\" }"));
    REQUIRE(stored.has_value());
    first = *stored;
  }
  auto log = open_log(path, time);
  CHECK(log->last_sequence() == 1);
  CHECK(log->last_hash() == first.hash);
  CHECK(log->repaired_bytes() == 0);
  time.advance(5s);
  auto second = log->append(login("Operator"));
  REQUIRE(second.has_value());
  CHECK(second->sequence == 2);
  CHECK(second->previous_hash == first.hash);

  auto all = log->query({});
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 2);
  const auto& back = all->front();
  CHECK(back.sequence == first.sequence);
  CHECK(back.time == first.time);
  CHECK(back.kind == first.kind);
  CHECK(back.outcome == first.outcome);
  CHECK(back.actor == first.actor);
  CHECK(back.source == first.source);
  CHECK(back.service == first.service);
  CHECK(back.action == first.action);
  CHECK(back.object == first.object);
  CHECK(back.reason == first.reason);
  CHECK(back.before == first.before);
  CHECK(back.after == first.after);
  CHECK(back.previous_hash == first.previous_hash);
  CHECK(back.hash == first.hash);
  CHECK(lines_of(read(path)).size() == 2);
  CHECK(log->verify().value().intact);
}

TEST_CASE("MON-1 the log file is created with mode 0600 whatever the umask") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto old_mask = ::umask(0);
  auto log = audit_log::open(dir.path() / "audit.log", time);
  ::umask(old_mask);
  REQUIRE(log.has_value());
  struct stat status {};
  REQUIRE(::stat((dir.path() / "audit.log").c_str(), &status) == 0);
  CHECK((status.st_mode & 07777) == 0600);
}

TEST_CASE("MON-1 a second writer on the same file is refused while the first holds it") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = dir.path() / "audit.log";
  auto first = audit_log::open(path, time);
  REQUIRE(first.has_value());
  auto second = audit_log::open(path, time);
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().code == security::audit_errc::io_error);
  first->reset();
  CHECK(audit_log::open(path, time).has_value());
}

TEST_CASE("MON-1 open refuses a path that is not a regular file") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = audit_log::open(dir.path(), time);
  REQUIRE_FALSE(log.has_value());
  auto fifo = dir.path() / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto from_fifo = audit_log::open(fifo, time);
  REQUIRE_FALSE(from_fifo.has_value());
  CHECK(from_fifo.error().code == security::audit_errc::invalid_argument);
  auto missing = audit_log::open(dir.path() / "no" / "such" / "audit.log", time);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == security::audit_errc::io_error);
}

TEST_CASE("MON-1 an empty log and an untouched log verify intact") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  {
    auto empty = verify(dir.path() / "empty.log", time);
    CHECK(empty.intact);
    CHECK(empty.records == 0);
    CHECK(empty.first_bad_sequence == 0);
    CHECK(empty.problem.empty());
  }
  auto result = verify(three_record_log(dir, time), time);
  CHECK(result.intact);
  CHECK(result.records == 3);
  CHECK(result.first_bad_sequence == 0);
  CHECK(result.problem.empty());
}

TEST_CASE("MON-1 verify detects a byte flipped in the middle of a line") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto content = read(path);
  auto lines = lines_of(content);
  auto middle_of_second = lines[0].size() + 1 + lines[1].size() / 2;
  content[middle_of_second] ^= 0x01;
  write(path, content);
  auto result = verify(path, time);
  CHECK_FALSE(result.intact);
  CHECK(result.first_bad_sequence == 2);
  CHECK(result.records == 3);
  CHECK(result.problem.starts_with("line 2 "));
}

TEST_CASE("MON-1 verify detects a changed hash") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto lines = lines_of(read(path));
  auto at = lines[2].find("\"hash\":\"") + 8;
  lines[2][at] = lines[2][at] == 'a' ? 'b' : 'a';
  write(path, joined(lines));
  auto result = verify(path, time);
  CHECK_FALSE(result.intact);
  CHECK(result.first_bad_sequence == 3);
  CHECK(result.problem == "line 3 has a hash that does not match its content");
}

TEST_CASE("MON-1 verify detects a changed field even when it is still valid JSON") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto lines = lines_of(read(path));
  auto at = lines[1].find("\"outcome\":\"success\"");
  REQUIRE(at != std::string::npos);
  lines[1].replace(at, 19, "\"outcome\":\"failure\"");
  write(path, joined(lines));
  auto result = verify(path, time);
  CHECK_FALSE(result.intact);
  CHECK(result.first_bad_sequence == 2);
  CHECK(result.problem == "line 2 has a hash that does not match its content");
}

TEST_CASE("MON-1 verify detects an escape the writer would not have used") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto lines = lines_of(read(path));
  // Same string to a JSON parser, different bytes: the hash of the parsed record still
  // matches, so only the byte comparison can catch it.
  auto at = lines[0].find("\"actor\":\"Administrator\"");
  REQUIRE(at != std::string::npos);
  lines[0].replace(at + 9, 1, "\\u0041");
  write(path, joined(lines));
  auto result = verify(path, time);
  CHECK_FALSE(result.intact);
  CHECK(result.first_bad_sequence == 1);
  CHECK(result.problem == "line 1 is not in canonical form");
}

TEST_CASE("MON-1 verify detects any single byte flipped anywhere in the file") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto original_path = three_record_log(dir, time);
  auto original = read(original_path);
  auto path = dir.path() / "flipped.log";
  // Bit 0 turns a character into its neighbour, bit 5 changes letter case (hex digits,
  // \u escapes), bit 7 makes invalid UTF-8: between them every kind of byte gets a change
  // a parser might forgive. All eight bits at every byte take seconds in a debug build.
  std::size_t tried = 0;
  std::vector<std::string> missed;
  for (std::size_t at = 0; at < original.size(); ++at) {
    for (unsigned char mask : {0x01, 0x20, 0x80}) {
      auto content = original;
      content[at] = static_cast<char>(content[at] ^ mask);
      write(path, content);
      auto log = audit_log::open(path, time);
      auto result = log ? (*log)->verify() : std::unexpected(log.error());
      ++tried;
      if (!result || result->intact)
        missed.push_back("byte " + std::to_string(at) + " mask " + std::to_string(mask));
    }
  }
  CHECK(tried == original.size() * 3);
  CHECK(missed == std::vector<std::string>{});
}

TEST_CASE("MON-1 verify detects every change to the last newline") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto original_path = three_record_log(dir, time);
  auto original = read(original_path);
  auto path = dir.path() / "flipped.log";
  // The final newline is the one byte whose loss open() treats as a crash; no other value
  // in its place may pass for one.
  for (int value = 0; value < 256; ++value) {
    if (value == '\n')
      continue;
    auto content = original;
    content.back() = static_cast<char>(value);
    write(path, content);
    auto log = audit_log::open(path, time);
    REQUIRE(log.has_value());
    CAPTURE(value);
    CHECK_FALSE((*log)->verify().value().intact);
  }
}

TEST_CASE("MON-1 verify detects a deleted line") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto lines = lines_of(read(path));
  lines.erase(lines.begin() + 1);
  write(path, joined(lines));
  auto result = verify(path, time);
  CHECK_FALSE(result.intact);
  CHECK(result.records == 2);
  CHECK(result.first_bad_sequence == 2);
  CHECK(result.problem == "line 2 has sequence 3 where 2 was due");
}

TEST_CASE("MON-1 verify detects a deleted first line") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto lines = lines_of(read(path));
  lines.erase(lines.begin());
  write(path, joined(lines));
  auto result = verify(path, time);
  CHECK_FALSE(result.intact);
  CHECK(result.first_bad_sequence == 1);
}

TEST_CASE("MON-1 verify detects two reordered lines") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto lines = lines_of(read(path));
  std::swap(lines[1], lines[2]);
  write(path, joined(lines));
  auto result = verify(path, time);
  CHECK_FALSE(result.intact);
  CHECK(result.records == 3);
  CHECK(result.first_bad_sequence == 2);
}

TEST_CASE("MON-1 verify detects a record renumbered and rehashed to fill a gap") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto lines = lines_of(read(path));
  // Anyone can recompute a record's own hash; what gives the deletion away is the chain.
  lines.erase(lines.begin() + 1);
  auto renumbered = nlohmann::json::parse(lines[1]);
  renumbered["sequence"] = 2;
  renumbered.erase("hash");
  renumbered["hash"] = sha256_hex(renumbered.dump());
  lines[1] = renumbered.dump();
  write(path, joined(lines));
  auto result = verify(path, time);
  CHECK_FALSE(result.intact);
  CHECK(result.first_bad_sequence == 2);
  CHECK(result.problem == "line 2 does not chain to the record before it");
}

TEST_CASE("MON-1 verify detects records cut from the end while the log is open") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = dir.path() / "audit.log";
  auto log = open_log(path, time);
  for (int i = 0; i < 3; ++i)
    REQUIRE(log->append(login("Administrator")).has_value());
  auto lines = lines_of(read(path));
  lines.pop_back();
  std::filesystem::resize_file(path, joined(lines).size());
  auto result = log->verify();
  REQUIRE(result.has_value());
  CHECK_FALSE(result->intact);
  CHECK(result->records == 2);
  CHECK(result->first_bad_sequence == 3);
}

TEST_CASE("MON-1 open repairs a line torn by a crash and the next append verifies intact") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto content = read(path);
  auto lines = lines_of(content);
  auto torn_at = content.size() - lines[2].size() / 2;
  std::filesystem::resize_file(path, torn_at);

  auto log = open_log(path, time);
  CHECK(log->repaired_bytes() == torn_at - (content.size() - lines[2].size() - 1));
  CHECK(log->last_sequence() == 2);
  CHECK(read(path) == lines[0] + "\n" + lines[1] + "\n");
  auto stored = log->append(login("Operator"));
  REQUIRE(stored.has_value());
  CHECK(stored->sequence == 3);
  auto result = log->verify();
  REQUIRE(result.has_value());
  CHECK(result->intact);
  CHECK(result->records == 3);
}

TEST_CASE("MON-1 open repairs a torn line at every cut point of the last record") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto original_path = three_record_log(dir, time);
  auto original = read(original_path);
  auto lines = lines_of(original);
  auto last_start = original.size() - lines[2].size() - 1;
  auto path = dir.path() / "torn.log";
  for (auto cut = last_start + 1; cut < original.size() - 1; ++cut) {
    write(path, original.substr(0, cut));
    auto log = audit_log::open(path, time);
    REQUIRE(log.has_value());
    CHECK((*log)->repaired_bytes() == cut - last_start);
    CHECK((*log)->last_sequence() == 2);
  }
}

TEST_CASE("MON-1 open repairs a torn tail of zeros left by the file system") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto content = read(path);
  write(path, content + std::string(300, '\0'));
  auto log = open_log(path, time);
  CHECK(log->repaired_bytes() == 300);
  CHECK(log->last_sequence() == 3);
  REQUIRE(log->append(login("Operator")).has_value());
  CHECK(log->verify().value().intact);
}

TEST_CASE("MON-1 a last record that lost only its newline is kept") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto content = read(path);
  write(path, content.substr(0, content.size() - 1));
  auto log = open_log(path, time);
  CHECK(log->repaired_bytes() == 0);
  CHECK(log->last_sequence() == 3);
  CHECK(read(path) == content);
  REQUIRE(log->append(login("Operator")).has_value());
  auto result = log->verify();
  REQUIRE(result.has_value());
  CHECK(result->intact);
  CHECK(result->records == 4);
}

TEST_CASE("MON-1 appending after damage goes on and verify keeps reporting the damage") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = three_record_log(dir, time);
  auto content = read(path);
  content[content.size() - 1] = 'x'; // the last newline, changed
  write(path, content);
  auto log = open_log(path, time);
  CHECK(log->repaired_bytes() == 0);
  CHECK(log->last_sequence() == 2);
  auto stored = log->append(login("Operator"));
  REQUIRE(stored.has_value());
  auto result = log->verify();
  REQUIRE(result.has_value());
  CHECK_FALSE(result->intact);
  CHECK(result->first_bad_sequence == 3);
  CHECK(result->records == 4);
  auto queried = log->query({});
  REQUIRE(queried.has_value());
  CHECK(queried->size() == 3);
}

TEST_CASE("MON-1 text that is not UTF-8 is stored with replacement characters") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = open_log(dir.path() / "audit.log", time);
  auto stored = log->append(login("adm\xff\xc0\xafin\xed\xa0\x80"
                                  "\xe2\x82\xac"));
  REQUIRE(stored.has_value());
  CHECK(stored->actor == "adm\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDin\xEF\xBF\xBD\xEF\xBF\xBD\xEF"
                         "\xBF\xBD\xe2\x82\xac");
  auto all = log->query({});
  REQUIRE(all.has_value());
  CHECK(all->at(0).actor == stored->actor);
  CHECK(log->verify().value().intact);
}

TEST_CASE("MON-1 an out of range kind or outcome is refused with invalid_argument") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = open_log(dir.path() / "audit.log", time);
  auto record = login("Administrator");
  record.kind = static_cast<audit_kind>(99);
  auto refused = log->append(record);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == security::audit_errc::invalid_argument);
  record = login("Administrator");
  record.outcome = static_cast<audit_outcome>(7);
  CHECK(log->append(record).error().code == security::audit_errc::invalid_argument);
  CHECK(log->last_sequence() == 0);
}

TEST_CASE("MON-1 audit kinds round-trip through their names") {
  for (auto kind :
       {audit_kind::login, audit_kind::logout, audit_kind::change, audit_kind::password_change,
        audit_kind::security_reset, audit_kind::alarm, audit_kind::access_denied})
    CHECK(security::parse_audit_kind(security::to_string(kind)) == kind);
  CHECK(security::to_string(audit_kind::password_change) == "password_change");
  CHECK_FALSE(security::parse_audit_kind("Login").has_value());
  CHECK_FALSE(security::parse_audit_kind("").has_value());
  CHECK(security::parse_audit_outcome("failure") == audit_outcome::failure);
  CHECK_FALSE(security::parse_audit_outcome("ok").has_value());
}

TEST_CASE("MON-1 query filters by kind and actor and time and sequence") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = open_log(dir.path() / "audit.log", time);
  REQUIRE(log->append(login("Administrator")).has_value()); // 1 at +0s
  time.advance(10s);
  REQUIRE(log->append(login("Operator", audit_outcome::failure)).has_value()); // 2 at +10s
  time.advance(10s);
  REQUIRE(log->append(change("policy/default", "{}", R"({"x":1})")).has_value()); // 3 at +20s
  time.advance(10s);
  REQUIRE(log->append(login("Operator")).has_value()); // 4 at +30s

  auto sequences = [&](const security::audit_filter& filter) {
    std::vector<std::uint64_t> out;
    auto found = log->query(filter);
    REQUIRE(found.has_value());
    for (const auto& record : *found)
      out.push_back(record.sequence);
    return out;
  };
  using list = std::vector<std::uint64_t>;
  CHECK(sequences({}) == list{1, 2, 3, 4});
  CHECK(sequences(filter([&](auto& f) { f.kind = audit_kind::login; })) == list{1, 2, 4});
  CHECK(sequences(filter([&](auto& f) { f.kind = audit_kind::change; })) == list{3});
  CHECK(sequences(filter([&](auto& f) { f.actor = "Operator"; })) == list{2, 4});
  CHECK(sequences(filter([&](auto& f) {
          f.kind = audit_kind::login;
          f.actor = "Administrator";
        })) == list{1});
  CHECK(sequences(filter([&](auto& f) { f.since = test::fixed_now() + 10s; })) == list{2, 3, 4});
  CHECK(sequences(filter([&](auto& f) { f.until = test::fixed_now() + 20s; })) == list{1, 2});
  CHECK(sequences(filter([&](auto& f) {
          f.since = test::fixed_now() + 10s;
          f.until = test::fixed_now() + 30s;
        })) == list{2, 3});
  CHECK(sequences(filter([&](auto& f) { f.after_sequence = 2; })) == list{3, 4});
  CHECK(sequences(filter([&](auto& f) { f.actor = "nobody"; })).empty());
}

TEST_CASE("MON-1 query returns the newest matches up to the limit oldest first") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = open_log(dir.path() / "audit.log", time);
  for (int i = 0; i < 10; ++i)
    REQUIRE(log->append(login(i % 2 == 0 ? "Administrator" : "Operator")).has_value());
  auto newest = log->query(filter([&](auto& f) { f.limit = 3; }));
  REQUIRE(newest.has_value());
  REQUIRE(newest->size() == 3);
  CHECK(newest->at(0).sequence == 8);
  CHECK(newest->at(2).sequence == 10);
  auto operators = log->query(filter([&](auto& f) {
    f.actor = "Operator";
    f.limit = 2;
  }));
  REQUIRE(operators.has_value());
  REQUIRE(operators->size() == 2);
  CHECK(operators->at(0).sequence == 8);
  CHECK(operators->at(1).sequence == 10);
}

TEST_CASE("MON-1 a query limit of zero or above the maximum is refused") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = open_log(dir.path() / "audit.log", time);
  CHECK(log->query(filter([&](auto& f) { f.limit = 0; })).error().code ==
        security::audit_errc::invalid_argument);
  CHECK(log->query(filter([&](auto& f) { f.limit = security::max_audit_query_limit + 1; }))
            .error()
            .code == security::audit_errc::invalid_argument);
  CHECK(
      log->query(filter([&](auto& f) { f.limit = security::max_audit_query_limit; })).has_value());
}

TEST_CASE("MON-1 concurrent appends stay gapless and chained") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = open_log(dir.path() / "audit.log", time);
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&log, t] {
      for (int i = 0; i < 20; ++i)
        (void)log->append(login("writer" + std::to_string(t)));
    });
  for (auto& writer : writers)
    writer.join();
  CHECK(log->last_sequence() == 80);
  auto result = log->verify();
  REQUIRE(result.has_value());
  CHECK(result->intact);
  CHECK(result->records == 80);
}

TEST_CASE("MON-2 paging forward oldest first returns the records after the cursor in order") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto log = audit_log::open(dir.path() / "audit.log", time);
  REQUIRE(log.has_value());
  for (int i = 0; i < 600; ++i) {
    audit_record record;
    record.kind = i % 7 == 0 ? audit_kind::alarm : audit_kind::login;
    record.action = "Login";
    record.object = "service_user/u" + std::to_string(i);
    REQUIRE((*log)->append(record).has_value());
  }
  security::audit_filter page;
  page.oldest_first = true;
  page.limit = 10;
  // Cursors before, at and after the indexed records (every 256th) all page exactly.
  for (std::uint64_t after : {0u, 255u, 256u, 300u, 511u, 512u, 590u}) {
    page.after_sequence = after;
    auto records = (*log)->query(page);
    REQUIRE(records.has_value());
    REQUIRE(records->size() == std::min<std::size_t>(10, 600 - after));
    for (std::size_t i = 0; i < records->size(); ++i)
      CHECK((*records)[i].sequence == after + 1 + i);
  }
  page.after_sequence = 600;
  CHECK((*log)->query(page)->empty());
  // Without oldest_first the newest matching records come back, as before.
  security::audit_filter newest;
  newest.limit = 3;
  newest.kind = audit_kind::alarm;
  auto alarms = (*log)->query(newest);
  REQUIRE(alarms->size() == 3);
  CHECK(alarms->back().sequence == 596); // record index 595 = 7 * 85
}

TEST_CASE("TF-8 MON-1 a batch is appended with one write: chained, numbered, all or nothing") {
  test::temp_dir dir;
  manual_clock time(test::fixed_now());
  auto path = dir.path() / "call-records.log";
  {
    auto log = open_log(path, time);
    REQUIRE(log->append(login("Administrator")).has_value());
    std::vector<audit_record> batch;
    for (int i = 0; i < 300; ++i)
      batch.push_back(change("call/node-a/" + std::to_string(i), "", "{}"));
    auto stored = log->append_all(batch);
    REQUIRE(stored.has_value());
    REQUIRE(stored->size() == 300);
    CHECK(stored->front().sequence == 2);
    CHECK(stored->back().sequence == 301);
    CHECK((*stored)[1].previous_hash == (*stored)[0].hash);
    CHECK(log->last_hash() == stored->back().hash);
    // A record the log cannot store refuses the whole batch.
    std::vector<audit_record> bad{change("call/node-a/x", "", "{}"), login("x")};
    bad[1].kind = static_cast<audit_kind>(99);
    CHECK(log->append_all(bad).error().code == security::audit_errc::invalid_argument);
    CHECK(log->last_sequence() == 301);
    // Paging forward past the index the batch built finds the right records.
    auto page = log->query(filter([](auto& f) {
      f.after_sequence = 260;
      f.oldest_first = true;
      f.limit = 5;
    }));
    REQUIRE(page.has_value());
    REQUIRE(page->size() == 5);
    CHECK(page->front().sequence == 261);
  }
  const auto result = verify(path, time);
  CHECK(result.intact);
  CHECK(result.records == 301);
}
