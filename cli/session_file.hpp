#pragma once

#include <string>

/// The cached session token of `wardctl login`, one line in a file only its owner reads.
namespace ward::cli {

/// Where the token is kept: `explicit_file` ($WARD_SESSION_FILE) when set, else
/// `ward/session` under `config_home` ($XDG_CONFIG_HOME), else under `home`/.config, else
/// under the current directory. Null means the variable is not set.
std::string session_file_path(const char* explicit_file, const char* config_home, const char* home);

/// session_file_path() of this process's environment.
std::string default_session_file();

/// The token saved in `path`; empty when there is none.
std::string read_token(const std::string& path);

/// Saves `token` to `path`, creating its directory; the file is 0600 from the start.
/// Throws usage_error when it cannot be written.
void save_token(const std::string& path, const std::string& token);

} // namespace ward::cli
