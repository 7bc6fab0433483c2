#include "node/call_record_writer.hpp"

#include "node/logging.hpp"

#include <chrono>

namespace ward::node {

security::audit_record envelope_of(const telephony::call_record& record) {
  security::audit_record envelope;
  envelope.kind = security::audit_kind::call;
  envelope.outcome =
      record.barred ? security::audit_outcome::failure : security::audit_outcome::success;
  envelope.actor = record.caller;
  envelope.service = "sip";
  envelope.action = record.barred ? "CallBarred" : "CallRecord";
  envelope.object = "call/" + record.node + "/" + std::to_string(record.call_id);
  envelope.reason = record.end;
  envelope.after = telephony::encode_call_record(record);
  return envelope;
}

std::expected<std::unique_ptr<call_record_writer>, std::string>
call_record_writer::start(const std::filesystem::path& path, const clock& time,
                          std::function<void(const telephony::call_record&)> on_durable) {
  auto log = security::audit_log::open(path, time);
  if (!log)
    return std::unexpected("call records: " + log.error().detail);
  std::unique_ptr<call_record_writer> writer(
      new call_record_writer(std::move(*log), std::move(on_durable)));
  writer->thread_ = std::thread([raw = writer.get()] { raw->run(); });
  return writer;
}

call_record_writer::call_record_writer(
    std::shared_ptr<security::audit_log> log,
    std::function<void(const telephony::call_record&)> on_durable)
    : log_(std::move(log)), on_durable_(std::move(on_durable)) {}

call_record_writer::~call_record_writer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable())
    thread_.join();
}

void call_record_writer::submit(telephony::call_record record, std::string report) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(record), std::move(report)});
  }
  wake_.notify_one();
}

void call_record_writer::run() {
  auto log = logger("sip");
  std::vector<pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_)
        return;
      batch.swap(queue_);
    }
    std::vector<security::audit_record> envelopes;
    envelopes.reserve(batch.size());
    for (const auto& entry : batch)
      envelopes.push_back(envelope_of(entry.record));
    if (auto stored = log_->append_all(std::move(envelopes)); !stored) {
      ++failures_;
      log->error("event=call_records_unwritten records={} error=\"{}\"", batch.size(),
                 stored.error().detail);
      // Put them back in front and try again shortly: a record is never dropped.
      std::unique_lock lock(mutex_);
      queue_.insert(queue_.begin(), batch.begin(), batch.end());
      batch.clear();
      if (stopping_)
        return;
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
      continue;
    }
    written_ += batch.size();
    for (const auto& entry : batch) {
      if (!entry.report.empty())
        log->info("{}", entry.report);
      if (on_durable_)
        on_durable_(entry.record);
    }
    batch.clear();
  }
}

} // namespace ward::node
