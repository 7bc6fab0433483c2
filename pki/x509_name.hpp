#pragma once

// Reading the distinguished names of certificates and requests.

#include "pki/error.hpp"
#include "pki/openssl_output.hpp"

#include <string>

namespace ward::pki {

/// `name` in RFC 2253 form; empty when OpenSSL cannot print it.
inline std::string name_to_string(const X509_NAME* name) {
  return write_to_string(
             [name](BIO* bio) { return X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0; })
      .value_or(std::string());
}

/// The first common name in `name`; empty when there is none or it cannot be converted
/// (the conversion's error is drained so that it does not blame a later call).
inline std::string common_name_of(const X509_NAME* name) {
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0)
    return {};
  auto text = utf8_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (!text) {
    drain_openssl_errors();
    return {};
  }
  return *text;
}

} // namespace ward::pki
