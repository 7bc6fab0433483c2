#include "telephony/directory_file.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

using namespace ward;
using namespace ward::telephony;

namespace {

security::security_settings policy() {
  return *security::security_database::factory_defaults(security::test_argon2_cost,
                                                        test::fixed_now(), test::seeded_random(1));
}

telephony_directory empty_directory() {
  return telephony_directory({}, "ward.test", security::test_argon2_cost);
}

/// The errors a file is refused with, as "line:field" strings.
std::vector<std::string> refusals(std::string_view text, directory_format format) {
  auto parsed = parse_directory_file(text, format);
  REQUIRE_FALSE(parsed.has_value());
  std::vector<std::string> out;
  for (const auto& error : parsed.error())
    out.push_back(std::to_string(error.line) + ":" + error.field);
  return out;
}

constexpr std::string_view good_csv =
    "kind,number,name,extension,phone_password,login_code,full_name,media_security\r\n"
    "extension,201,,,82917364,,,enforce\r\n"
    "extension,202,,,51738294,,,\r\n"
    "user,,alice,201,,739164,\"Smith, Alice \"\"Al\"\"\",\r\n";

} // namespace

TEST_CASE("SEC-11 a CSV file with a header, quoting and both record kinds is read") {
  auto rows = parse_directory_file(good_csv, directory_format::csv);
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0].kind == directory_row_kind::extension);
  CHECK((*rows)[0].key == "201");
  CHECK((*rows)[0].line == 2);
  CHECK((*rows)[0].extension.phone_password == "82917364");
  CHECK((*rows)[0].extension.media_security ==
        std::optional<std::optional<media::media_security>>{media::media_security::enforce});
  CHECK_FALSE((*rows)[1].extension.media_security.has_value());
  CHECK((*rows)[2].kind == directory_row_kind::user);
  CHECK((*rows)[2].user.full_name == "Smith, Alice \"Al\"");
  CHECK((*rows)[2].user.login_code == "739164");
  CHECK_FALSE((*rows)[2].user.password.has_value());
}

TEST_CASE("SEC-11 every bad record of a file is reported with its line") {
  CHECK(refusals("kind,number,colour\nextension,201,red\n", directory_format::csv) ==
        std::vector<std::string>{"1:colour"});
  CHECK(refusals("number\n201\n", directory_format::csv) == std::vector<std::string>{"1:kind"});
  CHECK(refusals("kind,number,name\n"
                 "extension,201,\n"
                 "phone,202,\n"
                 "extension,,\n"
                 "extension,203,bob\n"
                 "extension,201,\n"
                 "extension,204\n",
                 directory_format::csv) ==
        std::vector<std::string>{"3:kind", "4:number", "5:name", "6:number", "7:"});
  // A quoted line break moves the lines of what follows.
  CHECK(refusals("kind,name,extension,full_name\n"
                 "user,alice,201,\"two\nlines\"\n"
                 "user,bob,,x,y\n",
                 directory_format::csv) == std::vector<std::string>{"4:"});
  CHECK(refusals("kind,number\nextension,\"201\n", directory_format::csv) ==
        std::vector<std::string>{"2:"});
  CHECK(refusals("", directory_format::csv) == std::vector<std::string>{"1:"});
}

TEST_CASE("SEC-11 a JSON array of records is read, errors name the line a record starts on") {
  auto rows = parse_directory_file(R"([
  {"kind": "extension", "number": 201, "force_authorization": false},
  {"kind": "user", "name": "alice", "extension": "201", "full_name": "Alice"}
])",
                                   directory_format::json);
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].key == "201");
  CHECK((*rows)[0].line == 2);
  CHECK((*rows)[0].extension.force_authorization == false);
  CHECK((*rows)[1].line == 3);
  CHECK(refusals(R"([
  {"kind": "extension", "number": "201"},
  {"kind": "extension",
   "number": "202", "media_security": "maximum"},
  {"kind": "user", "name": "bob", "pin": "1"},
  {"kind": "user", "name": "carol", "extension": ["203"]}
])",
                 directory_format::json) ==
        std::vector<std::string>{"3:media_security", "5:pin", "6:extension"});
  CHECK(refusals("{\"kind\": \"user\"}", directory_format::json) == std::vector<std::string>{"1:"});
  CHECK(refusals("[{", directory_format::json) == std::vector<std::string>{"1:"});
}

TEST_CASE("SEC-11 an import creates and updates under the directory's rules, or reports all") {
  auto directory = empty_directory();
  auto settings = policy();
  auto rows = parse_directory_file(good_csv, directory_format::csv);
  REQUIRE(rows.has_value());
  auto summary = import_directory_rows(directory, *rows, settings);
  REQUIRE(summary.has_value());
  CHECK(summary->extensions_created == 2);
  CHECK(summary->users_created == 1);
  CHECK(directory.data().extensions.at("201").has_phone_password);
  CHECK(directory.data().users.at("alice").extension == "201");

  // Known records are updated; the user row comes first in the file but runs after the
  // extension it names.
  auto again = parse_directory_file("kind,name,number,extension,phone_password\n"
                                    "user,bob,,203,\n"
                                    "extension,,203,,61829374\n"
                                    "extension,,201,,\n",
                                    directory_format::csv);
  REQUIRE(again.has_value());
  summary = import_directory_rows(directory, *again, settings);
  REQUIRE(summary.has_value());
  CHECK(summary->extensions_created == 1);
  CHECK(summary->extensions_updated == 1);
  CHECK(summary->users_created == 1);
  CHECK(directory.data().extensions.at("201").has_phone_password);

  // The directory's own checks: a weak phone password, a taken extension.
  auto bad = parse_directory_file("kind,name,number,extension,phone_password\n"
                                  "extension,,204,,1234\n"
                                  "user,carol,,201,\n"
                                  "extension,,205,,73918264\n",
                                  directory_format::csv);
  REQUIRE(bad.has_value());
  auto refused = import_directory_rows(directory, *bad, settings);
  REQUIRE_FALSE(refused.has_value());
  REQUIRE(refused.error().size() == 2);
  CHECK(refused.error()[0].line == 2);
  CHECK(refused.error()[0].field == "phone_password");
  CHECK(refused.error()[1].line == 3);
  CHECK(refused.error()[1].field == "extension");
  CHECK(describe(refused.error()).starts_with("line 2: phone_password: "));
}

TEST_CASE("SEC-11 an export reads back as the same records, without secrets") {
  auto directory = empty_directory();
  auto settings = policy();
  REQUIRE(import_directory_rows(directory, *parse_directory_file(good_csv, directory_format::csv),
                                settings)
              .has_value());
  for (auto format : {directory_format::csv, directory_format::json}) {
    auto text = export_directory_file(directory.data(), format);
    CHECK(text.find("82917364") == std::string::npos);
    auto rows = parse_directory_file(text, format);
    REQUIRE(rows.has_value());
    REQUIRE(rows->size() == 3);
    CHECK((*rows)[0].key == "201");
    CHECK((*rows)[0].extension.media_security ==
          std::optional<std::optional<media::media_security>>{media::media_security::enforce});
    CHECK((*rows)[2].user.full_name == "Smith, Alice \"Al\"");
    auto copy = directory;
    REQUIRE(import_directory_rows(copy, *rows, settings).has_value());
    auto reimported = copy.data();
    reimported.version = directory.data().version;
    CHECK(encode_directory(reimported) == encode_directory(directory.data()));
  }
}

TEST_CASE("SEC-11 secrets hashed before the import are stored as made and still checked") {
  auto directory = empty_directory();
  auto settings = policy();
  auto rows = parse_directory_file("kind,name,extension,password,login_code\n"
                                   "user,bob,203,Quiet-Fern-Road-31,739164\n"
                                   "user,eve,204,password,\n",
                                   directory_format::csv);
  REQUIRE(rows.has_value());
  for (auto& row : *rows)
    REQUIRE(hash_user_secrets(row.user, security::test_argon2_cost).has_value());
  REQUIRE((*rows)[0].user.password_hash.has_value());
  REQUIRE((*rows)[0].user.login_code_hash.has_value());
  CHECK_FALSE((*rows)[0].user.voicemail_code_hash.has_value());
  // The policy still judges the secret itself: a weak password is refused though hashed.
  auto refused = import_directory_rows(directory, *rows, settings);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().front().line == 3);
  rows->pop_back();
  REQUIRE(import_directory_rows(directory, *rows, settings).has_value());
  const auto& bob = directory.data().users.at("bob");
  CHECK(bob.password_hash == *(*rows)[0].user.password_hash);
  CHECK(security::verify_secret(bob.password_hash, "Quiet-Fern-Road-31"));
  CHECK(security::verify_secret(bob.login_code_hash, "739164"));
}
