#pragma once

#include "core/typed_error.hpp"
#include "pki/certificate.hpp"
#include "pki/private_key.hpp"

#include <expected>
#include <string>
#include <string_view>

namespace ward::pki {

/// What an enrolling node received from the primary's CA (SPEC PKI-5), as PEM text.
struct enrolment_reply {
  /// The identity the CA issued for the node's CSR.
  std::string_view certificate_pem;
  /// The CA that issued it.
  std::string_view ca_pem;
  /// The identity of the line server the node enrolled over.
  std::string_view server_identity_pem;
};

/// The certificates of an enrolment reply that passed every check.
struct enrolled_identity {
  certificate identity;
  certificate ca;
  certificate server_identity;
};

/// Why an enrolment reply is refused; each reason is a distinct attack or fault.
enum class enrolment_reply_errc {
  /// One of the three certificates cannot be read.
  unreadable_certificate,
  /// The issued certificate is for another key than the node's own.
  wrong_key,
  /// The CA certificate cannot serve as a trust anchor.
  untrusted_ca,
  /// The issued certificate does not pass the received-certificate check against the CA.
  not_issued_by_ca,
};

std::string_view to_string(enrolment_reply_errc code);

/// A refused reply; `detail` is the refusal as the enrolment alarm and reply state it.
using enrolment_reply_error = typed_error<enrolment_reply_errc>;

/// Checks an enrolment reply before the node swaps to the identity it carries: all three
/// certificates readable, the issued one for `node_key` and valid at `now` (Medium check,
/// client purpose) under the CA it came with.
std::expected<enrolled_identity, enrolment_reply_error>
check_enrolment_reply(const enrolment_reply& reply, const private_key& node_key, time_point now);

} // namespace ward::pki
