#pragma once

#include "telephony/b2bua.hpp"
#include "telephony/error.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace ward::telephony {

/// Which way a call went, as SMDR writes it (SPEC TF-8).
enum class call_direction : std::uint8_t {
  /// Between two extensions of the cluster.
  internal,
  /// From an extension to an outside number, through a trunk.
  outgoing,
  /// From a trunk to an extension.
  incoming,
};

std::string_view to_string(call_direction direction);

/// One call leg's record, the fields of common SMDR output (SPEC TF-3, TF-8). A Barred call
/// has zero duration and ring time and "Barred" as party 2 (the guide's SMDR report).
struct call_record {
  std::chrono::system_clock::time_point start{};
  /// Answered until ended; 0 for a call that was never answered.
  std::chrono::seconds duration{0};
  /// Started until answered (or until ended, unanswered).
  std::chrono::seconds ring{0};
  std::string caller;
  call_direction direction = call_direction::internal;
  /// The number the call reached: an extension, or the outside number sent to the trunk.
  std::string called;
  /// What the caller dialled.
  std::string dialled;
  /// An authorization code was used (SPEC TF-5); never the code itself.
  bool account_code = false;
  /// The caller's and the callee's devices: "extension:201", "trunk:carrier", "line:node-b";
  /// party 2 is "Barred" for a barred call.
  std::string party1;
  std::string party2;
  std::string trunk;
  bool barred = false;
  /// How it ended: completed, busy, no_answer, ... or why it was barred.
  std::string end;
  /// The node that wrote the record, and the call's number there.
  std::string node;
  std::uint64_t call_id = 0;
  bool operator==(const call_record&) const = default;
};

/// The record of a call the B2BUA ended on `node`.
call_record record_of(const call_view& call, call_end end, std::string_view dialled,
                      std::string_view node, std::chrono::system_clock::time_point ended);

/// The record of a barred call (zero duration and ring time, party 2 "Barred").
call_record barred_record(std::string_view caller, std::string_view dialled,
                          std::string_view reason, std::string_view node,
                          std::chrono::system_clock::time_point at);

/// The record as the call record log stores it (one JSON object), and back.
std::string encode_call_record(const call_record& record);
std::expected<call_record, error> decode_call_record(std::string_view text);

/// The CSV header and one record as a CSV line (RFC 4180 quoting, times in UTC ISO 8601).
/// A cell a spreadsheet would read as a formula (=, +, -, @ first) is prefixed with a quote.
std::string call_record_csv_header();
std::string to_csv(const call_record& record);

} // namespace ward::telephony
