#include "security/credential_rules.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

using namespace ward::security;
using reason = credential_rejection;

namespace {

constexpr password_rules low{.min_length = 8, .max_length = 31, .level = complexity::low};
constexpr password_rules medium{.min_length = 8, .max_length = 31, .level = complexity::medium};
constexpr password_rules high{.min_length = 8, .max_length = 31, .level = complexity::high};

constexpr std::array all_rejections = {
    reason::too_short,
    reason::too_long,
    reason::not_printable_ascii,
    reason::not_digits,
    reason::invalid_utf8,
    reason::too_few_character_classes,
    reason::repeated_run,
    reason::sequential_run,
    reason::equals_name,
    reason::equals_reversed_name,
    reason::repeated_digits,
    reason::digit_sequence,
    reason::keypad_pattern,
    reason::equals_extension,
    reason::equals_reversed_extension,
};

/// `count` copies of `piece`, for length limits measured in characters not bytes.
std::string repeat(std::string_view piece, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i)
    out += piece;
  return out;
}

/// A random source that hands out `prefix` first and then the seeded generator's bytes, so a
/// test can place bytes the sampler must skip.
ward::random_source scripted_random(std::vector<unsigned char> prefix, std::uint64_t seed) {
  auto state =
      std::make_shared<std::pair<std::vector<unsigned char>, std::size_t>>(std::move(prefix), 0);
  auto rest = ward::test::seeded_random(seed);
  return [state, rest](std::span<std::byte> out) {
    auto& [bytes, next] = *state;
    for (auto& byte : out) {
      if (next < bytes.size())
        byte = static_cast<std::byte>(bytes[next++]);
      else
        rest(std::span<std::byte>(&byte, 1));
    }
  };
}

} // namespace

TEST_CASE("POL-3 complexity levels round-trip through their configuration names") {
  for (auto level : {complexity::low, complexity::medium, complexity::high})
    CHECK(parse_complexity(to_string(level)) == level);
  CHECK(to_string(complexity::low) == "low");
  CHECK(to_string(complexity::medium) == "medium");
  CHECK(to_string(complexity::high) == "high");
}

TEST_CASE("POL-3 parse_complexity refuses unknown spellings") {
  CHECK_FALSE(parse_complexity("").has_value());
  CHECK_FALSE(parse_complexity("Medium").has_value());
  CHECK_FALSE(parse_complexity("very high").has_value());
  CHECK_FALSE(parse_complexity("low ").has_value());
}

TEST_CASE("POL-3 every rejection has a distinct snake_case name and a sentence") {
  std::set<std::string_view> names;
  std::set<std::string> sentences;
  for (auto rejection : all_rejections) {
    auto name = to_string(rejection);
    CHECK(name != "unknown");
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789") ==
          std::string_view::npos);
    names.insert(name);
    auto sentence = describe(rejection, 8, 31);
    CHECK_FALSE(sentence.empty());
    sentences.insert(sentence);
  }
  CHECK(names.size() == all_rejections.size());
  CHECK(sentences.size() == all_rejections.size());
  CHECK(to_string(reason::too_few_character_classes) == "too_few_character_classes");
  CHECK(to_string(reason::equals_reversed_extension) == "equals_reversed_extension");
}

TEST_CASE("POL-3 describe states the length limits it is given") {
  CHECK(describe(reason::too_short, 8) == "must be at least 8 characters");
  CHECK(describe(reason::too_long, 0, 31) == "must be at most 31 characters");
  CHECK(describe(reason::too_short) == "is too short");
  CHECK(describe(reason::too_long) == "is too long");
}

TEST_CASE("POL-3 low accepts any characters within the length limits") {
  CHECK_FALSE(check_password("aaaaaaaa", "", low).has_value());
  CHECK_FALSE(check_password("12345678", "", low).has_value());
  CHECK_FALSE(check_password("abcdefgh", "", low).has_value());
  CHECK_FALSE(check_password("password", "password", low).has_value());
  CHECK_FALSE(check_password("drowssap", "password", low).has_value());
  CHECK_FALSE(check_password("  \t  ~!é", "", low).has_value());
}

TEST_CASE("POL-3 low still enforces the length limits") {
  CHECK(check_password("short", "", low) == reason::too_short);
  CHECK(check_password(repeat("a", 32), "", low) == reason::too_long);
  CHECK_FALSE(check_password(repeat("a", 31), "", low).has_value());
  CHECK(check_password("", "", low) == reason::too_short);
  constexpr password_rules unset{.min_length = 0, .max_length = 31, .level = complexity::low};
  CHECK_FALSE(check_password("", "", unset).has_value());
}

TEST_CASE("POL-6 password length is counted in Unicode characters not bytes") {
  CHECK_FALSE(check_password("pässwörd", "", low).has_value());
  CHECK(check_password("pässwör", "", low) == reason::too_short);
  CHECK_FALSE(check_password(repeat("ä", service_user_password_max), "", low).has_value());
  CHECK(check_password(repeat("ä", service_user_password_max + 1), "", low) == reason::too_long);
  // Four-byte characters count once as well.
  CHECK_FALSE(check_password(repeat("😀", 8), "", low).has_value());
  CHECK(check_password(repeat("😀", 7), "", low) == reason::too_short);
}

TEST_CASE("POL-6 ill-formed UTF-8 is refused as invalid_utf8 at every level") {
  for (auto rules : {low, medium, high}) {
    CHECK(check_password("Passw0rd\xff", "", rules) == reason::invalid_utf8);
    CHECK(check_password("Passw0rd\xc3", "", rules) == reason::invalid_utf8);
    CHECK(check_password("\x80Passw0rd", "", rules) == reason::invalid_utf8);
    // Overlong "/", a UTF-16 surrogate, and a value past U+10FFFF.
    CHECK(check_password("Passw0rd\xc0\xaf", "", rules) == reason::invalid_utf8);
    CHECK(check_password("Passw0rd\xed\xa0\x80", "", rules) == reason::invalid_utf8);
    CHECK(check_password("Passw0rd\xf4\x90\x80\x80", "", rules) == reason::invalid_utf8);
  }
  // Refused before length, since a length cannot be counted.
  CHECK(check_password("\xff", "", low) == reason::invalid_utf8);
}

TEST_CASE("POL-3 medium accepts two character classes") {
  CHECK_FALSE(check_password("correcthorse1", "", medium).has_value());
  CHECK_FALSE(check_password("Correcthorse", "", medium).has_value());
  CHECK_FALSE(check_password("correct-horse", "", medium).has_value());
  CHECK_FALSE(check_password("97461+38", "", medium).has_value());
}

TEST_CASE("POL-3 medium refuses a single character class") {
  CHECK(check_password("correcthorse", "", medium) == reason::too_few_character_classes);
  CHECK(check_password("CORRECTHORSE", "", medium) == reason::too_few_character_classes);
  CHECK(check_password("97461938", "", medium) == reason::too_few_character_classes);
  CHECK(check_password("!?-+#%&*", "", medium) == reason::too_few_character_classes);
}

TEST_CASE("POL-3 high refuses two character classes and accepts three") {
  CHECK(check_password("correcthorse1", "", high) == reason::too_few_character_classes);
  CHECK(check_password("Correcthorse", "", high) == reason::too_few_character_classes);
  CHECK_FALSE(check_password("Correcthorse1", "", high).has_value());
  CHECK_FALSE(check_password("correct-horse1", "", high).has_value());
  CHECK_FALSE(check_password("Correct-Horse-1", "", high).has_value());
}

TEST_CASE("POL-3 characters outside ASCII count as other characters") {
  // Lowercase plus "other" is two classes for Medium but not three for High.
  CHECK_FALSE(check_password("pässwörd", "", medium).has_value());
  CHECK(check_password("pässwörd", "", high) == reason::too_few_character_classes);
  CHECK_FALSE(check_password("Pässwörd", "", high).has_value());
  CHECK(check_password("äöüßäöüß", "", medium) == reason::too_few_character_classes);
}

TEST_CASE("POL-3 medium refuses a run of three identical characters") {
  CHECK(check_password("passwooo1", "", medium) == reason::repeated_run);
  CHECK(check_password("pass1112word", "", medium) == reason::repeated_run);
  CHECK(check_password("pass!!!word", "", medium) == reason::repeated_run);
  CHECK(check_password("pässsword", "", medium) == reason::repeated_run);
  CHECK(check_password("passwörd1ööö", "", medium) == reason::repeated_run);
  // Two in a row are fine.
  CHECK_FALSE(check_password("passw00rd", "", medium).has_value());
}

TEST_CASE("POL-3 medium refuses ascending and descending runs with letters ignoring case") {
  CHECK(check_password("kfxabc7tq", "", medium) == reason::sequential_run);
  CHECK(check_password("kfxcba7tq", "", medium) == reason::sequential_run);
  CHECK(check_password("kfxABC7tq", "", medium) == reason::sequential_run);
  CHECK(check_password("kfxaBc7tq", "", medium) == reason::sequential_run);
  CHECK(check_password("kfxCbA7tq", "", medium) == reason::sequential_run);
  CHECK(check_password("kfx123tq", "", medium) == reason::sequential_run);
  CHECK(check_password("kfx321tq", "", medium) == reason::sequential_run);
  CHECK(check_password("kfxXYZ7tq", "", medium) == reason::sequential_run);
  // Steps of two and pairs are not runs.
  CHECK_FALSE(check_password("kfxace7tq", "", medium).has_value());
  CHECK_FALSE(check_password("kfx12x21q", "", medium).has_value());
}

TEST_CASE("POL-3 sequences count only within letters or within digits") {
  // "9:;" and "z{|" are neighbours in ASCII but not a sequence anyone types.
  CHECK_FALSE(check_password("pass9:;w", "", medium).has_value());
  CHECK_FALSE(check_password("passz{|9", "", medium).has_value());
  CHECK_FALSE(check_password("pass?@Aw", "", medium).has_value());
}

TEST_CASE("POL-3 medium refuses the account name and its reverse ignoring case") {
  CHECK(check_password("alice2024", "alice2024", medium) == reason::equals_name);
  CHECK(check_password("Alice2024", "alice2024", medium) == reason::equals_name);
  CHECK(check_password("4202ecila", "alice2024", medium) == reason::equals_reversed_name);
  CHECK(check_password("4202ECILA", "Alice2024", medium) == reason::equals_reversed_name);
  // An extension serves as the name for telephony users.
  CHECK(check_password("47219658", "47219658", medium) == reason::too_few_character_classes);
  CHECK(check_password("4721-9658", "4721-9658", medium) == reason::equals_name);
  CHECK(check_password("8569-1274", "4721-9658", medium) == reason::equals_reversed_name);
  // Reversal is by character, so a name with umlauts reverses as the user reads it.
  constexpr password_rules six{.min_length = 6, .max_length = 31, .level = complexity::high};
  CHECK(check_password("Negrüj", "jürgen", six) == reason::equals_reversed_name);
  CHECK(check_password("Jürgen", "jürgen", six) == reason::equals_name);
  // Only ASCII letters fold case; Ü and ü stay different characters.
  CHECK_FALSE(check_password("JÜrgen", "jürgen", six).has_value());
  // Containing the name is not equal to it, and no name skips the rule.
  CHECK_FALSE(check_password("alice2024!", "alice2024", medium).has_value());
  CHECK_FALSE(check_password("alice2024", "", medium).has_value());
}

TEST_CASE("POL-3 high applies the medium rules as well") {
  CHECK(check_password("Passwooo1", "", high) == reason::repeated_run);
  CHECK(check_password("Kfxabc7tq", "", high) == reason::sequential_run);
  CHECK(check_password("Alice2024", "alice2024", high) == reason::equals_name);
  CHECK(check_password("4202ecilA", "alice2024", high) == reason::equals_reversed_name);
  CHECK(check_password("Sh0rt", "", high) == reason::too_short);
  CHECK(check_password(repeat("Ab1", 11), "", high) == reason::too_long);
}

TEST_CASE("POL-3 the first failing rule is reported in the documented order") {
  // Length before classes, classes before runs, runs before the name.
  CHECK(check_password("aaa", "", medium) == reason::too_short);
  CHECK(check_password("aaaaaaaaa", "", medium) == reason::too_few_character_classes);
  CHECK(check_password("aaaaaaa1", "", medium) == reason::repeated_run);
  CHECK(check_password("aaabcde1", "", medium) == reason::repeated_run);
  CHECK(check_password("xabcdef1", "", medium) == reason::sequential_run);
  CHECK(check_password("aaab1234", "aaab1234", medium) == reason::repeated_run);
  CHECK(check_password("xyz-alic", "xyz-alic", medium) == reason::sequential_run);
}

TEST_CASE("POL-5 codes must be digits within the length limits") {
  constexpr pin_rules rules{};
  CHECK(check_pin("274", "", rules) == reason::too_short);
  CHECK(check_pin(repeat("2749", 8), "", rules) == reason::too_long);
  CHECK(check_pin("27a9", "", rules) == reason::not_digits);
  CHECK(check_pin("27 9", "", rules) == reason::not_digits);
  CHECK(check_pin("-2749", "", rules) == reason::not_digits);
  CHECK(check_pin("２７４９", "", rules) == reason::not_digits);
  CHECK(check_pin("2749", "", rules) == std::nullopt);
  // Length is judged first.
  CHECK(check_pin("ab", "", rules) == reason::too_short);
}

TEST_CASE("POL-5 an unset code is allowed when the minimum is zero") {
  CHECK_FALSE(check_pin("", "4721", pin_rules{.min_length = 0}).has_value());
  CHECK(check_pin("", "4721", pin_rules{}) == reason::too_short);
}

TEST_CASE("POL-5 a code of one repeated digit or one repeated group is refused") {
  constexpr pin_rules rules{.min_length = 2};
  for (auto code : {"1111", "0000", "99", "999999", "1212", "121212", "123123", "25802580",
                    "4747474747", "19731973"})
    CHECK_MESSAGE(check_pin(code, "", rules) == reason::repeated_digits, std::string(code));
  // A group that does not repeat to the end is not a repeat.
  CHECK_FALSE(check_pin("121213", "", rules).has_value());
  CHECK_FALSE(check_pin("19731974", "", rules).has_value());
}

TEST_CASE("POL-5 ascending and descending digit sequences are refused with 0 following 9") {
  for (auto code :
       {"1234", "9876", "7890", "3210", "0123", "8901", "0987", "12345678", "6543210", "901"})
    CHECK_MESSAGE(check_pin(code, "", pin_rules{.min_length = 3}) == reason::digit_sequence,
                  std::string(code));
  CHECK_FALSE(check_pin("1235", "", pin_rules{}).has_value());
  CHECK_FALSE(check_pin("1243", "", pin_rules{}).has_value());
}

TEST_CASE("POL-5 straight keypad walks are refused") {
  constexpr pin_rules rules{.min_length = 3};
  for (auto code : {"2580", "1470", "3690", "7410", "0852", "0963", "0741", "159",
                    "951",  "357",  "753",  "147",  "258",  "369",  "741",  "852",
                    "963",  "470",  "085",  "8520", "9630", "0147", "0258", "0369"})
    CHECK_MESSAGE(check_pin(code, "", rules) == reason::keypad_pattern, std::string(code));
}

TEST_CASE("POL-5 ordinary codes are accepted") {
  for (auto code : {"2749", "8031", "5193", "60728", "31415926"})
    CHECK_MESSAGE(check_pin(code, "4721", pin_rules{}) == std::nullopt, std::string(code));
}

TEST_CASE("POL-5 codes equal to the extension or its reverse are refused") {
  CHECK(check_pin("4721", "4721", pin_rules{}) == reason::equals_extension);
  CHECK(check_pin("1274", "4721", pin_rules{}) == reason::equals_reversed_extension);
  CHECK(check_pin("47210", "4721", pin_rules{}) == std::nullopt);
  // A palindromic extension is reported as itself.
  CHECK(check_pin("4774", "4774", pin_rules{}) == reason::equals_extension);
  // A pattern is reported before the extension.
  CHECK(check_pin("2580", "2580", pin_rules{}) == reason::keypad_pattern);
}

TEST_CASE("POL-5 the complexity test can be turned off") {
  constexpr pin_rules rules{.complexity_test = false};
  for (auto code : {"1111", "1234", "2580", "4721"})
    CHECK_MESSAGE(check_pin(code, "4721", rules) == std::nullopt, std::string(code));
  CHECK(check_pin("12a4", "", rules) == reason::not_digits);
  CHECK(check_pin("123", "", rules) == reason::too_short);
}

TEST_CASE("POL-5 remote-worker phone passwords need 9 digits and pass the complexity test") {
  CHECK(check_remote_worker_phone_password("27491836", "4721") == reason::too_short);
  CHECK_FALSE(check_remote_worker_phone_password("274918365", "4721").has_value());
  CHECK_FALSE(check_remote_worker_phone_password("2749183650172", "4721").has_value());
  CHECK(check_remote_worker_phone_password("123456789", "4721") == reason::digit_sequence);
  CHECK(check_remote_worker_phone_password("1234567890123", "4721") == reason::digit_sequence);
  CHECK(check_remote_worker_phone_password("111111111", "4721") == reason::repeated_digits);
  CHECK(check_remote_worker_phone_password("274918365", "274918365") == reason::equals_extension);
  CHECK(check_remote_worker_phone_password("563819472", "274918365") ==
        reason::equals_reversed_extension);
  CHECK(check_remote_worker_phone_password("27491836a", "4721") == reason::not_digits);
  CHECK(check_remote_worker_phone_password(repeat("2749", 8), "4721") == reason::too_long);
  CHECK(remote_worker_phone_password_recommended == 13);
}

TEST_CASE("POL-6 voicemail and login codes follow their field limits") {
  constexpr pin_rules voicemail{.min_length = 0, .max_length = voicemail_code_max};
  constexpr pin_rules login{.min_length = 0, .max_length = login_code_max};
  CHECK_FALSE(check_pin("", "", voicemail).has_value());
  CHECK_FALSE(check_pin("274918365017283", "", voicemail).has_value());
  CHECK(check_pin("2749183650172836", "", voicemail) == reason::too_long);
  CHECK_FALSE(check_pin("", "", login).has_value());
  CHECK_FALSE(check_pin("2749183650172836495017283649501", "", login).has_value());
  CHECK(check_pin("27491836501728364950172836495017", "", login) == reason::too_long);
}

TEST_CASE("POL-6 system passwords are 1 to 31 printable ASCII characters") {
  CHECK(check_system_password("") == reason::too_short);
  CHECK_FALSE(check_system_password("a").has_value());
  CHECK_FALSE(check_system_password("aaa").has_value());
  CHECK_FALSE(check_system_password(" ~").has_value());
  CHECK_FALSE(check_system_password(repeat("x", system_password_max)).has_value());
  CHECK(check_system_password(repeat("x", system_password_max + 1)) == reason::too_long);
  CHECK(check_system_password("pässword") == reason::not_printable_ascii);
  CHECK(check_system_password("pass\tword") == reason::not_printable_ascii);
  CHECK(check_system_password("pass\x7fword") == reason::not_printable_ascii);
  CHECK(check_system_password(std::string("pass\0word", 9)) == reason::not_printable_ascii);
}

TEST_CASE("POL-6 the link password is 31 printable ASCII characters without space") {
  auto password = generate_link_password(ward::test::seeded_random(1));
  CHECK(password.size() == voicemail_link_password_length);
  for (char c : password) {
    CHECK(c > ' ');
    CHECK(c <= '~');
  }
}

TEST_CASE("POL-6 the link password is deterministic for a seeded random source") {
  auto first = generate_link_password(ward::test::seeded_random(42));
  auto second = generate_link_password(ward::test::seeded_random(42));
  auto other = generate_link_password(ward::test::seeded_random(43));
  CHECK(first == second);
  CHECK(first != other);
}

TEST_CASE("POL-6 the link password always passes high complexity") {
  constexpr password_rules exact{.min_length = voicemail_link_password_length,
                                 .max_length = voicemail_link_password_length,
                                 .level = complexity::high};
  std::set<char> seen;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    auto password = generate_link_password(ward::test::seeded_random(seed));
    CHECK_MESSAGE(check_password(password, "", exact) == std::nullopt, password);
    seen.insert(password.begin(), password.end());
  }
  // Every one of the 94 characters from '!' to '~' turns up.
  CHECK(seen.size() == 94);
}

TEST_CASE("POL-6 the link password sampler skips bytes that would bias the alphabet") {
  // 94 characters fit twice into a byte (0-187); 188-255 must be redrawn, not wrapped.
  auto password = generate_link_password(scripted_random({255, 188, 200, 187, 94, 2}, 5));
  REQUIRE(password.size() == voicemail_link_password_length);
  CHECK(password.substr(0, 3) == "~!#");
}
