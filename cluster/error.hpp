#pragma once

#include "core/enum_names.hpp"
#include "core/typed_error.hpp"

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

inline constexpr auto errc_names = name_table(enum_name{errc::invalid_config, "invalid_config"},
                                              enum_name{errc::connect_failed, "connect_failed"},
                                              enum_name{errc::connection_lost, "connection_lost"},
                                              enum_name{errc::storage_failure, "storage_failure"},
                                              enum_name{errc::damaged_record, "damaged_record"},
                                              enum_name{errc::stopped, "stopped"});

constexpr std::string_view to_string(errc code) {
  return name_of(errc_names, code);
}

using error = typed_error<errc>;

} // namespace ward::cluster
