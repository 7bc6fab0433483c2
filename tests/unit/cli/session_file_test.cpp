#include "cli/errors.hpp"
#include "cli/session_file.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

using namespace ward::cli;

TEST_CASE("the session file is $WARD_SESSION_FILE, else under the config home") {
  CHECK(session_file_path("/run/s", "/cfg", "/home/a") == "/run/s");
  CHECK(session_file_path(nullptr, "/cfg", "/home/a") == "/cfg/ward/session");
  CHECK(session_file_path(nullptr, nullptr, "/home/a") == "/home/a/.config/ward/session");
  CHECK(session_file_path(nullptr, nullptr, nullptr) == "./ward/session");
}

TEST_CASE("a saved token is read back, from a file only its owner can read") {
  auto dir =
      std::filesystem::temp_directory_path() / ("ward-session-test-" + std::to_string(::getpid()));
  auto path = (dir / "nested" / "session").string();
  CHECK(read_token(path).empty());
  save_token(path, "tok-123");
  CHECK(read_token(path) == "tok-123");
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  save_token(path, "tok-456");
  CHECK(read_token(path) == "tok-456");
  std::filesystem::remove_all(dir);
}

TEST_CASE("a session file that cannot be written is a usage error") {
  CHECK_THROWS_AS(save_token("/proc/ward-session-test/session", "tok"), usage_error);
}
