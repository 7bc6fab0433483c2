#pragma once

#include "pki/certificate.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::pki {

/// The SIP domain identities a certificate asserts, by the rules of RFC 5922 section 7.1:
/// the host parts of `sip:` URI SAN entries without a user part; the DNS SAN entries only
/// when there is no such URI; the subject CN only when the certificate has no SAN at all.
/// `sips:` URIs and URIs with a user part are never identities. Lower-cased, without a
/// trailing dot.
std::vector<std::string> sip_domain_identities(const certificate& cert);

/// Compares `domain` against the certificate's SIP domain identities (RFC 5922 section
/// 7.2): case-insensitive exact match, never a wildcard. Returns what failed, or nothing
/// when one identity is the domain.
std::optional<std::string> sip_domain_mismatch(const certificate& cert, std::string_view domain);

} // namespace ward::pki
