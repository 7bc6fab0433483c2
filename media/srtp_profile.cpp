#include "media/srtp_profile.hpp"

#include "core/enum_names.hpp"

#include <array>
#include <utility>

namespace ward::media {
namespace {

constexpr auto errc_names =
    name_table(enum_name{srtp_profile_errc::empty, "empty"},
               enum_name{srtp_profile_errc::not_key_value, "not_key_value"},
               enum_name{srtp_profile_errc::unknown_key, "unknown_key"},
               enum_name{srtp_profile_errc::repeated_key, "repeated_key"},
               enum_name{srtp_profile_errc::bad_value, "bad_value"},
               enum_name{srtp_profile_errc::protects_nothing, "protects_nothing"});

std::unexpected<srtp_profile_error> fail(srtp_profile_errc code, std::string detail) {
  return std::unexpected(srtp_profile_error{code, std::move(detail)});
}

std::string_view on_off(bool value) {
  return value ? "on" : "off";
}

std::string_view authentication_text(rtp_authentication authentication) {
  switch (authentication) {
    case rtp_authentication::hmac_sha1_80:
      return "80";
    case rtp_authentication::hmac_sha1_32:
      return "32";
    case rtp_authentication::off:
      return "off";
  }
  return "80";
}

std::optional<bool> parse_on_off(std::string_view value) {
  if (value == "on")
    return true;
  if (value == "off")
    return false;
  return std::nullopt;
}

} // namespace

std::string_view to_string(srtp_profile_errc code) {
  return name_of(errc_names, code);
}

std::string to_string(const srtp_profile& profile) {
  return "rtp_encryption=" + std::string(on_off(profile.rtp_encryption)) +
         ",rtp_authentication=" + std::string(authentication_text(profile.authentication)) +
         ",rtcp_encryption=" + std::string(on_off(profile.rtcp_encryption));
}

std::expected<srtp_profile, srtp_profile_error> parse_srtp_profile(std::string_view text,
                                                                   const srtp_profile& base) {
  srtp_profile profile = base;
  std::array<bool, 3> seen{};
  std::size_t start = 0;
  if (text.empty())
    return fail(srtp_profile_errc::empty,
                "name at least one of rtp_encryption, rtp_authentication, rtcp_encryption");
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    auto equals = item.find('=');
    if (equals == std::string_view::npos)
      return fail(srtp_profile_errc::not_key_value, "'" + std::string(item) + "' is not key=value");
    auto key = item.substr(0, equals);
    auto value = item.substr(equals + 1);
    std::size_t slot = key == "rtp_encryption"       ? 0
                       : key == "rtp_authentication" ? 1
                       : key == "rtcp_encryption"    ? 2
                                                     : 3;
    if (slot == 3)
      return fail(srtp_profile_errc::unknown_key,
                  "unknown key '" + std::string(key) +
                      "' (rtp_encryption, rtp_authentication, rtcp_encryption)");
    if (std::exchange(seen[slot], true))
      return fail(srtp_profile_errc::repeated_key, "names " + std::string(key) + " twice");
    if (slot == 1) {
      if (value == "80")
        profile.authentication = rtp_authentication::hmac_sha1_80;
      else if (value == "32")
        profile.authentication = rtp_authentication::hmac_sha1_32;
      else if (value == "off")
        profile.authentication = rtp_authentication::off;
      else
        return fail(srtp_profile_errc::bad_value,
                    "rtp_authentication must be 80, 32 or off, got '" + std::string(value) + "'");
    } else {
      auto flag = parse_on_off(value);
      if (!flag)
        return fail(srtp_profile_errc::bad_value,
                    std::string(key) + " must be on or off, got '" + std::string(value) + "'");
      (slot == 0 ? profile.rtp_encryption : profile.rtcp_encryption) = *flag;
    }
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  if (!profile.rtp_encryption && profile.authentication == rtp_authentication::off)
    return fail(srtp_profile_errc::protects_nothing,
                "RTP encryption and authentication cannot both be off: SRTP would protect "
                "nothing");
  return profile;
}

const suite_info& suite_of(const srtp_profile& profile) {
  auto name = profile.authentication == rtp_authentication::hmac_sha1_32
                  ? std::string_view("AES_CM_128_HMAC_SHA1_32")
                  : std::string_view("AES_CM_128_HMAC_SHA1_80");
  return *find_suite(name);
}

std::vector<crypto_attribute> make_profile_offer(const srtp_profile& profile,
                                                 const random_source& random) {
  srtp_options options{.rtp_encryption = profile.rtp_encryption,
                       .rtp_authentication = profile.authentication != rtp_authentication::off,
                       .rtcp_encryption = profile.rtcp_encryption};
  auto other = options;
  other.rtcp_encryption = !options.rtcp_encryption;
  const auto& suite = suite_of(profile);
  return {make_crypto(1, suite, options, random), make_crypto(2, suite, other, random)};
}

bool satisfies(const crypto_attribute& attribute, const srtp_profile& profile) {
  if (attribute.suite == nullptr)
    return false;
  const auto& options = attribute.options;
  if (profile.rtp_encryption && !options.rtp_encryption)
    return false;
  if (profile.authentication != rtp_authentication::off && !options.rtp_authentication)
    return false;
  if (profile.authentication == rtp_authentication::hmac_sha1_80 &&
      attribute.suite->rtp_tag_length < 10)
    return false;
  return !profile.rtcp_encryption || options.rtcp_encryption;
}

} // namespace ward::media
