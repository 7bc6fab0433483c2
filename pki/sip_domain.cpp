#include "pki/sip_domain.hpp"

#include "pki/openssl_ptr.hpp"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace ward::pki {
namespace {

using general_names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_deleter<GENERAL_NAMES_free>>;

std::string normalized_domain(std::string_view text) {
  std::string domain;
  domain.reserve(text.size());
  for (char c : text)
    domain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!domain.empty() && domain.back() == '.')
    domain.pop_back();
  return domain;
}

std::string_view asn1_text(const ASN1_STRING* value) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
          static_cast<std::size_t>(ASN1_STRING_length(value))};
}

/// The host part of a `sip:` URI that names a domain, not a user: no userinfo, and the
/// port, parameters and headers cut off. Other schemes (`sips:` included) name nothing.
std::optional<std::string> sip_uri_domain(std::string_view uri) {
  constexpr std::string_view scheme = "sip:";
  if (uri.size() <= scheme.size())
    return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(uri[i])) != scheme[i])
      return std::nullopt;
  auto rest = uri.substr(scheme.size());
  if (rest.find('@') != std::string_view::npos)
    return std::nullopt;
  auto end = rest.find_first_of(":;?");
  auto host = rest.substr(0, end);
  if (host.empty())
    return std::nullopt;
  return normalized_domain(host);
}

bool has_alternative_names(X509* cert) {
  return X509_get_ext_by_NID(cert, NID_subject_alt_name, -1) >= 0;
}

} // namespace

std::vector<std::string> sip_domain_identities(const certificate& cert) {
  std::vector<std::string> uri_identities;
  std::vector<std::string> dns_identities;
  X509* native = cert.native();
  if (!native)
    return {};
  if (!has_alternative_names(native)) {
    auto common_name = cert.subject_common_name();
    if (common_name.empty())
      return {};
    return {normalized_domain(common_name)};
  }
  general_names_ptr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(native, NID_subject_alt_name, nullptr, nullptr)));
  if (!names)
    return {};
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_URI) {
      if (auto domain = sip_uri_domain(asn1_text(name->d.uniformResourceIdentifier)))
        uri_identities.push_back(std::move(*domain));
    } else if (name->type == GEN_DNS) {
      dns_identities.push_back(normalized_domain(asn1_text(name->d.dNSName)));
    }
  }
  return uri_identities.empty() ? dns_identities : uri_identities;
}

std::optional<std::string> sip_domain_mismatch(const certificate& cert, std::string_view domain) {
  auto wanted = normalized_domain(domain);
  if (wanted.empty())
    return "no SIP domain to validate against";
  auto identities = sip_domain_identities(cert);
  if (std::ranges::find(identities, wanted) != identities.end())
    return std::nullopt;
  if (identities.empty())
    return "certificate asserts no SIP domain identity";
  std::string listed;
  for (const auto& identity : identities)
    listed += (listed.empty() ? "" : ", ") + identity;
  return "SIP domain " + wanted + " is not among the certificate's identities (" + listed + ")";
}

} // namespace ward::pki
