#include "cli/session_file.hpp"

#include "cli/errors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ward::cli {

std::string session_file_path(const char* explicit_file, const char* config_home,
                              const char* home) {
  if (explicit_file)
    return explicit_file;
  std::string base;
  if (config_home)
    base = config_home;
  else if (home)
    base = std::string(home) + "/.config";
  else
    base = ".";
  return base + "/ward/session";
}

std::string default_session_file() {
  return session_file_path(std::getenv("WARD_SESSION_FILE"), std::getenv("XDG_CONFIG_HOME"),
                           std::getenv("HOME"));
}

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  return token;
}

void save_token(const std::string& path, const std::string& token) {
  std::filesystem::path file(path);
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  // Created 0600 from the start: a session token is a credential.
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw usage_error("cannot write session file " + file.string());
  ::fchmod(fd, 0600);
  auto line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok)
    throw usage_error("cannot write session file " + file.string());
}

} // namespace ward::cli
