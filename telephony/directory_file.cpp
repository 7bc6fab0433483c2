#include "telephony/directory_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace ward::telephony {
namespace {

using json = nlohmann::json;

/// The columns of a file, in the order export writes them.
constexpr std::array columns{"kind",
                             "name",
                             "number",
                             "full_name",
                             "extension",
                             "password",
                             "login_code",
                             "voicemail_code",
                             "phone_password",
                             "force_authorization",
                             "remote_worker_address",
                             "media_security"};
constexpr std::array user_columns{"name",     "full_name",  "extension",
                                  "password", "login_code", "voicemail_code"};
constexpr std::array extension_columns{"number", "phone_password", "force_authorization",
                                       "remote_worker_address", "media_security"};

bool is_column(std::string_view name) {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

template <std::size_t N>
bool one_of(const std::array<const char*, N>& list, std::string_view name) {
  return std::find_if(list.begin(), list.end(), [name](const char* c) { return name == c; }) !=
         list.end();
}

/// A record as read, before its values are judged: column → value, empty values left out.
struct raw_record {
  std::size_t line = 0;
  std::map<std::string, std::string> values;
};

/// What a file holds: the records that could be read and the errors of those that could
/// not (or of the whole file).
struct raw_file {
  std::vector<raw_record> records;
  std::vector<directory_row_error> errors;
};

/// RFC 4180 fields of one file: records of fields, each with the line it starts on. Quoted
/// fields may hold commas, doubled quotes and line breaks; CRLF and LF both end a record.
struct csv_record {
  std::size_t line = 0;
  std::vector<std::string> fields;
};

std::expected<std::vector<csv_record>, directory_row_error> split_csv(std::string_view text) {
  std::vector<csv_record> records;
  std::size_t line = 1;
  std::size_t i = 0;
  while (i < text.size()) {
    csv_record record{line, {}};
    std::string field;
    bool ended = false;
    while (!ended) {
      if (i < text.size() && text[i] == '"') {
        ++i;
        for (;;) {
          if (i >= text.size())
            return std::unexpected(
                directory_row_error{record.line, "", "a quoted value is not closed"});
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n')
            ++line;
          field += text[i++];
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          return std::unexpected(
              directory_row_error{line, "", "text after a closing quote must be a comma"});
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          field += text[i++];
      }
      record.fields.push_back(std::move(field));
      field.clear();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '\r')
        ++i;
      if (i < text.size() && text[i] == '\n')
        ++i;
      ++line;
      ended = true;
    }
    bool blank = record.fields.size() == 1 && record.fields.front().empty();
    if (!blank)
      records.push_back(std::move(record));
  }
  return records;
}

raw_file read_csv(std::string_view text) {
  auto split = split_csv(text);
  if (!split)
    return {{}, {split.error()}};
  if (split->empty())
    return {{}, {directory_row_error{1, "", "the file has no header row"}}};
  const auto& header = split->front();
  std::vector<directory_row_error> errors;
  std::set<std::string> seen;
  for (const auto& name : header.fields) {
    if (!is_column(name))
      errors.push_back({header.line, name,
                        "is not a column (" + std::string(columns[0]) +
                            ", name, number, ... see wardctl directory --help)"});
    else if (!seen.insert(name).second)
      errors.push_back({header.line, name, "is named twice in the header"});
  }
  if (!seen.contains("kind"))
    errors.push_back({header.line, "kind", "the header must name a kind column"});
  if (!errors.empty())
    return {{}, errors};
  std::vector<raw_record> records;
  for (std::size_t r = 1; r < split->size(); ++r) {
    const auto& record = (*split)[r];
    if (record.fields.size() != header.fields.size()) {
      errors.push_back({record.line, "",
                        "has " + std::to_string(record.fields.size()) + " values, the header " +
                            std::to_string(header.fields.size())});
      continue;
    }
    raw_record raw{record.line, {}};
    for (std::size_t c = 0; c < record.fields.size(); ++c)
      if (!record.fields[c].empty())
        raw.values[header.fields[c]] = record.fields[c];
    records.push_back(std::move(raw));
  }
  return {std::move(records), std::move(errors)};
}

/// The line each element of the top-level JSON array starts on, in order. nlohmann::json
/// keeps no positions, so the text is scanned once for the openings at depth one.
std::vector<std::size_t> element_lines(std::string_view text) {
  std::vector<std::size_t> lines;
  std::size_t line = 1;
  int depth = 0;
  bool in_string = false;
  bool expect_element = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n')
      ++line;
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      continue;
    if (depth == 1 && expect_element) {
      lines.push_back(line);
      expect_element = false;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (depth == 0 && c == '[')
        expect_element = true;
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_element = true;
    }
  }
  return lines;
}

raw_file read_json(std::string_view text) {
  auto document = json::parse(text, nullptr, false);
  if (document.is_discarded())
    return {{}, {directory_row_error{1, "", "is not valid JSON"}}};
  if (!document.is_array())
    return {{}, {directory_row_error{1, "", "must be a JSON array of records"}}};
  auto lines = element_lines(text);
  std::vector<directory_row_error> errors;
  std::vector<raw_record> records;
  for (std::size_t r = 0; r < document.size(); ++r) {
    std::size_t line = r < lines.size() ? lines[r] : 1;
    const auto& item = document[r];
    if (!item.is_object()) {
      errors.push_back({line, "", "a record must be a JSON object"});
      continue;
    }
    raw_record raw{line, {}};
    bool usable = true;
    for (const auto& [key, value] : item.items()) {
      if (!is_column(key)) {
        errors.push_back({line, key, "is not a field of a record"});
        usable = false;
      } else if (value.is_string()) {
        if (!value.get_ref<const std::string&>().empty())
          raw.values[key] = value.get<std::string>();
      } else if (value.is_boolean()) {
        raw.values[key] = value.get<bool>() ? "on" : "off";
      } else if (value.is_number_unsigned()) {
        raw.values[key] = std::to_string(value.get<std::uint64_t>());
      } else if (!value.is_null()) {
        errors.push_back({line, key, "must be a string, a whole number or true/false"});
        usable = false;
      }
    }
    if (usable)
      records.push_back(std::move(raw));
  }
  return {std::move(records), std::move(errors)};
}

/// Turns a raw record into a row, or says what is wrong with it.
std::expected<directory_row, directory_row_error> to_row(const raw_record& raw) {
  auto fail = [&](std::string field, std::string message) {
    return std::unexpected(directory_row_error{raw.line, std::move(field), std::move(message)});
  };
  auto value = [&](const char* column) -> std::optional<std::string> {
    if (auto it = raw.values.find(column); it != raw.values.end())
      return it->second;
    return std::nullopt;
  };
  directory_row row;
  row.line = raw.line;
  auto kind = value("kind");
  if (kind == "user")
    row.kind = directory_row_kind::user;
  else if (kind == "extension")
    row.kind = directory_row_kind::extension;
  else
    return fail("kind", "must be user or extension");
  bool user = row.kind == directory_row_kind::user;
  for (const auto& [column, ignored] : raw.values)
    if (column != "kind" &&
        !(user ? one_of(user_columns, column) : one_of(extension_columns, column)))
      return fail(column, "does not belong to a record of kind " + *kind);
  auto key = value(user ? "name" : "number");
  if (!key)
    return fail(user ? "name" : "number", "is required");
  row.key = *key;
  if (user) {
    row.user = {value("full_name"), value("extension"), value("password"), value("login_code"),
                value("voicemail_code")};
    return row;
  }
  row.extension.phone_password = value("phone_password");
  row.extension.remote_worker_address = value("remote_worker_address");
  if (auto force = value("force_authorization")) {
    if (*force != "on" && *force != "off")
      return fail("force_authorization", "must be on or off");
    row.extension.force_authorization = *force == "on";
  }
  if (auto media = value("media_security")) {
    if (*media == "system") {
      row.extension.media_security = std::optional<media::media_security>{};
    } else if (auto level = media::parse_media_security(*media)) {
      row.extension.media_security = std::optional<media::media_security>{*level};
    } else {
      return fail("media_security",
                  "must be system or a media security level, got '" + *media + "'");
    }
  }
  return row;
}

/// A CSV value, quoted when it holds a comma, a quote or a line break.
std::string csv_value(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos)
    return std::string(value);
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"')
      quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

/// The exported records, each as column → value with empty values left out.
std::vector<std::map<std::string, std::string>>
exported_records(const telephony_directory_data& data) {
  std::vector<std::map<std::string, std::string>> records;
  for (const auto& [number, ext] : data.extensions) {
    std::map<std::string, std::string> record{
        {"kind", "extension"},
        {"number", number},
        {"force_authorization", ext.force_authorization ? "on" : "off"},
        {"media_security",
         ext.media_security ? std::string(media::to_string(*ext.media_security)) : "system"}};
    if (!ext.remote_worker_address.empty())
      record["remote_worker_address"] = ext.remote_worker_address;
    records.push_back(std::move(record));
  }
  for (const auto& [name, user] : data.users) {
    std::map<std::string, std::string> record{
        {"kind", "user"}, {"name", name}, {"extension", user.extension}};
    if (!user.full_name.empty())
      record["full_name"] = user.full_name;
    records.push_back(std::move(record));
  }
  return records;
}

} // namespace

std::string describe(const std::vector<directory_row_error>& errors, std::size_t shown) {
  std::string text;
  for (std::size_t i = 0; i < errors.size() && i < shown; ++i) {
    const auto& error = errors[i];
    if (!text.empty())
      text += '\n';
    text += "line " + std::to_string(error.line) + ": ";
    if (!error.field.empty())
      text += error.field + ": ";
    text += error.message;
  }
  if (errors.size() > shown)
    text += "\n... and " + std::to_string(errors.size() - shown) + " more";
  return text;
}

std::expected<std::vector<directory_row>, std::vector<directory_row_error>>
parse_directory_file(std::string_view text, directory_format format) {
  auto raw = format == directory_format::csv ? read_csv(text) : read_json(text);
  if (raw.records.size() > max_directory_rows)
    return std::unexpected(std::vector{
        directory_row_error{1, "",
                            "has " + std::to_string(raw.records.size()) + " records; at most " +
                                std::to_string(max_directory_rows) + " fit in one file"}});
  std::vector<directory_row> rows;
  std::vector<directory_row_error> errors = std::move(raw.errors);
  std::map<std::pair<directory_row_kind, std::string>, std::size_t> first_line;
  for (const auto& record : raw.records) {
    auto row = to_row(record);
    if (!row) {
      errors.push_back(row.error());
      continue;
    }
    auto [it, fresh] = first_line.emplace(std::pair{row->kind, row->key}, row->line);
    if (!fresh) {
      errors.push_back({row->line, row->kind == directory_row_kind::user ? "name" : "number",
                        row->key + " is already on line " + std::to_string(it->second)});
      continue;
    }
    rows.push_back(std::move(*row));
  }
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(),
                     [](const auto& a, const auto& b) { return a.line < b.line; });
    return std::unexpected(errors);
  }
  return rows;
}

std::expected<directory_import_summary, std::vector<directory_row_error>>
import_directory_rows(telephony_directory& directory, const std::vector<directory_row>& rows,
                      const security::security_settings& policy) {
  directory_import_summary summary;
  std::vector<directory_row_error> errors;
  for (auto kind : {directory_row_kind::extension, directory_row_kind::user}) {
    for (const auto& row : rows) {
      if (row.kind != kind)
        continue;
      security::security_result<void> applied;
      if (kind == directory_row_kind::extension) {
        bool exists = directory.data().extensions.contains(row.key);
        applied = exists ? directory.update_extension(row.key, row.extension, policy)
                         : directory.create_extension(row.key, row.extension, policy);
        if (applied)
          ++(exists ? summary.extensions_updated : summary.extensions_created);
      } else {
        bool exists = directory.data().users.contains(row.key);
        applied = exists ? directory.update_user(row.key, row.user, policy)
                         : directory.create_user(row.key, row.user, policy);
        if (applied)
          ++(exists ? summary.users_updated : summary.users_created);
      }
      if (!applied)
        errors.push_back({row.line, applied.error().field, applied.error().message});
    }
  }
  if (!errors.empty()) {
    std::sort(errors.begin(), errors.end(),
              [](const auto& a, const auto& b) { return a.line < b.line; });
    return std::unexpected(errors);
  }
  return summary;
}

std::string export_directory_file(const telephony_directory_data& data, directory_format format) {
  auto records = exported_records(data);
  if (format == directory_format::json) {
    json out = json::array();
    for (const auto& record : records) {
      json item = json::object();
      for (const auto& [column, value] : record)
        item[column] = value;
      out.push_back(std::move(item));
    }
    return out.dump(2) + "\n";
  }
  std::string text;
  for (std::size_t c = 0; c < columns.size(); ++c)
    text += (c ? "," : "") + std::string(columns[c]);
  text += "\r\n";
  for (const auto& record : records) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c)
        text += ',';
      if (auto it = record.find(columns[c]); it != record.end())
        text += csv_value(it->second);
    }
    text += "\r\n";
  }
  return text;
}

} // namespace ward::telephony
