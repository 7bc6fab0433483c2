#pragma once

#include "core/clock.hpp"
#include "security/audit_log.hpp"
#include "telephony/call_record.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ward::node {

/// The node's call records (SPEC TF-3, TF-8): an append-only, hash-chained log of its own
/// (call-records.log beside the audit trail, the same format), written by one thread in
/// batches so that a burst of call ends costs one synced write. A call counts as ended for
/// the rest of the node (`on_durable`: the log line, the counters) only once its record is
/// on disk. What is queued when the node stops is written before the thread ends.
class call_record_writer {
public:
  /// `on_durable` runs on the writer's thread for each record once it is stored.
  static std::expected<std::unique_ptr<call_record_writer>, std::string>
  start(const std::filesystem::path& path, const clock& time,
        std::function<void(const telephony::call_record&)> on_durable);
  ~call_record_writer();
  call_record_writer(const call_record_writer&) = delete;
  call_record_writer& operator=(const call_record_writer&) = delete;

  /// Queues a record; never blocks on the disk. `report`, when given, is logged once the
  /// record is stored: the call's end as the rest of the node sees it.
  void submit(telephony::call_record record, std::string report = {});
  /// The log, for queries and forwarding.
  std::shared_ptr<security::audit_log> log() const { return log_; }
  std::uint64_t written() const { return written_.load(); }
  /// Failed batch writes (retried: nothing is dropped while the node runs).
  std::uint64_t failures() const { return failures_.load(); }

private:
  call_record_writer(std::shared_ptr<security::audit_log> log,
                     std::function<void(const telephony::call_record&)> on_durable);
  void run();

  std::shared_ptr<security::audit_log> log_;
  std::function<void(const telephony::call_record&)> on_durable_;
  std::mutex mutex_;
  std::condition_variable wake_;
  struct pending {
    telephony::call_record record;
    std::string report;
  };
  std::vector<pending> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> written_{0}, failures_{0};
  std::thread thread_;
};

/// A call record as the log stores it: kind call, the caller as actor, the record's JSON
/// in `after`; a barred call's outcome is a failure.
security::audit_record envelope_of(const telephony::call_record& record);

} // namespace ward::node
