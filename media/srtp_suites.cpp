#include "media/srtp_suites.hpp"

#include <srtp2/srtp.h>

#include <algorithm>

namespace ward::media {

namespace {

// libsrtp2 has setters for the _80 null-cipher variant only; the _32 ones follow the same
// pattern. The cipher key length stays that of AES-128 with salt because libsrtp2 derives
// the authentication key from the master key through AES-CM whatever the cipher.

void set_null_cipher_hmac_sha1_32(srtp_crypto_policy_t* policy) {
  srtp_crypto_policy_set_null_cipher_hmac_sha1_80(policy);
  policy->auth_tag_len = 4;
}

void set_null_cipher_null_auth(srtp_crypto_policy_t* policy) {
  srtp_crypto_policy_set_null_cipher_hmac_null(policy);
  policy->cipher_key_len = SRTP_AES_ICM_128_KEY_LEN_WSALT;
}

void set_aes_cm_128_hmac_sha1_80(srtp_crypto_policy_t* policy) {
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(policy);
}

void set_null_cipher_hmac_sha1_80(srtp_crypto_policy_t* policy) {
  srtp_crypto_policy_set_null_cipher_hmac_sha1_80(policy);
}

/// Both suites are AES-CM-128 (RFC 4568 section 6.2): the same key and salt, and SRTCP
/// always with the 80-bit tag. They differ only in the SRTP tag and its policies.
constexpr suite_info aes_cm_128_suite(std::string_view name, std::size_t rtp_tag_length,
                                      void (*set_rtp_policy)(srtp_crypto_policy_t*),
                                      void (*set_rtp_policy_unencrypted)(srtp_crypto_policy_t*)) {
  return {
      .name = name,
      .master_key_length = 16,
      .master_salt_length = 14,
      .rtp_tag_length = rtp_tag_length,
      .rtcp_tag_length = 10,
      .set_rtp_policy = set_rtp_policy,
      .set_rtp_policy_unencrypted = set_rtp_policy_unencrypted,
      .set_rtp_policy_unauthenticated = srtp_crypto_policy_set_aes_cm_128_null_auth,
      .set_rtcp_policy = set_aes_cm_128_hmac_sha1_80,
      .set_rtcp_policy_unencrypted = set_null_cipher_hmac_sha1_80,
  };
}

const suite_info suites[] = {
    aes_cm_128_suite("AES_CM_128_HMAC_SHA1_80", 10, set_aes_cm_128_hmac_sha1_80,
                     set_null_cipher_hmac_sha1_80),
    aes_cm_128_suite("AES_CM_128_HMAC_SHA1_32", 4, srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
                     set_null_cipher_hmac_sha1_32),
};

} // namespace

std::span<const suite_info> all_suites() {
  return suites;
}

const suite_info* find_suite(std::string_view name) {
  auto found = std::ranges::find(suites, name, &suite_info::name);
  return found == std::ranges::end(suites) ? nullptr : &*found;
}

void apply_policy(const suite_info& suite, const srtp_options& options, srtp_crypto_policy_t& rtp,
                  srtp_crypto_policy_t& rtcp) {
  if (options.rtp_encryption && options.rtp_authentication)
    suite.set_rtp_policy(&rtp);
  else if (options.rtp_authentication)
    suite.set_rtp_policy_unencrypted(&rtp);
  else if (options.rtp_encryption)
    suite.set_rtp_policy_unauthenticated(&rtp);
  else
    set_null_cipher_null_auth(&rtp);
  if (options.rtcp_encryption)
    suite.set_rtcp_policy(&rtcp);
  else
    suite.set_rtcp_policy_unencrypted(&rtcp);
}

} // namespace ward::media
