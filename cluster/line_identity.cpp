#include "cluster/line_identity.hpp"

#include "pki/trust_store.hpp"

namespace ward::cluster {

std::string expected_server_name(const line_server_expectation& expected) {
  if (auto pinned = expected.pins.find(expected.target); pinned != expected.pins.end())
    if (auto cert = pki::certificate::from_pem(pinned->second))
      if (auto name = cert->subject_common_name(); !name.empty())
        return name;
  return expected.dialled_host;
}

pki::check_result check_line_server(const std::vector<pki::certificate>& chain,
                                    const line_server_expectation& expected) {
  pki::trust_store trust;
  for (const auto& pem : expected.anchors_pem)
    if (auto anchor = pki::certificate::from_pem(pem))
      (void)trust.add(*anchor);
  auto level = pki::check_level::medium_remote;
  if (expected.security == line_security::high) {
    // Pinning against the target's identity alone: with every pin trusted, any enrolled
    // node could stand in for any other.
    if (auto pinned = expected.pins.find(expected.target); pinned != expected.pins.end())
      if (auto cert = pki::certificate::from_pem(pinned->second)) {
        (void)trust.add(*cert);
        level = pki::check_level::high_remote;
      }
  }
  std::vector<std::string> own;
  if (auto mine = pki::certificate::from_pem(expected.own_certificate_pem))
    own.push_back(mine->sha256_fingerprint());
  pki::check_context context{
      expected.now,   pki::certificate_purpose::tls_server, &trust,
      std::move(own), expected_server_name(expected),       expected.revoked_serials};
  return pki::check_received_certificate(chain, level, context);
}

} // namespace ward::cluster
