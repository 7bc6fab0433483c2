#pragma once

#include <stdexcept>

namespace ward::cli {

/// The exit codes of wardctl; scripts and the integration tests rely on them.
enum exit_code : int {
  /// The command did what was asked.
  exit_ok = 0,
  /// The node refused or failed the call, or its answer says something is wrong.
  exit_remote_error = 1,
  /// The command line or a local file was wrong; nothing was changed on the node.
  exit_usage = 2,
};

/// A mistake on the command line or with a local file, reported as `wardctl: WHAT` with
/// exit_usage.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

} // namespace ward::cli
