#include "security/pki_record.hpp"

#include "security/json_record.hpp"

#include <nlohmann/json.hpp>

namespace ward::security {
namespace {

using json = nlohmann::json;

std::int64_t to_unix(pki::time_point when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

pki::time_point from_unix(std::int64_t seconds) {
  return pki::time_point(std::chrono::seconds(seconds));
}

/// The certificate state in a format-1 document; nlohmann throws on a missing or
/// mistyped field, which decode_json_record reports.
std::expected<pki_record, error> pki_from_json(const json& document) {
  pki_record record;
  auto trust = pki::trust_store::deserialize(document.at("trust").get<std::string>());
  if (!trust)
    return std::unexpected(
        error{errc::damaged_record, "damaged trusted certificate store: " + trust.error().detail});
  record.trust = std::move(*trust);
  if (document.contains("ca")) {
    const auto& ca = document.at("ca");
    auto loaded = pki::certificate_authority::load(
        ca.at("certificate").get<std::string>(), ca.at("key").get<std::string>(),
        ca.at("chain").get<std::string>(), ca.at("last_serial").get<std::string>());
    if (!loaded)
      return std::unexpected(
          error{errc::damaged_record, "damaged certificate authority: " + loaded.error().detail});
    record.ca = std::move(*loaded);
  }
  for (const auto& entry : document.at("issued")) {
    auto purpose = entry.at("purpose").get<std::string>() == "device_identity"
                       ? pki::issued_purpose::device_identity
                       : pki::issued_purpose::node_identity;
    record.issued.push_back({entry.at("serial").get<std::string>(),
                             entry.at("subject").get<std::string>(),
                             from_unix(entry.at("not_before").get<std::int64_t>()),
                             from_unix(entry.at("not_after").get<std::int64_t>()), purpose});
  }
  for (const auto& [serial, when] : document.at("revoked").items())
    record.revoked[serial] = from_unix(when.get<std::int64_t>());
  // Absent in records written before Create New kept the old CA.
  if (document.contains("retiring_cas"))
    for (const auto& pem : document.at("retiring_cas")) {
      auto cert = pki::certificate::from_pem(pem.get<std::string>());
      if (!cert)
        return std::unexpected(
            error{errc::damaged_record, "damaged retiring CA: " + cert.error().detail});
      record.retiring_cas.push_back(std::move(*cert));
    }
  return record;
}

} // namespace

std::expected<std::string, error> encode_pki(const pki_record& record) {
  json document{{"format", 1}, {"trust", record.trust.serialize()}};
  if (record.ca) {
    auto certificate = record.ca->signing_certificate().to_pem();
    auto key = record.ca->key_pem();
    if (!certificate || !key)
      return std::unexpected(error{errc::encoding_failed, "cannot encode the CA"});
    std::string chain;
    for (const auto& link : record.ca->chain())
      chain += link.to_pem().value_or("");
    document["ca"] = {{"certificate", *certificate},
                      {"key", *key},
                      {"chain", chain},
                      {"last_serial", record.ca->last_serial_hex()}};
  }
  json issued = json::array();
  for (const auto& entry : record.issued)
    issued.push_back({{"serial", entry.serial_hex},
                      {"subject", entry.subject},
                      {"not_before", to_unix(entry.not_before)},
                      {"not_after", to_unix(entry.not_after)},
                      {"purpose", pki::to_string(entry.purpose)}});
  document["issued"] = issued;
  json revoked = json::object();
  for (const auto& [serial, when] : record.revoked)
    revoked[serial] = to_unix(when);
  document["revoked"] = revoked;
  json retiring = json::array();
  for (const auto& cert : record.retiring_cas) {
    auto pem = cert.to_pem();
    if (!pem)
      return std::unexpected(error{errc::encoding_failed, "cannot encode a retiring CA"});
    retiring.push_back(*pem);
  }
  document["retiring_cas"] = retiring;
  return document.dump();
}

std::expected<pki_record, error> decode_pki(std::string_view text) {
  return decode_json_record(text, "unknown certificate state format", "damaged certificate state",
                            pki_from_json);
}

} // namespace ward::security
