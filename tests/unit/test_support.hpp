#pragma once

#include "core/random.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <unistd.h>

namespace ward::test {

/// A fresh directory under the system temp dir, removed when the object dies.
class temp_dir {
public:
  explicit temp_dir(const std::string& tag = "ward-test") {
    static std::mt19937_64 engine{std::random_device{}()};
    path_ = std::filesystem::temp_directory_path() /
            (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(engine()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

/// Deterministic bytes from a seeded generator, for tests that pin randomness.
inline random_source seeded_random(std::uint64_t seed) {
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine](std::span<std::byte> out) {
    for (auto& byte : out)
      byte = static_cast<std::byte>((*engine)() & 0xff);
  };
}

/// A fixed instant for tests: 2026-01-01T00:00:00Z.
inline std::chrono::system_clock::time_point fixed_now() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
}

/// Test messages are written with bare line feeds for legibility; SIP and SDP want CRLF.
inline std::string crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    if (c == '\n')
      out += '\r';
    out += c;
  }
  return out;
}

} // namespace ward::test
