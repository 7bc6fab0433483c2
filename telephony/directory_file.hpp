#pragma once

// Bulk provisioning (SPEC SEC-11): telephony users and extensions read from, and written to,
// one CSV or JSON file. Pure: parsing, applying to a directory, and exporting.

#include "core/enum_names.hpp"
#include "telephony/directory.hpp"

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

enum class directory_format : std::uint8_t { csv, json };

inline constexpr auto directory_format_names =
    name_table(enum_name{directory_format::csv, "csv"}, enum_name{directory_format::json, "json"});

constexpr std::string_view to_string(directory_format format) {
  return name_of(directory_format_names, format);
}
constexpr std::optional<directory_format> parse_directory_format(std::string_view text) {
  return parse_name(directory_format_names, text);
}

enum class directory_row_kind : std::uint8_t { user, extension };

/// One record of a file: a telephony user (keyed by name) or an extension (by number). Only
/// the fields the file gave are set; the rest stay as they are on update.
struct directory_row {
  /// The line the record starts on (1-based), for errors.
  std::size_t line = 0;
  directory_row_kind kind = directory_row_kind::user;
  std::string key;
  telephony_user_fields user;
  extension_fields extension;
};

/// Why one record of a file was refused.
struct directory_row_error {
  std::size_t line = 0;
  std::string field;
  std::string message;
};

/// Every error, one "line N: field: message" a line, at most `shown` of them and a count of
/// the rest.
std::string describe(const std::vector<directory_row_error>& errors, std::size_t shown = 100);

/// At most this many records in one file.
inline constexpr std::size_t max_directory_rows = 100'000;

/// Reads a file: CSV with a header row naming its columns (RFC 4180 quoting), or a JSON
/// array of objects. Columns and keys: kind (user | extension), name (a user's), number (an
/// extension's), full_name, extension, password, login_code, voicemail_code (users),
/// phone_password, force_authorization (on | off), remote_worker_address, media_security
/// (extensions). An empty value is a field not given. Every record is checked; the errors
/// of all of them are returned together.
std::expected<std::vector<directory_row>, std::vector<directory_row_error>>
parse_directory_file(std::string_view text, directory_format format);

struct directory_import_summary {
  std::size_t users_created = 0;
  std::size_t users_updated = 0;
  std::size_t extensions_created = 0;
  std::size_t extensions_updated = 0;
};

/// Creates what does not exist and updates what does, extensions before users (a user names
/// its extension), under the directory's own rules. Every row is tried; any error leaves the
/// directory partly changed, so the caller rolls back (the security actor's transaction does).
std::expected<directory_import_summary, std::vector<directory_row_error>>
import_directory_rows(telephony_directory& directory, const std::vector<directory_row>& rows,
                      const security::security_settings& policy);

/// The users and extensions as a file import accepts, extensions first. Secrets are never
/// exported (only their hashes are stored): those columns stay empty.
std::string export_directory_file(const telephony_directory_data& data, directory_format format);

} // namespace ward::telephony
