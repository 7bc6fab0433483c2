#pragma once

#include "node/config.hpp"

#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace ward::node {

/// Sets up structured logging: one line per event on stderr, as
/// `ts=<UTC> level=<level> component=<component> event=<name> key=value ...`.
void init_logging(log_level level);

/// The logger of one component ("node", "admin", "pki", "store", "metrics").
std::shared_ptr<spdlog::logger> logger(const std::string& component);

/// Quotes a value for a key=value log line when it contains spaces, quotes or '='.
std::string log_value(std::string_view value);

} // namespace ward::node
