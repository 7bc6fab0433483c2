#include "node/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace ward::node {
namespace {

std::shared_ptr<spdlog::sinks::stderr_sink_mt> shared_sink() {
  static auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return sink;
}

spdlog::level::level_enum to_spdlog(log_level level) {
  switch (level) {
    case log_level::trace:
      return spdlog::level::trace;
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warn:
      return spdlog::level::warn;
    case log_level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::mutex registry_mutex;
spdlog::level::level_enum current_level = spdlog::level::info;

} // namespace

void init_logging(log_level level) {
  std::lock_guard lock(registry_mutex);
  current_level = to_spdlog(level);
  spdlog::set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l component=%n %v",
                      spdlog::pattern_time_type::utc);
  spdlog::set_level(current_level);
  spdlog::flush_on(spdlog::level::trace);
}

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  std::lock_guard lock(registry_mutex);
  if (auto existing = spdlog::get(component))
    return existing;
  auto created = std::make_shared<spdlog::logger>(component, shared_sink());
  created->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l component=%n %v",
                       spdlog::pattern_time_type::utc);
  created->set_level(current_level);
  created->flush_on(spdlog::level::trace);
  spdlog::register_logger(created);
  return created;
}

std::string log_value(std::string_view value) {
  bool plain = !value.empty() && value.find_first_of(" \"=\t\n") == std::string_view::npos;
  if (plain)
    return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += '"';
  return out;
}

} // namespace ward::node
