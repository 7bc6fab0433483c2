#include "media/sdes.hpp"

#include "core/enum_names.hpp"

#include <algorithm>
#include <charconv>

namespace ward::media {

namespace {

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// SRTP's packet index is 48 bits (RFC 3711 section 3.2.1), so no key outlives 2^48 packets.
constexpr std::uint64_t max_lifetime = std::uint64_t{1} << 48;

constexpr std::size_t max_mki_length = 128;

/// WSH must be at least the replay window RFC 3711 section 3.3.2 requires.
constexpr std::uint32_t min_window_size_hint = 64;

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int base64_value(char c) {
  auto at = base64_alphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

/// Decodes strict base64 (padding only at the end, no whitespace) into `out`; nullopt on a
/// bad character, bad padding or more bytes than `out` holds.
std::optional<std::size_t> base64_decode(std::string_view text, std::span<std::byte> out) {
  if (text.empty() || text.size() % 4 != 0)
    return std::nullopt;
  std::size_t padding = 0;
  if (text.ends_with("=="))
    padding = 2;
  else if (text.ends_with('='))
    padding = 1;
  std::size_t decoded = text.size() / 4 * 3 - padding;
  if (decoded > out.size())
    return std::nullopt;
  std::size_t written = 0;
  for (std::size_t at = 0; at < text.size(); at += 4) {
    std::uint32_t group = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      char c = text[at + i];
      int value = 0;
      if (c == '=') {
        if (at + 4 != text.size() || i < 4 - padding)
          return std::nullopt;
      } else {
        value = base64_value(c);
        if (value < 0)
          return std::nullopt;
      }
      group = (group << 6) | static_cast<std::uint32_t>(value);
    }
    for (int shift = 16; shift >= 0 && written < decoded; shift -= 8)
      out[written++] = static_cast<std::byte>((group >> shift) & 0xff);
  }
  return decoded;
}

template <class Number> std::optional<Number> parse_decimal(std::string_view text) {
  if (text.empty() || !std::ranges::all_of(text, is_digit))
    return std::nullopt;
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

/// Splits off the next field separated by spaces or tabs, advancing `rest` past it.
std::string_view next_field(std::string_view& rest) {
  while (!rest.empty() && is_space(rest.front()))
    rest.remove_prefix(1);
  std::size_t end = 0;
  while (end < rest.size() && !is_space(rest[end]))
    ++end;
  auto field = rest.substr(0, end);
  rest.remove_prefix(end);
  return field;
}

std::optional<std::uint64_t> parse_lifetime(std::string_view text) {
  std::optional<std::uint64_t> value;
  if (text.starts_with("2^")) {
    auto exponent = parse_decimal<std::uint32_t>(text.substr(2));
    if (exponent && *exponent <= 48)
      value = std::uint64_t{1} << *exponent;
  } else {
    value = parse_decimal<std::uint64_t>(text);
  }
  if (!value || *value == 0 || *value > max_lifetime)
    return std::nullopt;
  return value;
}

std::optional<mki_parameter> parse_mki(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  auto value = parse_decimal<std::uint64_t>(text.substr(0, colon));
  auto length = parse_decimal<std::uint32_t>(text.substr(colon + 1));
  if (!value || !length || *length == 0 || *length > max_mki_length)
    return std::nullopt;
  if (*length < 8 && *value >= (std::uint64_t{1} << (8 * *length)))
    return std::nullopt;
  return mki_parameter{.value = *value, .length = *length};
}

std::expected<void, sdes_errc> parse_key_parameters(std::string_view text,
                                                    crypto_attribute& attribute) {
  // Several keys (";"-separated) only make sense with MKIs, which Ward's sessions lack.
  if (text.find(';') != std::string_view::npos)
    return std::unexpected(sdes_errc::unsupported_parameter);
  constexpr std::string_view method = "inline:";
  if (!text.starts_with(method))
    return std::unexpected(sdes_errc::bad_key_method);
  text.remove_prefix(method.size());

  std::array<std::string_view, 3> parts{};
  std::size_t count = 0;
  while (true) {
    if (count == parts.size())
      return std::unexpected(sdes_errc::bad_syntax);
    auto bar = text.find('|');
    parts[count++] = text.substr(0, bar);
    if (bar == std::string_view::npos)
      break;
    text.remove_prefix(bar + 1);
  }

  std::array<std::byte, max_key_and_salt_length + 3> decoded{};
  auto length = base64_decode(parts[0], decoded);
  if (!length)
    return std::unexpected(parts[0].size() > 4 * ((decoded.size() + 2) / 3)
                               ? sdes_errc::bad_key_length
                               : sdes_errc::bad_base64);
  if (*length != attribute.suite->key_and_salt_length())
    return std::unexpected(sdes_errc::bad_key_length);
  std::copy_n(decoded.begin(), *length, attribute.key_and_salt.begin());

  // After the key: an optional lifetime, then an optional MKI, told apart by the colon.
  std::size_t at = 1;
  if (at < count && parts[at].find(':') == std::string_view::npos) {
    auto lifetime = parse_lifetime(parts[at]);
    if (!lifetime)
      return std::unexpected(sdes_errc::bad_lifetime);
    attribute.lifetime = lifetime;
    ++at;
  }
  if (at < count) {
    auto mki = parse_mki(parts[at]);
    if (!mki)
      return std::unexpected(sdes_errc::bad_mki);
    attribute.mki = mki;
    ++at;
  }
  if (at != count)
    return std::unexpected(sdes_errc::bad_syntax);
  return {};
}

std::expected<void, sdes_errc>
parse_session_parameter(std::string_view text, crypto_attribute& attribute, std::uint32_t& seen) {
  enum : std::uint32_t {
    seen_unencrypted_srtp = 1,
    seen_unencrypted_srtcp = 2,
    seen_unauthenticated_srtp = 4,
    seen_kdr = 8,
    seen_wsh = 16,
    seen_fec_order = 32,
  };
  auto once = [&](std::uint32_t flag) {
    bool first = (seen & flag) == 0;
    seen |= flag;
    return first;
  };
  if (text == "UNENCRYPTED_SRTP") {
    if (!once(seen_unencrypted_srtp))
      return std::unexpected(sdes_errc::bad_session_parameter);
    attribute.options.rtp_encryption = false;
  } else if (text == "UNENCRYPTED_SRTCP") {
    if (!once(seen_unencrypted_srtcp))
      return std::unexpected(sdes_errc::bad_session_parameter);
    attribute.options.rtcp_encryption = false;
  } else if (text == "UNAUTHENTICATED_SRTP") {
    if (!once(seen_unauthenticated_srtp))
      return std::unexpected(sdes_errc::bad_session_parameter);
    attribute.options.rtp_authentication = false;
  } else if (text.starts_with("KDR=")) {
    auto rate = parse_decimal<std::uint32_t>(text.substr(4));
    if (!rate || *rate > 24 || !once(seen_kdr))
      return std::unexpected(sdes_errc::bad_session_parameter);
    // libsrtp2 derives session keys once; a key derivation rate would need rekeying.
    if (*rate != 0)
      return std::unexpected(sdes_errc::unsupported_parameter);
  } else if (text.starts_with("WSH=")) {
    auto window = parse_decimal<std::uint32_t>(text.substr(4));
    if (!window || *window < min_window_size_hint || !once(seen_wsh))
      return std::unexpected(sdes_errc::bad_session_parameter);
    attribute.window_size_hint = window;
  } else if (text.starts_with("FEC_ORDER=")) {
    auto order = text.substr(10);
    if ((order != "FEC_SRTP" && order != "SRTP_FEC") || !once(seen_fec_order))
      return std::unexpected(sdes_errc::bad_session_parameter);
  } else {
    // FEC_KEY and parameters defined after RFC 4568: taking a line whose parameters are not
    // understood could leave the two ends protecting differently.
    return std::unexpected(sdes_errc::unsupported_parameter);
  }
  return {};
}

} // namespace

constexpr auto sdes_errc_names = name_table(
    enum_name{sdes_errc::unknown_suite, "unknown_suite"},
    enum_name{sdes_errc::unsupported_parameter, "unsupported_parameter"},
    enum_name{sdes_errc::too_long, "too_long"}, enum_name{sdes_errc::bad_syntax, "bad_syntax"},
    enum_name{sdes_errc::bad_tag, "bad_tag"},
    enum_name{sdes_errc::bad_key_method, "bad_key_method"},
    enum_name{sdes_errc::bad_base64, "bad_base64"},
    enum_name{sdes_errc::bad_key_length, "bad_key_length"},
    enum_name{sdes_errc::bad_lifetime, "bad_lifetime"}, enum_name{sdes_errc::bad_mki, "bad_mki"},
    enum_name{sdes_errc::bad_session_parameter, "bad_session_parameter"});

std::string_view to_string(sdes_errc code) {
  return name_of(sdes_errc_names, code, "bad_syntax");
}

bool is_unsupported(sdes_errc code) {
  return code == sdes_errc::unknown_suite || code == sdes_errc::unsupported_parameter;
}

std::expected<crypto_attribute, sdes_error> parse_crypto(std::string_view line) {
  auto fail = [](sdes_errc code) { return std::unexpected(sdes_error{code}); };
  if (line.size() > max_crypto_line_length)
    return fail(sdes_errc::too_long);
  while (line.ends_with('\n') || line.ends_with('\r'))
    line.remove_suffix(1);
  if (line.starts_with("a="))
    line.remove_prefix(2);
  if (line.starts_with("crypto:"))
    line.remove_prefix(7);

  crypto_attribute attribute;
  auto tag_text = next_field(line);
  if (tag_text.empty())
    return fail(sdes_errc::bad_syntax);
  auto tag = tag_text.size() <= 9 ? parse_decimal<std::uint32_t>(tag_text) : std::nullopt;
  if (!tag)
    return fail(sdes_errc::bad_tag);
  attribute.tag = *tag;

  auto suite_name = next_field(line);
  if (suite_name.empty())
    return fail(sdes_errc::bad_syntax);
  if (!std::ranges::all_of(suite_name, [](char c) {
        return is_digit(c) || c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
      }))
    return fail(sdes_errc::bad_syntax);
  attribute.suite = find_suite(suite_name);
  // The key format belongs to the suite, so nothing after an unknown suite can be judged.
  if (attribute.suite == nullptr)
    return fail(sdes_errc::unknown_suite);

  auto key_parameters = next_field(line);
  if (key_parameters.empty())
    return fail(sdes_errc::bad_syntax);
  if (auto parsed = parse_key_parameters(key_parameters, attribute); !parsed)
    return fail(parsed.error());

  // Each known parameter may appear once and unknown ones end the parse, so the loop is
  // bounded by the parameters RFC 4568 defines.
  std::uint32_t seen = 0;
  for (auto parameter = next_field(line); !parameter.empty(); parameter = next_field(line)) {
    if (auto parsed = parse_session_parameter(parameter, attribute, seen); !parsed)
      return fail(parsed.error());
  }
  return attribute;
}

std::string base64_encode(std::span<const std::byte> data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (std::size_t at = 0; at < data.size(); at += 3) {
    std::size_t take = std::min<std::size_t>(3, data.size() - at);
    std::uint32_t group = 0;
    for (std::size_t i = 0; i < 3; ++i)
      group = (group << 8) | (i < take ? std::to_integer<std::uint32_t>(data[at + i]) : 0);
    for (std::size_t i = 0; i < 4; ++i)
      out.push_back(i <= take ? base64_alphabet[(group >> (18 - 6 * i)) & 0x3f] : '=');
  }
  return out;
}

std::string format_crypto(const crypto_attribute& attribute) {
  std::string out = std::to_string(attribute.tag);
  out += ' ';
  out += attribute.suite->name;
  out += " inline:";
  out += base64_encode(attribute.key());
  if (attribute.lifetime) {
    out += '|';
    out += std::to_string(*attribute.lifetime);
  }
  if (attribute.mki) {
    out += '|';
    out += std::to_string(attribute.mki->value);
    out += ':';
    out += std::to_string(attribute.mki->length);
  }
  if (!attribute.options.rtp_encryption)
    out += " UNENCRYPTED_SRTP";
  if (!attribute.options.rtcp_encryption)
    out += " UNENCRYPTED_SRTCP";
  if (!attribute.options.rtp_authentication)
    out += " UNAUTHENTICATED_SRTP";
  if (attribute.window_size_hint) {
    out += " WSH=";
    out += std::to_string(*attribute.window_size_hint);
  }
  return out;
}

crypto_attribute make_crypto(std::uint32_t tag, const suite_info& suite,
                             const srtp_options& options, const random_source& random) {
  crypto_attribute attribute;
  attribute.tag = tag;
  attribute.suite = &suite;
  attribute.options = options;
  random(std::span(attribute.key_and_salt).first(suite.key_and_salt_length()));
  return attribute;
}

} // namespace ward::media
