#include "cluster/line_protocol.hpp"

#include "core/enum_names.hpp"
#include "core/hex.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

namespace ward::cluster {

constexpr auto line_security_names =
    name_table(enum_name{line_security::low, "low"}, enum_name{line_security::medium, "medium"},
               enum_name{line_security::high, "high"});

std::string_view to_string(line_security level) {
  return name_of(line_security_names, level, "high");
}

std::optional<line_security> parse_line_security(std::string_view text) {
  return parse_name(line_security_names, text);
}

bool requires_client_certificate(line_security level) {
  return level == line_security::high;
}

std::string line_proof(std::string_view password, line_side side, std::string_view exporter_hex,
                       std::string_view node, std::string_view role) {
  std::string message = side == line_side::client ? "ward-line client" : "ward-line server";
  for (auto part : {exporter_hex, node, role}) {
    message.push_back('\0');
    message.append(part);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), password.data(), static_cast<int>(password.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
       &length);
  return to_hex(std::span(digest.data(), length));
}

bool proofs_match(std::string_view expected, std::string_view received) {
  return expected.size() == received.size() && !expected.empty() &&
         CRYPTO_memcmp(expected.data(), received.data(), expected.size()) == 0;
}

std::chrono::milliseconds reconnect_delay(unsigned attempt, const random_source& random,
                                          std::chrono::milliseconds first,
                                          std::chrono::milliseconds ceiling) {
  auto delay = first;
  for (unsigned i = 0; i < attempt && delay < ceiling; ++i)
    delay *= 2;
  delay = std::min(delay, ceiling);
  std::array<std::byte, 4> bytes{};
  random(bytes);
  std::uint32_t draw = 0;
  for (auto b : bytes)
    draw = (draw << 8) | std::to_integer<std::uint32_t>(b);
  auto half = delay.count() / 2;
  return std::chrono::milliseconds(half + (half > 0 ? draw % (half + 1) : 0));
}

replication_decision decide_replication(std::uint64_t held, std::uint64_t incoming) {
  if (incoming > held)
    return replication_decision::apply;
  return incoming == held ? replication_decision::already_held : replication_decision::stale;
}

bool valid_node_name(std::string_view name) {
  return !name.empty() && name.size() <= 63 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool frame_allowed(line::Frame::BodyCase kind, line_direction direction, line_admission admission) {
  using body = line::Frame::BodyCase;
  bool dialled = direction == line_direction::dialled;
  if (admission == line_admission::enrolment_only)
    return kind == body::kHeartbeat || (kind == body::kEnrolRequest && !dialled) ||
           (kind == body::kEnrolReply && dialled);
  switch (kind) {
    case body::kSettings:
    case body::kEnrolReply:
    case body::kEventsAck:
    case body::kReferredLoginReply:
    case body::kProxyCall:
      return dialled;
    case body::kEnrolRequest:
    case body::kEvents:
    case body::kReferredLogin:
    case body::kSettingsAck:
    case body::kProxyResult:
    case body::kFraudUsage:
    case body::kFraudTrips:
      return !dialled;
    case body::kHeartbeat:
    case body::kGuardEvent:
    case body::kSipSignal:
    case body::kSipLocations:
      return true;
    default:
      return false;
  }
}

} // namespace ward::cluster
