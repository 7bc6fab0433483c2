#include "core/enum_names.hpp"
#include "core/typed_error.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <type_traits>

using namespace ward;

namespace {

enum class colour : std::uint8_t { red, green, blue };

constexpr auto colour_names =
    name_table(enum_name{colour::red, "red"}, enum_name{colour::green, "green"},
               enum_name{colour::blue, "Blue-ish"});

enum class shade_errc { too_dark, too_light };

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20))
      return false;
  return true;
}

} // namespace

// The table is usable at compile time, like the switches it replaces.
static_assert(name_of(colour_names, colour::green) == "green");
static_assert(parse_name(colour_names, "Blue-ish") == colour::blue);
static_assert(colour_names.size() == 3);

// What name_table relies on to catch a table missing a value.
static_assert(detail::names_an_enumerator<colour::blue>());
static_assert(!detail::names_an_enumerator<static_cast<colour>(3)>());
static_assert(!detail::names_an_enumerator<static_cast<shade_errc>(-1)>());

TEST_CASE("name_of gives each value its row's exact text") {
  CHECK(name_of(colour_names, colour::red) == "red");
  CHECK(name_of(colour_names, colour::green) == "green");
  CHECK(name_of(colour_names, colour::blue) == "Blue-ish");
}

TEST_CASE("name_of gives the fallback for a value outside the enum") {
  CHECK(name_of(colour_names, static_cast<colour>(3)) == "unknown");
  CHECK(name_of(colour_names, static_cast<colour>(200), "red") == "red");
}

TEST_CASE("parse_name accepts exactly the names and nothing else") {
  for (const auto& row : colour_names)
    CHECK(parse_name(colour_names, name_of(colour_names, row.value)) == row.value);
  CHECK_FALSE(parse_name(colour_names, "RED").has_value());
  CHECK_FALSE(parse_name(colour_names, "blue-ish").has_value());
  CHECK_FALSE(parse_name(colour_names, "").has_value());
  CHECK_FALSE(parse_name(colour_names, "unknown").has_value());
  CHECK_FALSE(parse_name(colour_names, std::string_view("red\0", 4)).has_value());
}

TEST_CASE("parse_name with a comparison reads names with looser rules") {
  CHECK(parse_name(colour_names, "GREEN", iequals) == colour::green);
  CHECK(parse_name(colour_names, "blue-ish", iequals) == colour::blue);
  CHECK_FALSE(parse_name(colour_names, "gree", iequals).has_value());
}

TEST_CASE("typed_error carries a code and a detail, one type per code enum") {
  const typed_error<shade_errc> error{shade_errc::too_light, "the wall is white"};
  CHECK(error.code == shade_errc::too_light);
  CHECK(error.detail == "the wall is white");
  const typed_error<shade_errc> designated{.code = shade_errc::too_dark, .detail = {}};
  CHECK(designated.code == shade_errc::too_dark);
  CHECK(designated.detail.empty());
  static_assert(!std::is_same_v<typed_error<shade_errc>, typed_error<colour>>);
  static_assert(std::is_aggregate_v<typed_error<shade_errc>>);
}
