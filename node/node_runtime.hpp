#pragma once

#include "node/config.hpp"

namespace ward::node {

/// Runs a node until SIGTERM or SIGINT: opens its store, loads or creates its identity,
/// starts the role's actors, the admin gRPC API over TLS and /metrics, then shuts all of
/// it down cleanly. SIGTERM and SIGINT must be blocked in the calling thread before any
/// other thread exists. Returns the process exit code.
int run_node(const node_config& config);

} // namespace ward::node
