#include "telephony/call_record.hpp"

#include "core/enum_names.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>

namespace ward::telephony {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;
using std::chrono::system_clock;

constexpr auto call_direction_names = name_table(enum_name{call_direction::internal, "internal"},
                                                 enum_name{call_direction::outgoing, "outgoing"},
                                                 enum_name{call_direction::incoming, "incoming"});

std::int64_t unix_seconds(system_clock::time_point when) {
  return std::chrono::duration_cast<seconds>(when.time_since_epoch()).count();
}

/// "2026-12-07T21:45:03Z".
std::string iso_time(system_clock::time_point when) {
  const std::time_t seconds_since = system_clock::to_time_t(when);
  std::tm parts{};
  ::gmtime_r(&seconds_since, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

/// A leg as a device: "extension:201", "line:node-b", "trunk:carrier".
std::string device_of(std::string_view leg, std::string_view party, std::string_view trunk) {
  if (!trunk.empty())
    return "trunk:" + std::string(trunk);
  if (leg.starts_with("line:"))
    return std::string(leg);
  return "extension:" + std::string(party);
}

/// RFC 4180: quoted when it holds a comma, quote or line break; a leading = + - @ is
/// neutralised so that a spreadsheet never runs a dialled "number" as a formula.
std::string csv_cell(std::string_view text) {
  std::string cell(text);
  if (!cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@'))
    cell.insert(cell.begin(), '\'');
  if (cell.find_first_of(",\"\r\n") == std::string::npos)
    return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"')
      quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

} // namespace

std::string_view to_string(call_direction direction) {
  return name_of(call_direction_names, direction);
}

call_record record_of(const call_view& call, call_end end, std::string_view dialled,
                      std::string_view node, system_clock::time_point ended) {
  call_record record;
  record.start = call.started;
  const bool answered = call.answered != system_clock::time_point{};
  if (answered) {
    record.ring = std::chrono::floor<seconds>(call.answered - call.started);
    record.duration = std::chrono::floor<seconds>(ended - call.answered);
  } else {
    record.ring = std::chrono::floor<seconds>(ended - call.started);
  }
  record.caller = call.caller;
  record.direction = call.trunk.empty() ? call_direction::internal
                     : call.from_trunk  ? call_direction::incoming
                                        : call_direction::outgoing;
  record.called = call.callee;
  record.dialled = dialled.empty() ? call.dialled : std::string(dialled);
  record.account_code = call.account_code;
  record.party1 = device_of(call.caller_leg, call.caller, call.from_trunk ? call.trunk : "");
  record.party2 = device_of(call.callee_leg, call.callee, call.from_trunk ? "" : call.trunk);
  record.trunk = call.trunk;
  record.end = std::string(to_string(end));
  record.node = node;
  record.call_id = call.id;
  return record;
}

call_record barred_record(std::string_view caller, std::string_view dialled,
                          std::string_view reason, std::string_view node,
                          system_clock::time_point at) {
  call_record record;
  record.start = std::chrono::floor<seconds>(at);
  record.caller = caller;
  record.direction = call_direction::outgoing;
  record.dialled = dialled;
  record.party1 = "extension:" + std::string(caller);
  record.party2 = "Barred";
  record.barred = true;
  record.end = reason;
  record.node = node;
  return record;
}

std::string encode_call_record(const call_record& record) {
  return json{{"start", unix_seconds(record.start)},
              {"duration", record.duration.count()},
              {"ring", record.ring.count()},
              {"caller", record.caller},
              {"direction", std::string(to_string(record.direction))},
              {"called", record.called},
              {"dialled", record.dialled},
              {"account_code", record.account_code},
              {"party1", record.party1},
              {"party2", record.party2},
              {"trunk", record.trunk},
              {"barred", record.barred},
              {"end", record.end},
              {"node", record.node},
              {"call_id", record.call_id}}
      .dump();
}

std::expected<call_record, error> decode_call_record(std::string_view text) {
  try {
    const auto document = json::parse(text);
    call_record record;
    record.start = system_clock::time_point(seconds(document.at("start").get<std::int64_t>()));
    record.duration = seconds(document.at("duration").get<std::int64_t>());
    record.ring = seconds(document.at("ring").get<std::int64_t>());
    record.caller = document.at("caller").get<std::string>();
    const auto direction = document.at("direction").get<std::string>();
    const auto parsed = parse_name(call_direction_names, direction);
    if (!parsed)
      return std::unexpected(
          error{errc::damaged_record, "call record: unknown direction '" + direction + "'"});
    record.direction = *parsed;
    record.called = document.at("called").get<std::string>();
    record.dialled = document.at("dialled").get<std::string>();
    record.account_code = document.at("account_code").get<bool>();
    record.party1 = document.at("party1").get<std::string>();
    record.party2 = document.at("party2").get<std::string>();
    record.trunk = document.at("trunk").get<std::string>();
    record.barred = document.at("barred").get<bool>();
    record.end = document.at("end").get<std::string>();
    record.node = document.at("node").get<std::string>();
    record.call_id = document.at("call_id").get<std::uint64_t>();
    return record;
  } catch (const json::exception& e) {
    return std::unexpected(error{errc::damaged_record, std::string("call record: ") + e.what()});
  }
}

std::string call_record_csv_header() {
  return "start,duration,ring,caller,direction,called,dialled,account_code,party1,party2,"
         "trunk,barred,end,node,call_id";
}

std::string to_csv(const call_record& record) {
  return csv_cell(iso_time(record.start)) + "," + std::to_string(record.duration.count()) + "," +
         std::to_string(record.ring.count()) + "," + csv_cell(record.caller) + "," +
         std::string(to_string(record.direction)) + "," + csv_cell(record.called) + "," +
         csv_cell(record.dialled) + "," + (record.account_code ? "1" : "0") + "," +
         csv_cell(record.party1) + "," + csv_cell(record.party2) + "," + csv_cell(record.trunk) +
         "," + (record.barred ? "1" : "0") + "," + csv_cell(record.end) + "," +
         csv_cell(record.node) + "," + std::to_string(record.call_id);
}

} // namespace ward::telephony
