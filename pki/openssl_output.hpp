#pragma once

// Copies what OpenSSL writes or allocates (memory BIOs, i2d buffers, UTF-8 conversions)
// into std::string, so that the BIO and OPENSSL_free handling is written once.

#include "pki/openssl_ptr.hpp"

#include <openssl/crypto.h>

#include <optional>
#include <string>

namespace ward::pki {

/// What `write` (called with a fresh memory BIO, true on success) wrote; nullopt when the
/// BIO cannot be made or `write` fails.
template <class Write> std::optional<std::string> write_to_string(Write write) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || !write(bio.get()))
    return std::nullopt;
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

/// The DER encoding `Encode` (an i2d_* function) makes of `object`; nullopt when it fails.
template <auto Encode, class T> std::optional<std::string> der_of(const T* object) {
  unsigned char* der = nullptr;
  int size = Encode(object, &der);
  if (size <= 0)
    return std::nullopt;
  std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return bytes;
}

/// `value` as UTF-8; nullopt when OpenSSL cannot convert it.
inline std::optional<std::string> utf8_of(const ASN1_STRING* value) {
  unsigned char* utf8 = nullptr;
  int size = ASN1_STRING_to_UTF8(&utf8, value);
  if (size < 0)
    return std::nullopt;
  std::string text(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(size));
  OPENSSL_free(utf8);
  return text;
}

} // namespace ward::pki
