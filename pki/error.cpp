#include "pki/error.hpp"

#include <openssl/err.h>

namespace ward::pki {

std::string drain_openssl_errors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty())
      text += "; ";
    text += buffer;
  }
  return text;
}

error openssl_failure(errc code, std::string_view what) {
  std::string detail(what);
  if (auto queued = drain_openssl_errors(); !queued.empty())
    detail += " (" + queued + ")";
  return {code, std::move(detail)};
}

} // namespace ward::pki
