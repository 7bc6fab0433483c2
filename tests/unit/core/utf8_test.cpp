#include "core/utf8.hpp"

#include <doctest/doctest.h>

#include <string_view>
#include <utility>

using namespace ward;

namespace {

/// The sequence length `text` starts with, and its code point (0 when there is none).
std::pair<std::size_t, char32_t> decode(std::string_view text) {
  char32_t code_point = 0;
  const std::size_t length = utf8_sequence(text, code_point);
  return {length, length == 0 ? 0 : code_point};
}

} // namespace

TEST_CASE("utf8_sequence reads one to four bytes at the start of the text") {
  CHECK(decode("A rest") == std::pair<std::size_t, char32_t>{1, U'A'});
  CHECK(decode(std::string_view("\0x", 2)) == std::pair<std::size_t, char32_t>{1, 0});
  CHECK(decode("\xC3\xA9t\xC3\xA9") == std::pair<std::size_t, char32_t>{2, 0xE9});
  CHECK(decode("\xE2\x82\xAC") == std::pair<std::size_t, char32_t>{3, 0x20AC});
  CHECK(decode("\xF0\x9F\x98\x80") == std::pair<std::size_t, char32_t>{4, 0x1F600});
  CHECK(decode("\xF4\x8F\xBF\xBF") == std::pair<std::size_t, char32_t>{4, 0x10FFFF});
  CHECK(decode("\xEF\xBF\xBD") == std::pair<std::size_t, char32_t>{3, 0xFFFD});
}

TEST_CASE("utf8_sequence refuses what is not well-formed") {
  CHECK(decode("").first == 0);
  // A continuation byte or a lead byte UTF-8 never uses.
  CHECK(decode("\x80").first == 0);
  CHECK(decode("\xBF").first == 0);
  CHECK(decode("\xF8\x88\x80\x80\x80").first == 0);
  CHECK(decode("\xFF").first == 0);
  // Truncated, or a lead byte followed by something other than a continuation.
  CHECK(decode("\xC3").first == 0);
  CHECK(decode("\xE2\x82").first == 0);
  CHECK(decode("\xE2(\xAC").first == 0);
  // Overlong forms.
  CHECK(decode("\xC0\xAF").first == 0);
  CHECK(decode("\xC1\xBF").first == 0);
  CHECK(decode("\xE0\x9F\xBF").first == 0);
  CHECK(decode("\xF0\x8F\xBF\xBF").first == 0);
  // Surrogates and values past U+10FFFF.
  CHECK(decode("\xED\xA0\x80").first == 0);
  CHECK(decode("\xED\xBF\xBF").first == 0);
  CHECK(decode("\xF4\x90\x80\x80").first == 0);
  CHECK(decode("\xF7\xBF\xBF\xBF").first == 0);
}

TEST_CASE("utf8_sequence leaves the code point alone on refusal") {
  char32_t code_point = U'x';
  CHECK(utf8_sequence("\xC3", code_point) == 0);
  CHECK(code_point == U'x');
}

static_assert([] {
  char32_t code_point = 0;
  return utf8_sequence("\xC3\xA9", code_point) == 2 && code_point == 0xE9;
}());
