#include "telephony/short_code.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace ward::telephony {
namespace {

bool is_dialable(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || c == '+';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

short_code_error fail(short_code_errc code, std::string detail) {
  return {code, std::move(detail)};
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

bool takes_telephone(short_code_feature feature) {
  switch (feature) {
    case short_code_feature::dial:
    case short_code_feature::dial_emergency:
    case short_code_feature::forward_unconditional:
    case short_code_feature::forward_on_busy:
    case short_code_feature::forward_on_no_answer:
      return true;
    default:
      return false;
  }
}

std::expected<void, short_code_error> check_telephone(const short_code& code) {
  std::string_view text = code.telephone;
  if (text.size() > max_short_code_telephone_length)
    return std::unexpected(
        fail(short_code_errc::too_long,
             "telephone: longer than " + std::to_string(max_short_code_telephone_length)));
  const bool barred = code.feature == short_code_feature::barred;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (barred && text.substr(i, 4) == "SMDR") {
      i += 3;
      continue;
    }
    const char c = text[i];
    if (!is_dialable(c) && c != 'N' && c != '.')
      return std::unexpected(fail(short_code_errc::bad_telephone,
                                  "telephone: " + quoted(std::string(1, c)) + " in " +
                                      quoted(text) + " (digits, * # + N . only" +
                                      (barred ? std::string(", and SMDR") : std::string()) + ")"));
  }
  if (takes_telephone(code.feature) && text.empty())
    return std::unexpected(
        fail(short_code_errc::telephone_mismatch,
             "telephone: feature " + std::string(to_string(code.feature)) + " needs a number"));
  if (!takes_telephone(code.feature) && !barred && !text.empty())
    return std::unexpected(
        fail(short_code_errc::telephone_mismatch,
             "telephone: feature " + std::string(to_string(code.feature)) + " takes no number"));
  return {};
}

} // namespace

std::optional<std::uint32_t> parse_route_id(std::string_view route) {
  const auto colon = route.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == route.size())
    return std::nullopt;
  std::uint32_t id = 0;
  const auto digits = route.substr(0, colon);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size() || id == 0 || id > 99999)
    return std::nullopt;
  return id;
}

std::expected<compiled_short_code, short_code_error> compile_short_code(short_code code) {
  if (code.code.empty())
    return std::unexpected(fail(short_code_errc::empty_code, "code: empty"));
  if (code.code.size() > max_short_code_length)
    return std::unexpected(fail(short_code_errc::too_long,
                                "code: longer than " + std::to_string(max_short_code_length)));
  compiled_short_code compiled;
  bool seen_open_end = false;
  for (std::size_t i = 0; i < code.code.size(); ++i) {
    const char c = code.code[i];
    if (c == ';') {
      if (i + 1 != code.code.size())
        return std::unexpected(fail(short_code_errc::misplaced_wait,
                                    "code: ';' must be last in " + quoted(code.code)));
      compiled.waits_for_complete = true;
    } else if (c == 'X') {
      compiled.pattern.push_back({code_symbol_kind::one_digit, 0});
    } else if (c == 'N') {
      if (seen_open_end)
        return std::unexpected(fail(short_code_errc::repeated_wildcard,
                                    "code: more than one N in " + quoted(code.code)));
      seen_open_end = true;
      compiled.pattern.push_back({code_symbol_kind::any_digits, 0});
    } else if (is_dialable(c)) {
      compiled.pattern.push_back({code_symbol_kind::literal, c});
    } else {
      return std::unexpected(fail(short_code_errc::bad_code_character,
                                  "code: " + quoted(std::string(1, c)) + " in " +
                                      quoted(code.code) + " (digits, * # + X N ; only)"));
    }
  }
  if (compiled.pattern.empty())
    return std::unexpected(fail(short_code_errc::empty_code, "code: ';' alone matches nothing"));
  if (auto checked = check_telephone(code); !checked)
    return std::unexpected(checked.error());
  if (!code.route.empty()) {
    const auto id = parse_route_id(code.route);
    if (!id)
      return std::unexpected(
          fail(short_code_errc::bad_route,
               "route: " + quoted(code.route) + " is not <table number>:<name> (1 to 99999)"));
    if (code.feature != short_code_feature::dial)
      return std::unexpected(
          fail(short_code_errc::bad_route, "route: only a dial short code goes to an ARS table"));
    compiled.route_id = *id;
  }
  compiled.writes_barred_record = code.feature == short_code_feature::barred &&
                                  code.telephone.find("SMDR") != std::string::npos;
  compiled.source = std::move(code);
  return compiled;
}

std::expected<std::vector<compiled_short_code>, short_code_error>
compile_short_codes(std::span<const short_code> codes) {
  if (codes.size() > max_short_codes_per_set)
    return std::unexpected(
        fail(short_code_errc::too_many_codes,
             "more than " + std::to_string(max_short_codes_per_set) + " short codes in one set"));
  std::vector<compiled_short_code> compiled;
  compiled.reserve(codes.size());
  std::set<std::string_view> seen;
  for (const auto& code : codes) {
    auto one = compile_short_code(code);
    if (!one)
      return std::unexpected(one.error());
    if (!seen.insert(code.code).second)
      return std::unexpected(
          fail(short_code_errc::duplicate_code, "code: " + quoted(code.code) + " is listed twice"));
    compiled.push_back(std::move(*one));
  }
  return compiled;
}

fit fit_pattern(std::span<const code_symbol> pattern, std::string_view dialled,
                std::string* wildcard_digits) {
  std::string captured;
  std::size_t at = 0;
  // Where N began taking digits: a mismatch after it only means N must take more.
  std::optional<std::size_t> open_end_from;
  const auto mismatch = [&] {
    if (!open_end_from)
      return fit::none;
    const auto rest = dialled.substr(*open_end_from);
    return std::ranges::all_of(rest, is_dialable) ? fit::partial : fit::none;
  };
  for (std::size_t p = 0; p < pattern.size(); ++p) {
    const auto& symbol = pattern[p];
    if (symbol.kind == code_symbol_kind::any_digits) {
      // Only one N per pattern: it takes everything the symbols after it leave over.
      open_end_from = at;
      const std::size_t after = pattern.size() - p - 1;
      if (dialled.size() < at + after)
        return mismatch();
      const std::size_t taken = dialled.size() - at - after;
      const auto middle = dialled.substr(at, taken);
      if (!std::ranges::all_of(middle, is_dialable))
        return fit::none;
      captured += middle;
      at += taken;
      continue;
    }
    if (at == dialled.size())
      return fit::partial;
    const char c = dialled[at];
    if (symbol.kind == code_symbol_kind::one_digit) {
      if (!is_digit(c))
        return mismatch();
      captured += c;
    } else if (c != symbol.literal) {
      return mismatch();
    }
    ++at;
  }
  if (at != dialled.size())
    return fit::none;
  if (wildcard_digits)
    *wildcard_digits = std::move(captured);
  return fit::full;
}

match_rank rank_of(std::span<const code_symbol> pattern) {
  match_rank rank;
  rank.no_open_end = true;
  for (const auto& symbol : pattern) {
    if (symbol.kind == code_symbol_kind::literal)
      ++rank.literals;
    else if (symbol.kind == code_symbol_kind::one_digit)
      ++rank.single_digits;
    else
      rank.no_open_end = false;
  }
  return rank;
}

std::string expand_telephone(std::string_view telephone, std::string_view dialled,
                             std::string_view wildcard_digits) {
  std::string number;
  for (std::size_t i = 0; i < telephone.size(); ++i) {
    if (telephone.substr(i, 4) == "SMDR") {
      i += 3;
    } else if (telephone[i] == 'N') {
      number += wildcard_digits;
    } else if (telephone[i] == '.') {
      number += dialled;
    } else {
      number += telephone[i];
    }
  }
  return number;
}

short_code_match match_short_code(std::span<const compiled_short_code> codes,
                                  std::string_view dialled, dialling mode) {
  const compiled_short_code* best = nullptr;
  match_rank best_rank;
  std::string best_wildcards;
  bool could_grow = false;
  for (const auto& code : codes) {
    std::string wildcards;
    const fit how = fit_pattern(code.pattern, dialled, &wildcards);
    if (how == fit::partial) {
      could_grow = true;
      continue;
    }
    if (how != fit::full)
      continue;
    // A code ending in N also matches every longer number: in overlap dialling it waits.
    const auto rank = rank_of(code.pattern);
    if (!rank.no_open_end)
      could_grow = true;
    if (!best || rank > best_rank) {
      best = &code;
      best_rank = rank;
      best_wildcards = std::move(wildcards);
    }
  }
  if (mode == dialling::overlap && (could_grow || (best && best->waits_for_complete)))
    return {match_status::incomplete, nullptr, {}, {}};
  if (!best)
    return {};
  return {match_status::matched, best,
          expand_telephone(best->source.telephone, dialled, best_wildcards),
          std::move(best_wildcards)};
}

} // namespace ward::telephony
