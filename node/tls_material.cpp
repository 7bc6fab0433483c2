#include "node/tls_material.hpp"

#include "core/net_address.hpp"
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
  return cert.issued_by(issuer);
}

namespace {

/// Anchors for received certificates: what an administrator put in the TCS, and the node's
/// own CA. Not the default content: those are public web CAs, and a certificate any of them
/// issued must not open an administrative service or stand for a phone.
std::shared_ptr<pki::trust_store> received_anchors(const actors::pki_state& pki) {
  auto anchors = std::make_shared<pki::trust_store>();
  for (const auto& entry : pki.record.trust.entries())
    if (!entry.is_default)
      (void)anchors->add(entry.cert);
  if (const auto& ca = pki.record.ca) {
    (void)anchors->add(ca->signing_certificate());
    for (const auto& link : ca->chain())
      (void)anchors->add(link);
  }
  return anchors;
}

bool demands_certificate(pki::check_level level) {
  return level == pki::check_level::high || level == pki::check_level::high_remote;
}

/// Grades a received client chain at `level` (SPEC PKI-8). The *_remote levels match the
/// address the peer connects from against the certificate's IP names.
received_certificate_check grader(pki::check_level level, const actors::pki_state& pki,
                                  const clock& time) {
  auto anchors = received_anchors(pki);
  auto own = std::vector<std::string>{pki.identity.sha256_fingerprint()};
  if (pki.record.ca)
    own.push_back(pki.record.ca->signing_certificate().sha256_fingerprint());
  auto revoked = pki.revoked_serials();
  return [anchors, level, own, revoked,
          &time](const std::vector<pki::certificate>& chain,
                 const std::string& peer_address) -> std::optional<std::string> {
    if (chain.empty())
      return demands_certificate(level)
                 ? std::optional<std::string>("no certificate at check level " +
                                              std::string(pki::to_string(level)))
                 : std::nullopt;
    pki::check_context context{time.now(),
                               pki::certificate_purpose::tls_client,
                               anchors.get(),
                               own,
                               peer_host(peer_address),
                               revoked};
    auto result = pki::check_received_certificate(chain, level, context);
    if (result.ok())
      return std::nullopt;
    return std::string(pki::to_string(result.failure)) + " at check level " +
           std::string(pki::to_string(level)) + ": " + result.detail;
  };
}

} // namespace

/// The node identity as a TLS server presents it, with the CA chain when "offer ID
/// certificate chain" is on (SPEC PKI-6).
pki::tls_server_material identity_material(const security::security_settings& settings,
                                           const actors::pki_state& pki) {
  pki::tls_server_material material;
  material.key_pem = pki.identity_key.to_pem().value_or("");
  material.certificate_pem = pki.identity.to_pem().value_or("");
  const auto& ca = pki.record.ca;
  if (settings.certificates.offer_chain && ca && issued_by(pki.identity, ca->signing_certificate()))
    material.chain_pem = ca->chain_pem();
  return material;
}

std::string peer_host(const std::string& peer_address) {
  auto split = split_host_port(peer_address);
  return split ? std::string(strip_brackets(split->host)) : peer_address;
}

pki::tls_server_material management_material(const security::security_settings& settings,
                                             const actors::pki_state& pki, const clock& time) {
  auto material = identity_material(settings, pki);
  for (const auto& cert : received_anchors(pki)->certificates())
    if (auto pem = cert.to_pem())
      material.trusted_client_ca_pems.push_back(*pem);
  material.client_certificate_check = grader(settings.certificates.management_checks, pki, time);
  return material;
}

pki::tls_server_material telephony_material(const security::security_settings& settings,
                                            const actors::pki_state& pki, const clock& time) {
  auto material = identity_material(settings, pki);
  const auto level = settings.certificates.telephony_checks;
  // Phones and trunks are asked for a certificate whenever the level grades one; only
  // the High levels refuse a peer that has none (SPEC PKI-8, SVC-1).
  if (level != pki::check_level::none) {
    material.request_client_certificate = true;
    for (const auto& cert : received_anchors(pki)->certificates())
      if (auto pem = cert.to_pem())
        material.trusted_client_ca_pems.push_back(*pem);
  }
  material.client_certificate_check = grader(level, pki, time);
  return material;
}

} // namespace ward::node
