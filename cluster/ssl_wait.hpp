#pragma once

// The poll(2) events a non-blocking OpenSSL call asks for, shared by the TLS pump and the
// syslog sender, which both drive such calls.

#include <openssl/ssl.h>
#include <poll.h>

namespace ward::cluster {

/// POLLIN for SSL_ERROR_WANT_READ, POLLOUT for SSL_ERROR_WANT_WRITE; 0 for every other
/// SSL_get_error answer, which waiting cannot cure.
inline short poll_events_for(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_WANT_READ:
      return POLLIN;
    case SSL_ERROR_WANT_WRITE:
      return POLLOUT;
    default:
      return 0;
  }
}

} // namespace ward::cluster
