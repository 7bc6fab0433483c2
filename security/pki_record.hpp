#pragma once

#include "pki/certificate_authority.hpp"
#include "pki/trust_store.hpp"
#include "security/error.hpp"

#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ward::security {

/// The certificate state kept in the security settings store (SPEC PKI-1 … PKI-12): the CA
/// (on a node hosting it), what it issued and revoked, and the Trusted Certificate Store.
struct pki_record {
  std::optional<pki::certificate_authority> ca;
  std::vector<pki::issued_certificate> issued;
  /// Revoked serials (upper-case hex) and when they were revoked.
  std::map<std::string, pki::time_point> revoked;
  pki::trust_store trust = pki::trust_store::with_defaults();
  /// CAs replaced by Create New or an import whose node identities are still being
  /// reissued (SPEC PKI-4): trusted on lines only, and only until every enrolled node holds
  /// an identity of the current CA.
  std::vector<pki::certificate> retiring_cas;
};

std::expected<std::string, error> encode_pki(const pki_record& record);
std::expected<pki_record, error> decode_pki(std::string_view text);

} // namespace ward::security
