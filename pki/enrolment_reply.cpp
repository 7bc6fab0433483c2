#include "pki/enrolment_reply.hpp"

#include "core/enum_names.hpp"
#include "pki/certificate_check.hpp"
#include "pki/trust_store.hpp"

namespace ward::pki {

constexpr auto enrolment_reply_errc_names =
    name_table(enum_name{enrolment_reply_errc::unreadable_certificate, "unreadable_certificate"},
               enum_name{enrolment_reply_errc::wrong_key, "wrong_key"},
               enum_name{enrolment_reply_errc::untrusted_ca, "untrusted_ca"},
               enum_name{enrolment_reply_errc::not_issued_by_ca, "not_issued_by_ca"});

std::string_view to_string(enrolment_reply_errc code) {
  return name_of(enrolment_reply_errc_names, code);
}

std::expected<enrolled_identity, enrolment_reply_error>
check_enrolment_reply(const enrolment_reply& reply, const private_key& node_key, time_point now) {
  auto refuse = [](enrolment_reply_errc code, std::string detail) {
    return std::unexpected(enrolment_reply_error{code, std::move(detail)});
  };
  auto cert = certificate::from_pem(reply.certificate_pem);
  auto ca = certificate::from_pem(reply.ca_pem);
  auto server = certificate::from_pem(reply.server_identity_pem);
  if (!cert || !ca || !server)
    return refuse(enrolment_reply_errc::unreadable_certificate,
                  "the enrolment reply holds an unreadable certificate");
  if (!cert->matches(node_key))
    return refuse(enrolment_reply_errc::wrong_key,
                  "the issued certificate is not for this node's key");
  trust_store issuer;
  if (!issuer.add(*ca))
    return refuse(enrolment_reply_errc::untrusted_ca, "the CA certificate cannot be trusted");
  check_context context{now, certificate_purpose::tls_client, &issuer, {}, {}, {}};
  if (auto graded = check_received_certificate({*cert}, check_level::medium, context); !graded.ok())
    return refuse(enrolment_reply_errc::not_issued_by_ca,
                  "the issued certificate does not check against its CA: " + graded.detail);
  return enrolled_identity{std::move(*cert), std::move(*ca), std::move(*server)};
}

} // namespace ward::pki
