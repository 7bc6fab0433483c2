#include "node/admin/convert.hpp"
#include "node/admin/services.hpp"

#include "admin.grpc.pb.h"
#include "cluster/event_store.hpp"
#include "node/sip_service.hpp"
#include "telephony/call_record.hpp"

#include <algorithm>

namespace ward::node::admin_api {
namespace {

/// SPEC TF-8: the primary's own records and those the other nodes forwarded, as one list
/// ordered by start time, the newest `filter.limit` kept.
void append_forwarded(const cluster::event_store& events, const security::audit_filter& filter,
                      std::vector<security::audit_record>& found) {
  auto sources = events.sources(10'000);
  if (!sources)
    return;
  for (const auto& [source, _] : *sources) {
    if (!source.starts_with("calls/"))
      continue;
    auto records = events.list(source, 0, security::max_audit_query_limit);
    if (!records)
      continue;
    for (auto& record : *records)
      if ((filter.actor.empty() || record.actor == filter.actor) &&
          (!filter.since || record.time >= *filter.since) &&
          (!filter.until || record.time < *filter.until))
        found.push_back(std::move(record));
  }
  std::ranges::stable_sort(found, {}, &security::audit_record::time);
  if (found.size() > filter.limit)
    found.erase(found.begin(), found.end() - static_cast<std::ptrdiff_t>(filter.limit));
}

void fill_record(pb::CallRecord* out, const telephony::call_record& record,
                 std::uint64_t sequence) {
  out->set_start_unix(
      std::chrono::duration_cast<std::chrono::seconds>(record.start.time_since_epoch()).count());
  out->set_duration_seconds(record.duration.count());
  out->set_ring_seconds(record.ring.count());
  out->set_caller(record.caller);
  out->set_direction(std::string(telephony::to_string(record.direction)));
  out->set_called(record.called);
  out->set_dialled(record.dialled);
  out->set_account_code(record.account_code);
  out->set_party1(record.party1);
  out->set_party2(record.party2);
  out->set_trunk(record.trunk);
  out->set_barred(record.barred);
  out->set_end(record.end);
  out->set_node(record.node);
  out->set_call_id(record.call_id);
  out->set_sequence(sequence);
}

/// ResetBlacklist: a system control of the status service, audited though it changes no
/// record (the guard's lists live in memory).
constexpr rpc_rule blacklist_reset{status_read.service, security::right::status_system_control,
                                   actors::transaction_writes::nothing, true};

/// SPEC SIP-2, SIP-4, MON-5: the registrar's bindings and blacklists on this node; SPEC
/// SIP-1, SIP-3..SIP-5: the cluster's SIP policy, kept with the extensions.
class telephony_service final : public gateway_service<pb::Telephony::Service> {
public:
  /// `sip` is null on a node that runs no SIP service: then only the SIP policy is served.
  telephony_service(std::shared_ptr<gateway> gw, std::shared_ptr<sip_service> sip,
                    std::shared_ptr<security::audit_log> calls,
                    std::shared_ptr<cluster::event_store> events)
      : gateway_service(std::move(gw)), sip_(std::move(sip)), calls_(std::move(calls)),
        events_(std::move(events)) {}

  grpc::Status CallHistory(grpc::ServerContext* call, const pb::CallHistoryRequest* request,
                           pb::CallRecordList* reply) override {
    if (!calls_)
      return no_sip_service();
    const auto limit = request->limit() == 0 ? 100U : request->limit();
    if (limit > security::max_audit_query_limit)
      return to_status(
          invalid("limit", "must be at most " + std::to_string(security::max_audit_query_limit)));
    if (request->cluster() && !events_)
      return to_status(invalid("cluster", "only the primary holds the other nodes' records"));
    security::audit_filter filter;
    filter.kind = security::audit_kind::call;
    filter.actor = request->caller();
    if (request->since_unix() != 0)
      filter.since = clock::time_point(std::chrono::seconds(request->since_unix()));
    if (request->until_unix() != 0)
      filter.until = clock::time_point(std::chrono::seconds(request->until_unix()));
    filter.limit = limit;
    const bool csv = request->csv();
    auto events = request->cluster() ? events_ : nullptr;
    return gw_->read(call, "CallHistory", status_read,
                     [calls = calls_, events, filter, csv, reply](security_context&) {
                       auto found = calls->query(filter);
                       if (!found)
                         return;
                       if (events)
                         append_forwarded(*events, filter, *found);
                       if (csv)
                         reply->set_csv(telephony::call_record_csv_header() + "\n");
                       for (const auto& envelope : *found) {
                         auto record = telephony::decode_call_record(envelope.after);
                         if (!record)
                           continue;
                         fill_record(reply->add_records(), *record, envelope.sequence);
                         if (csv)
                           reply->mutable_csv()->append(telephony::to_csv(*record) + "\n");
                       }
                     });
  }

  grpc::Status Registrations(grpc::ServerContext* call, const pb::Empty*,
                             pb::RegistrationList* reply) override {
    if (!sip_)
      return no_sip_service();
    return gw_->read(call, "Registrations", status_read, [sip = sip_, reply](security_context& c) {
      for (const auto& binding : sip->bindings())
        fill(reply->add_registrations(), binding, c.now);
    });
  }

  grpc::Status Calls(grpc::ServerContext* call, const pb::Empty*, pb::CallList* reply) override {
    if (!sip_)
      return no_sip_service();
    return gw_->read(call, "Calls", status_read, [sip = sip_, reply](security_context&) {
      for (const auto& view : sip->calls())
        fill(reply->add_calls(), view);
      auto [units, capacity] = sip->media_capacity();
      reply->set_media_units(static_cast<std::uint32_t>(units));
      reply->set_media_capacity(static_cast<std::uint32_t>(capacity));
      if (auto relay = sip->relay()) {
        auto stats = relay->stats();
        reply->set_relay_sessions(static_cast<std::uint32_t>(stats.active_sessions));
        reply->set_relay_capacity(static_cast<std::uint32_t>(stats.max_sessions));
      }
    });
  }

  grpc::Status Blacklist(grpc::ServerContext* call, const pb::Empty*,
                         pb::BlacklistReply* reply) override {
    if (!sip_)
      return no_sip_service();
    return gw_->read(call, "Blacklist", status_read, [sip = sip_, reply](security_context&) {
      auto lists = sip->blacklists();
      for (const auto& entry : lists.addresses)
        fill(reply->add_addresses(), entry);
      for (const auto& entry : lists.extensions)
        fill(reply->add_extensions(), entry);
    });
  }

  grpc::Status ResetBlacklist(grpc::ServerContext* call, const pb::ResetBlacklistRequest* request,
                              pb::Empty*) override {
    if (request->kind() != "address" && request->kind() != "extension")
      return to_status(invalid("kind", "must be address or extension"));
    if (request->key().empty() || request->key().size() > 64)
      return to_status(invalid("key", "must be 1 to 64 characters"));
    if (!sip_)
      return no_sip_service();
    bool address = request->kind() == "address";
    auto key = request->key();
    return gw_->handle(call, "ResetBlacklist", blacklist_reset,
                       [sip = sip_, address, key](security_context&) -> effect_result {
                         auto lifted = sip->reset_blacklist(address, key);
                         if (!lifted)
                           return std::unexpected(
                               security_error{security_errc::unavailable, "sip", lifted.error()});
                         if (!*lifted)
                           return std::unexpected(security_error{security_errc::not_found, "key",
                                                                 key + " is not blacklisted"});
                         transaction_effect effect;
                         effect.object = (address ? "address/" : "extension/") + key;
                         effect.detail = "blacklisting lifted";
                         return effect;
                       });
  }

  // The SIP policy is configuration like the extensions: the same service, rights and
  // path (persisted in the directory, published to the registrar, replicated, and refused
  // on replicas).
  grpc::Status GetSipSettings(grpc::ServerContext* call, const pb::Empty*,
                              pb::SipSettings* reply) override {
    return gw_->read(call, "GetSipSettings", config_read, [reply](security_context& c) {
      fill(reply, telephony::effective_sip_policy(c.directory.data().policy, c.now));
    });
  }

  grpc::Status SetSipSettings(grpc::ServerContext* call, const pb::SipSettings* request,
                              pb::SipSettings* reply) override {
    return gw_->handle(
        call, "SetSipSettings", config_write,
        [wanted = *request, reply](security_context& c) -> effect_result {
          const auto& current = c.directory.data().policy;
          auto before = telephony::encode_sip_policy(current);
          // A lapsed auto-create stays off unless the call asks for it.
          auto policy = merged(wanted, telephony::effective_sip_policy(current, c.now));
          if (!policy)
            return std::unexpected(policy.error());
          if (auto set = c.directory.set_sip_policy(std::move(*policy), c.now); !set)
            return std::unexpected(set.error());
          fill(reply, telephony::effective_sip_policy(c.directory.data().policy, c.now));
          return transaction_effect{"sip_policy", before,
                                    telephony::encode_sip_policy(c.directory.data().policy), ""};
        });
  }

private:
  static grpc::Status no_sip_service() {
    return {grpc::StatusCode::UNAVAILABLE, "this node runs no SIP service"};
  }

  std::shared_ptr<sip_service> sip_;
  std::shared_ptr<security::audit_log> calls_;
  std::shared_ptr<cluster::event_store> events_;
};

} // namespace

std::unique_ptr<grpc::Service>
make_telephony_service(std::shared_ptr<gateway> gw, std::shared_ptr<sip_service> sip,
                       std::shared_ptr<security::audit_log> calls,
                       std::shared_ptr<cluster::event_store> events) {
  return std::make_unique<telephony_service>(std::move(gw), std::move(sip), std::move(calls),
                                             std::move(events));
}

} // namespace ward::node::admin_api
