#include "security/credential_rules.hpp"

#include "core/enum_names.hpp"
#include "core/utf8.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

namespace ward::security {

namespace {

/// Decodes well-formed UTF-8 into code points, or nullopt. Overlong forms, surrogates and
/// values past U+10FFFF are refused so one password has exactly one length.
std::optional<std::u32string> decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  while (!text.empty()) {
    char32_t code_point = 0;
    const std::size_t length = utf8_sequence(text, code_point);
    if (length == 0)
      return std::nullopt;
    out.push_back(code_point);
    text.remove_prefix(length);
  }
  return out;
}

bool is_lower(char32_t c) {
  return c >= U'a' && c <= U'z';
}
bool is_upper(char32_t c) {
  return c >= U'A' && c <= U'Z';
}
bool is_digit(char32_t c) {
  return c >= U'0' && c <= U'9';
}

/// Folds ASCII letters only: users think of "Admin" and "admin" as one name, but Unicode case
/// folding would need tables this pure library does not carry.
char32_t fold(char32_t c) {
  return is_upper(c) ? c - U'A' + U'a' : c;
}

bool equal_ignoring_case(std::u32string_view a, std::u32string_view b) {
  return std::ranges::equal(a, b, [](char32_t x, char32_t y) { return fold(x) == fold(y); });
}

std::size_t character_classes(std::u32string_view text) {
  bool lower = false;
  bool upper = false;
  bool digit = false;
  bool other = false;
  for (auto c : text) {
    if (is_lower(c))
      lower = true;
    else if (is_upper(c))
      upper = true;
    else if (is_digit(c))
      digit = true;
    else
      other = true;
  }
  return std::size_t{lower} + upper + digit + other;
}

bool has_repeated_run(std::u32string_view text) {
  for (std::size_t i = 2; i < text.size(); ++i)
    if (text[i] == text[i - 1] && text[i - 1] == text[i - 2])
      return true;
  return false;
}

/// Sequences only count within letters or within digits: "abc" and "321" are what people
/// type, while code point neighbours like "9:;" or "?@A" are not a guessable pattern.
bool has_sequential_run(std::u32string_view text) {
  for (std::size_t i = 2; i < text.size(); ++i) {
    char32_t a = fold(text[i - 2]);
    char32_t b = fold(text[i - 1]);
    char32_t c = fold(text[i]);
    bool letters = is_lower(a) && is_lower(b) && is_lower(c);
    bool digits = is_digit(a) && is_digit(b) && is_digit(c);
    if (!letters && !digits)
      continue;
    auto step1 = static_cast<std::int64_t>(b) - static_cast<std::int64_t>(a);
    auto step2 = static_cast<std::int64_t>(c) - static_cast<std::int64_t>(b);
    if (step1 == step2 && (step1 == 1 || step1 == -1))
      return true;
  }
  return false;
}

bool is_all_digits(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

/// True when `code` is some shorter group repeated: "1111", "1212", "25802580".
bool is_repeated_group(std::string_view code) {
  for (std::size_t period = 1; period < code.size(); ++period) {
    if (code.size() % period != 0)
      continue;
    bool repeats = true;
    for (std::size_t i = period; i < code.size() && repeats; ++i)
      repeats = code[i] == code[i - period];
    if (repeats)
      return true;
  }
  return false;
}

/// True when every digit is one more (or every digit one less) than the one before, with 0
/// following 9, because keypads put 0 after 9 and users type "7890" as a run.
bool is_digit_sequence(std::string_view code) {
  if (code.size() < 3)
    return false;
  auto step = [&](std::size_t i) { return (code[i] - code[i - 1] + 10) % 10; };
  int first = step(1);
  if (first != 1 && first != 9)
    return false;
  for (std::size_t i = 2; i < code.size(); ++i)
    if (step(i) != first)
      return false;
  return true;
}

/// Straight walks across a 3x4 phone keypad (1 2 3 / 4 5 6 / 7 8 9 / * 0 #). A code that is
/// a piece of any of them, forwards or backwards, is a walk of the thumb. Each column is
/// listed walked down and walked up, finishing on 0, because "7410" is as common a choice as
/// "1470" and is not its reverse.
constexpr std::array<std::string_view, 14> keypad_walks = {
    "1470", "2580", "3690", "7410", "8520", "9630", "123",
    "456",  "789",  "159",  "357",  "147",  "258",  "369",
};

bool is_keypad_pattern(std::string_view code) {
  if (code.size() < 3)
    return false;
  std::string reversed(code.rbegin(), code.rend());
  return std::ranges::any_of(keypad_walks, [&](std::string_view walk) {
    return walk.find(code) != std::string_view::npos ||
           walk.find(reversed) != std::string_view::npos;
  });
}

/// Printable ASCII without space, so the link password survives any config or URL field.
constexpr char link_alphabet_first = '!';
constexpr std::size_t link_alphabet_size = '~' - '!' + 1;

/// The largest multiple of the alphabet size a byte can hold; bytes at or above it are
/// redrawn so every character is equally likely.
constexpr unsigned link_sampling_limit = 256 / link_alphabet_size * link_alphabet_size;

} // namespace

constexpr auto complexity_names =
    name_table(enum_name{complexity::low, "low"}, enum_name{complexity::medium, "medium"},
               enum_name{complexity::high, "high"});

std::string_view to_string(complexity level) {
  return name_of(complexity_names, level);
}

std::optional<complexity> parse_complexity(std::string_view text) {
  return parse_name(complexity_names, text);
}

constexpr auto credential_rejection_names = name_table(
    enum_name{credential_rejection::too_short, "too_short"},
    enum_name{credential_rejection::too_long, "too_long"},
    enum_name{credential_rejection::not_printable_ascii, "not_printable_ascii"},
    enum_name{credential_rejection::not_digits, "not_digits"},
    enum_name{credential_rejection::invalid_utf8, "invalid_utf8"},
    enum_name{credential_rejection::too_few_character_classes, "too_few_character_classes"},
    enum_name{credential_rejection::repeated_run, "repeated_run"},
    enum_name{credential_rejection::sequential_run, "sequential_run"},
    enum_name{credential_rejection::equals_name, "equals_name"},
    enum_name{credential_rejection::equals_reversed_name, "equals_reversed_name"},
    enum_name{credential_rejection::repeated_digits, "repeated_digits"},
    enum_name{credential_rejection::digit_sequence, "digit_sequence"},
    enum_name{credential_rejection::keypad_pattern, "keypad_pattern"},
    enum_name{credential_rejection::equals_extension, "equals_extension"},
    enum_name{credential_rejection::equals_reversed_extension, "equals_reversed_extension"});

std::string_view to_string(credential_rejection reason) {
  return name_of(credential_rejection_names, reason);
}

std::string describe(credential_rejection reason, std::size_t min_length, std::size_t max_length) {
  switch (reason) {
    case credential_rejection::too_short:
      if (min_length == 0)
        return "is too short";
      return "must be at least " + std::to_string(min_length) + " characters";
    case credential_rejection::too_long:
      if (max_length == 0)
        return "is too long";
      return "must be at most " + std::to_string(max_length) + " characters";
    case credential_rejection::not_printable_ascii:
      return "must contain only printable ASCII characters";
    case credential_rejection::not_digits:
      return "must contain only digits";
    case credential_rejection::invalid_utf8:
      return "must be valid UTF-8 text";
    case credential_rejection::too_few_character_classes:
      return "must mix more kinds of characters: lowercase letters, uppercase letters, digits "
             "and other characters";
    case credential_rejection::repeated_run:
      return "must not contain the same character three or more times in a row";
    case credential_rejection::sequential_run:
      return "must not contain three or more consecutive letters or digits, such as abc or 321";
    case credential_rejection::equals_name:
      return "must not be the account name";
    case credential_rejection::equals_reversed_name:
      return "must not be the account name reversed";
    case credential_rejection::repeated_digits:
      return "must not be one digit or one group of digits repeated";
    case credential_rejection::digit_sequence:
      return "must not be an ascending or descending sequence of digits";
    case credential_rejection::keypad_pattern:
      return "must not be a straight line on the phone keypad";
    case credential_rejection::equals_extension:
      return "must not be the extension number";
    case credential_rejection::equals_reversed_extension:
      return "must not be the extension number reversed";
  }
  return "is not acceptable";
}

std::optional<credential_rejection> check_password(std::string_view password,
                                                   std::string_view account_name,
                                                   const password_rules& rules) {
  auto decoded = decode_utf8(password);
  if (!decoded)
    return credential_rejection::invalid_utf8;
  std::u32string_view text = *decoded;
  if (text.size() < rules.min_length)
    return credential_rejection::too_short;
  if (text.size() > rules.max_length)
    return credential_rejection::too_long;
  if (rules.level == complexity::low)
    return std::nullopt;

  std::size_t needed_classes = rules.level == complexity::high ? 3 : 2;
  if (character_classes(text) < needed_classes)
    return credential_rejection::too_few_character_classes;
  if (has_repeated_run(text))
    return credential_rejection::repeated_run;
  if (has_sequential_run(text))
    return credential_rejection::sequential_run;

  // A name that is not UTF-8 cannot equal a password that is, forwards or reversed.
  auto name = decode_utf8(account_name);
  if (name && !name->empty()) {
    if (equal_ignoring_case(text, *name))
      return credential_rejection::equals_name;
    std::u32string reversed(name->rbegin(), name->rend());
    if (equal_ignoring_case(text, reversed))
      return credential_rejection::equals_reversed_name;
  }
  return std::nullopt;
}

std::optional<credential_rejection> check_pin(std::string_view code, std::string_view extension,
                                              const pin_rules& rules) {
  if (code.size() < rules.min_length)
    return credential_rejection::too_short;
  if (code.size() > rules.max_length)
    return credential_rejection::too_long;
  if (!is_all_digits(code))
    return credential_rejection::not_digits;
  // An unset code has no pattern to judge.
  if (!rules.complexity_test || code.empty())
    return std::nullopt;

  if (is_repeated_group(code))
    return credential_rejection::repeated_digits;
  if (is_digit_sequence(code))
    return credential_rejection::digit_sequence;
  if (is_keypad_pattern(code))
    return credential_rejection::keypad_pattern;
  return check_not_extension(code, extension);
}

std::optional<credential_rejection> check_not_extension(std::string_view secret,
                                                        std::string_view extension) {
  if (extension.empty())
    return std::nullopt;
  if (secret == extension)
    return credential_rejection::equals_extension;
  if (std::equal(secret.begin(), secret.end(), extension.rbegin(), extension.rend()))
    return credential_rejection::equals_reversed_extension;
  return std::nullopt;
}

std::optional<credential_rejection> check_system_password(std::string_view password) {
  if (password.empty())
    return credential_rejection::too_short;
  if (password.size() > system_password_max)
    return credential_rejection::too_long;
  if (!std::ranges::all_of(password, [](char c) { return c >= 0x20 && c <= 0x7e; }))
    return credential_rejection::not_printable_ascii;
  return std::nullopt;
}

std::optional<credential_rejection> check_remote_worker_phone_password(std::string_view code,
                                                                       std::string_view extension) {
  return check_pin(code, extension,
                   pin_rules{.min_length = remote_worker_phone_password_min,
                             .max_length = login_code_max,
                             .complexity_test = true});
}

std::string generate_link_password(const random_source& random) {
  constexpr password_rules rules{.min_length = voicemail_link_password_length,
                                 .max_length = voicemail_link_password_length,
                                 .level = complexity::high};
  std::array<std::byte, 64> pool{};
  std::size_t used = pool.size();
  auto next_byte = [&] {
    if (used == pool.size()) {
      random(std::span<std::byte>(pool));
      used = 0;
    }
    return std::to_integer<unsigned>(pool[used++]);
  };

  // Redrawing the whole password when it breaks a rule keeps every valid password equally
  // likely; patching single characters would skew the distribution. Few draws ever fail.
  std::string password;
  do {
    password.clear();
    while (password.size() < voicemail_link_password_length) {
      unsigned byte = next_byte();
      if (byte >= link_sampling_limit)
        continue;
      password.push_back(static_cast<char>(link_alphabet_first + byte % link_alphabet_size));
    }
  } while (check_password(password, {}, rules).has_value());
  return password;
}

} // namespace ward::security
