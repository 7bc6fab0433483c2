#include "cluster/event_forwarding.hpp"

#include <cstdlib>

namespace ward::cluster {

security::audit_filter next_batch(std::uint64_t cursor) {
  security::audit_filter filter;
  filter.after_sequence = cursor;
  filter.limit = forward_batch;
  filter.oldest_first = true;
  return filter;
}

line::AuditEvents events_message(const std::vector<security::audit_record>& records) {
  line::AuditEvents events;
  for (const auto& record : records) {
    auto* event = events.add_events();
    event->set_sequence(record.sequence);
    event->set_time_unix_us(
        std::chrono::duration_cast<std::chrono::microseconds>(record.time.time_since_epoch())
            .count());
    event->set_kind(std::string(security::to_string(record.kind)));
    event->set_outcome(std::string(security::to_string(record.outcome)));
    event->set_actor(record.actor);
    event->set_source(record.source);
    event->set_service(record.service);
    event->set_action(record.action);
    event->set_object(record.object);
    event->set_reason(record.reason);
    event->set_before(record.before);
    event->set_after(record.after);
    event->set_hash(record.hash);
  }
  return events;
}

std::string call_records_source(std::string_view node) {
  return "calls/" + std::string(node);
}

std::vector<security::audit_record> records_of(const line::AuditEvents& events) {
  std::vector<security::audit_record> records;
  for (const auto& event : events.events()) {
    security::audit_record record;
    record.sequence = event.sequence();
    record.time =
        std::chrono::system_clock::time_point(std::chrono::microseconds(event.time_unix_us()));
    record.kind = security::parse_audit_kind(event.kind()).value_or(security::audit_kind::change);
    record.outcome =
        security::parse_audit_outcome(event.outcome()).value_or(security::audit_outcome::failure);
    record.actor = event.actor();
    record.source = event.source();
    record.service = event.service();
    record.action = event.action();
    record.object = event.object();
    record.reason = event.reason();
    record.before = event.before();
    record.after = event.after();
    record.hash = event.hash();
    records.push_back(std::move(record));
  }
  return records;
}

bool counts_for_lockout(const security::audit_record& record,
                        std::chrono::system_clock::time_point now) {
  return record.kind == security::audit_kind::login && record.action == "Login" &&
         !record.actor.empty() && now - record.time < login_report_window;
}

std::uint64_t parse_cursor(const std::optional<std::string>& stored) {
  return stored ? std::strtoull(stored->c_str(), nullptr, 10) : 0;
}

} // namespace ward::cluster
