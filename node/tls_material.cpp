#include "node/tls_material.hpp"

#include "pki/certificate_check.hpp"

#include <openssl/x509v3.h>

namespace ward::node {

bool names_match(const pki::certificate& cert, const std::string& hostname,
                 const std::vector<std::string>& addresses) {
  if (X509_check_host(cert.native(), hostname.c_str(), hostname.size(), 0, nullptr) != 1)
    return false;
  for (const auto& address : addresses)
    if (X509_check_ip_asc(cert.native(), address.c_str(), 0) != 1)
      return false;
  return true;
}

bool issued_by(const pki::certificate& cert, const pki::certificate& issuer) {
  EVP_PKEY* key = X509_get0_pubkey(issuer.native());
  return key && X509_check_issued(issuer.native(), cert.native()) == X509_V_OK &&
         X509_verify(cert.native(), key) == 1;
}

pki::tls_server_material management_material(const security::security_settings& settings,
                                             const actors::pki_state& pki, const clock& time) {
  pki::tls_server_material material;
  material.key_pem = pki.identity_key.to_pem().value_or("");
  material.certificate_pem = pki.identity.to_pem().value_or("");
  const auto& ca = pki.record.ca;
  if (settings.certificates.offer_chain && ca && issued_by(pki.identity, ca->signing_certificate()))
    material.chain_pem = ca->chain_pem();

  // Anchors for client certificates: what an administrator put in the TCS, and the node's
  // own CA. Not the default content: those are public web CAs, and a certificate any of
  // them issued must not open an administrative service.
  auto anchors = std::make_shared<pki::trust_store>();
  for (const auto& entry : pki.record.trust.entries())
    if (!entry.is_default)
      (void)anchors->add(entry.cert);
  if (ca) {
    (void)anchors->add(ca->signing_certificate());
    for (const auto& link : ca->chain())
      (void)anchors->add(link);
  }
  for (const auto& cert : anchors->certificates())
    if (auto pem = cert.to_pem())
      material.trusted_client_ca_pems.push_back(*pem);

  auto level = settings.certificates.management_checks;
  auto own = std::vector<std::string>{pki.identity.sha256_fingerprint()};
  if (ca)
    own.push_back(ca->signing_certificate().sha256_fingerprint());
  auto revoked = pki.revoked_serials();
  material.client_certificate_check =
      [anchors, level, own, revoked,
       &time](const std::vector<pki::certificate>& chain) -> std::optional<std::string> {
    pki::check_context context{
        time.now(), pki::certificate_purpose::tls_client, anchors.get(), own, "", revoked};
    auto result = pki::check_received_certificate(chain, level, context);
    if (result.ok())
      return std::nullopt;
    return std::string(pki::to_string(result.failure)) + " at check level " +
           std::string(pki::to_string(level)) + ": " + result.detail;
  };
  return material;
}

} // namespace ward::node
