#pragma once

#include "core/clock.hpp"
#include "core/enum_names.hpp"
#include "core/typed_error.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::security {

/// What an audit record is about (SPEC MON-1).
enum class audit_kind {
  /// An administrative login attempt, whatever its outcome.
  login,
  /// The end of an administrative session.
  logout,
  /// Any administrative change to configuration or security data.
  change,
  /// A service user's password was changed or reset.
  password_change,
  /// Security data was reset (database reset, default restore).
  security_reset,
  /// An alarm was raised or acknowledged.
  alarm,
  /// A request was refused for lack of rights or a valid session.
  access_denied,
  /// A syslog message the primary received from a device (SPEC MON-2, TOP-2); kept with
  /// the forwarded events, never in a node's own trail.
  syslog,
  /// A call record (SPEC TF-8): kept in the node's call record log, never in its audit
  /// trail; the record itself is the JSON in `after`.
  call,
};

inline constexpr auto audit_kind_names = name_table(
    enum_name{audit_kind::login, "login"}, enum_name{audit_kind::logout, "logout"},
    enum_name{audit_kind::change, "change"},
    enum_name{audit_kind::password_change, "password_change"},
    enum_name{audit_kind::security_reset, "security_reset"}, enum_name{audit_kind::alarm, "alarm"},
    enum_name{audit_kind::access_denied, "access_denied"}, enum_name{audit_kind::syslog, "syslog"},
    enum_name{audit_kind::call, "call"});

constexpr std::string_view to_string(audit_kind kind) {
  return name_of(audit_kind_names, kind);
}

/// The audit kind named `text` (as written by to_string), or nothing for any other text.
std::optional<audit_kind> parse_audit_kind(std::string_view text);

/// Whether the audited action took effect.
enum class audit_outcome { success, failure };

inline constexpr auto audit_outcome_names = name_table(
    enum_name{audit_outcome::success, "success"}, enum_name{audit_outcome::failure, "failure"});

constexpr std::string_view to_string(audit_outcome outcome) {
  return name_of(audit_outcome_names, outcome);
}

/// The audit outcome named `text` (as written by to_string), or nothing for any other text.
std::optional<audit_outcome> parse_audit_outcome(std::string_view text);

/// One entry of the audit trail. The caller fills in what happened; the log fills in
/// where it sits in the trail (sequence, time, hashes).
struct audit_record {
  /// Position in the trail, assigned by the log: 1-based and gapless.
  std::uint64_t sequence = 0;
  /// When the log accepted the record, from its injected clock, truncated to microseconds
  /// because that is the resolution stored.
  std::chrono::system_clock::time_point time{};
  audit_kind kind = audit_kind::change;
  audit_outcome outcome = audit_outcome::success;
  /// The service user's name, or "" when unknown (a login with an unknown name).
  std::string actor;
  /// The peer address, e.g. "ipv4:127.0.0.1:5555".
  std::string source;
  /// The interface used: "security", "configuration", "status", ...
  std::string service;
  /// The operation, e.g. "Login", "SetPolicy", "ServiceUserUpdate".
  std::string action;
  /// What was acted on, e.g. "service_user/Administrator".
  std::string object;
  /// Why it failed, or details.
  std::string reason;
  /// JSON text of the object before the change; secrets must already be redacted.
  std::string before;
  /// JSON text of the object after the change; secrets must already be redacted.
  std::string after;
  /// The previous record's `hash`; 64 zeros for the first record.
  std::string previous_hash;
  /// Lowercase hex SHA-256 of the record's canonical encoding, which covers every other
  /// field including `previous_hash`, so each record vouches for all records before it.
  std::string hash;
};

/// Why an audit log operation failed.
enum class audit_errc {
  /// Opening, locking, reading, writing or syncing the log file failed, or an earlier
  /// failed write left the log unusable until it is reopened.
  io_error,
  /// A record line that does not decode (decode_audit_record). The log itself never stops
  /// on damage: verify() reports it and query() skips it, so that one bad line never hides
  /// the rest of the trail.
  corrupt,
  /// The caller passed something the log cannot store or answer (an enum value out of
  /// range, a query limit of zero or above max_audit_query_limit, a record that cannot be
  /// encoded).
  invalid_argument,
};

inline constexpr auto audit_errc_names = name_table(
    enum_name{audit_errc::io_error, "io_error"}, enum_name{audit_errc::corrupt, "corrupt"},
    enum_name{audit_errc::invalid_argument, "invalid_argument"});

constexpr std::string_view to_string(audit_errc code) {
  return name_of(audit_errc_names, code);
}

using audit_error = typed_error<audit_errc>;

/// One record as the trail stores it: a JSON line without its newline (and back). Other
/// stores of audit records (the primary's forwarded events) use the same encoding.
std::expected<std::string, audit_error> encode_audit_record(const audit_record& record);
std::expected<audit_record, audit_error> decode_audit_record(std::string_view line);

/// The most records one query may return; bounds the memory a query can take.
inline constexpr std::size_t max_audit_query_limit = 10000;

/// Which records a query returns. Every criterion that is set must match.
struct audit_filter {
  std::optional<audit_kind> kind;
  /// Exact service user name; "" matches every actor.
  std::string actor;
  /// Records at or after this time.
  std::optional<std::chrono::system_clock::time_point> since;
  /// Records strictly before this time.
  std::optional<std::chrono::system_clock::time_point> until;
  /// Records with a greater sequence; for paging forward.
  std::uint64_t after_sequence = 0;
  /// At most this many records: the last (newest) ones that match, or the first (oldest)
  /// ones with `oldest_first`, which pages forward from `after_sequence`.
  std::size_t limit = 100;
  bool oldest_first = false;
};

/// What verify() found.
struct verify_result {
  /// True when every record is well formed, correctly hashed, chained to its predecessor
  /// and numbered one after it, and the file ends with the last record this log wrote.
  bool intact = true;
  /// Complete lines in the file, damaged ones included.
  std::uint64_t records = 0;
  /// The sequence number at which the trail stops being trustworthy (the sequence the
  /// first bad line should have had); 0 when intact.
  std::uint64_t first_bad_sequence = 0;
  /// What is wrong with the first bad line, naming its line number; "" when intact.
  std::string problem;
};

/// The append-only, hash-chained audit trail of SPEC MON-1, one JSON object per line.
///
/// Every record is written and fdatasync()ed before append() returns, so an acknowledged
/// record survives a crash (DESIGN §2). Each record's hash covers the previous record's
/// hash, so changing, removing or reordering any record breaks the chain from there on and
/// verify() reports it. Removing whole records from the end cannot be seen from the file
/// alone; verify() catches it while the log that wrote them is open, and callers that need
/// more keep last_sequence() and last_hash() somewhere else (syslog, the database).
///
/// One process appends to a file at a time: open() takes an exclusive lock on it.
class audit_log {
public:
  /// Opens (creating, mode 0600) the append-only log file at `path`; its directory must
  /// exist. Reads the file's end to find the last sequence and hash. A torn final line (a
  /// crash mid-write) is truncated; any other damage is left in place for verify() to
  /// report, and appends continue after the last line that still reads as a record.
  /// `time` must outlive the log.
  static std::expected<std::unique_ptr<audit_log>, audit_error> open(std::filesystem::path path,
                                                                     const clock& time);

  audit_log(const audit_log&) = delete;
  audit_log& operator=(const audit_log&) = delete;
  ~audit_log();

  /// Appends `record` with its sequence, time and hashes filled in, and returns it as
  /// stored once it is on disk. Text that is not valid UTF-8 is stored with U+FFFD in
  /// place of the bad bytes rather than refused, so a hostile login name cannot keep its
  /// attempt out of the trail. Thread-safe.
  std::expected<audit_record, audit_error> append(audit_record record);

  /// append() for several records with one write and one sync: a busy writer (call
  /// records) pays for the disk once per batch. All are stored, or none. Thread-safe.
  std::expected<std::vector<audit_record>, audit_error>
  append_all(std::vector<audit_record> records);

  /// The last `filter.limit` records that match `filter`, oldest first. Lines that are not
  /// records are skipped; verify() is what reports them. Thread-safe.
  std::expected<std::vector<audit_record>, audit_error> query(const audit_filter& filter) const;

  /// Re-reads the whole file and checks every record's encoding and hash, the chain and
  /// the sequence continuity. Thread-safe.
  std::expected<verify_result, audit_error> verify() const;

  /// The sequence of the last record in the trail; 0 when empty.
  std::uint64_t last_sequence() const;
  /// The hash of the last record in the trail; 64 zeros when empty.
  std::string last_hash() const;
  /// Bytes of a torn final line that open() removed; 0 when the file ended cleanly. A
  /// non-zero value is worth an alarm: a crash, or someone cut the file.
  std::uint64_t repaired_bytes() const { return repaired_bytes_; }
  const std::filesystem::path& path() const { return path_; }

private:
  audit_log(std::filesystem::path path, int fd, const clock& time);

  std::filesystem::path path_;
  int fd_;
  const clock& clock_;
  mutable std::mutex mutex_;
  std::uint64_t last_sequence_ = 0;
  std::string last_hash_;
  std::uint64_t repaired_bytes_ = 0;
  /// Byte offsets of every index_interval-th record appended by this process, so queries
  /// paging forward from a sequence do not read the trail from its start.
  static constexpr std::uint64_t index_interval = 256;
  mutable std::map<std::uint64_t, std::uint64_t> index_;
  /// Set when a failed write could not be undone or a failed sync left the page cache in
  /// an unknown state; appending more would build on bytes that may not be on disk.
  bool broken_ = false;
};

} // namespace ward::security
