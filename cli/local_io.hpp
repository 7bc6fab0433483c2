#pragma once

#include <sys/types.h>

#include <string>

/// Local files and secrets of wardctl; every failure is a usage_error naming the file.
namespace ward::cli {

/// The whole content of a local file, byte for byte; an empty file is refused.
std::string read_local_file(const std::string& path);

/// Refuses, before anything changes on the node, an output file that cannot be written.
void check_writable(const std::string& path);

/// Writes `data` to `path` with exactly `mode`, set before the first byte is written; a
/// failed write leaves no file behind.
void write_local_file(const std::string& path, const std::string& data, mode_t mode);

/// A secret from the terminal without echo, or one line of standard input when piped.
std::string read_secret(const std::string& prompt);

/// A new secret: on a terminal asked twice without echo, and refused when the two differ;
/// one line of standard input when piped.
std::string read_new_secret(const std::string& prompt);

/// How a command's help says what it reads (every command reading a secret uses it):
/// "Reads <what> from the terminal without echo (new ones twice), or one line each from
/// standard input."
std::string reads_secrets(const std::string& what);

} // namespace ward::cli
