#include "cli/local_io.hpp"

#include "cli/errors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace ward::cli {

std::string read_local_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw usage_error("cannot read " + path + ": " + std::strerror(errno));
  std::string data;
  char buffer[16384];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0)
    data.append(buffer, static_cast<std::size_t>(n));
  int error = errno;
  ::close(fd);
  if (n < 0)
    throw usage_error("cannot read " + path + ": " + std::strerror(error));
  if (data.empty())
    throw usage_error(path + " is empty");
  return data;
}

void check_writable(const std::string& path) {
  std::filesystem::path file(path);
  std::error_code ec;
  if (path.empty() || std::filesystem::is_directory(file, ec))
    throw usage_error("cannot write '" + path + "': not a file name");
  auto directory = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  bool writable = std::filesystem::exists(file, ec) ? ::access(file.c_str(), W_OK) == 0
                                                    : ::access(directory.c_str(), W_OK | X_OK) == 0;
  if (!writable)
    throw usage_error("cannot write " + path + ": " + std::strerror(errno));
}

void write_local_file(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    throw usage_error("cannot write " + path + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::size_t done = 0; ok && done < data.size();) {
    auto written = ::write(fd, data.data() + done, data.size() - done);
    ok = written > 0;
    if (ok)
      done += static_cast<std::size_t>(written);
  }
  int error = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    throw usage_error("cannot write " + path + ": " + std::strerror(error));
  }
}

std::string read_secret(const std::string& prompt) {
  std::string secret;
  if (::isatty(STDIN_FILENO)) {
    std::cerr << prompt << ": " << std::flush;
    termios saved{};
    tcgetattr(STDIN_FILENO, &saved);
    auto quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, secret);
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  } else if (!std::getline(std::cin, secret)) {
    throw usage_error(prompt + ": expected a line on standard input");
  }
  return secret;
}

std::string read_new_secret(const std::string& prompt) {
  auto secret = read_secret(prompt);
  if (::isatty(STDIN_FILENO) && read_secret(prompt + " again") != secret)
    throw usage_error(prompt + ": the two entries differ; nothing was changed");
  return secret;
}

std::string reads_secrets(const std::string& what) {
  return "Reads " + what +
         " from the terminal without echo (new ones twice), or one line each from standard "
         "input.";
}

} // namespace ward::cli
