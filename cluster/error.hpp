#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ward::cluster {

/// Why a cluster operation failed (event storage, the syslog link). Callers decide on the
/// code; `detail` is for people (logs, status, an administrator's message) and never
/// decides anything.
enum class errc {
  /// A setting that can never work (a syslog receiver address that is not numeric, a
  /// missing or unusable CA or client identity).
  invalid_config,
  /// A connection to or from a peer could not be set up: socket, connect, the TLS session
  /// or handshake, or the peer's certificate; a dialler retries with backoff.
  connect_failed,
  /// An established connection closed, reset, timed out or failed a write.
  connection_lost,
  /// The node's local store could not be read or written; nothing was acknowledged.
  storage_failure,
  /// A stored or received record that does not decode, or one that cannot be encoded.
  damaged_record,
  /// The component is stopping; the operation was abandoned.
  stopped,
};

constexpr std::string_view to_string(errc code) {
  switch (code) {
    case errc::invalid_config:
      return "invalid_config";
    case errc::connect_failed:
      return "connect_failed";
    case errc::connection_lost:
      return "connection_lost";
    case errc::storage_failure:
      return "storage_failure";
    case errc::damaged_record:
      return "damaged_record";
    case errc::stopped:
      return "stopped";
  }
  return "unknown";
}

struct error {
  errc code;
  std::string detail;
};

} // namespace ward::cluster
