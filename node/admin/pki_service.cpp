#include "node/admin/convert.hpp"
#include "node/admin/services.hpp"

#include "admin.grpc.pb.h"
#include "pki/bundle.hpp"
#include "security/settings_codec.hpp"

#include <nlohmann/json.hpp>

namespace ward::node::admin_api {
namespace {

/// ExportCaP12: a security write that changes nothing but is audited, for it hands out the
/// CA's key.
constexpr rpc_rule ca_key_export{security_write.service, security_write.required,
                                 actors::transaction_writes::nothing, true};

security_error no_ca() {
  return {security_errc::failed_precondition, "ca",
          "this node hosts no certificate authority (only the primary does)"};
}

/// Issues this node a new identity for its own key: from its CA where it has one, else
/// self-signed (SPEC PKI-2, PKI-11).
security::security_result<void> reissue_identity(security_context& c) {
  auto& state = c.pki;
  if (state.record.ca) {
    auto issued = state.record.ca->issue_node_identity(state.identity_key, state.hostname,
                                                       state.addresses, c.now);
    if (!issued)
      return std::unexpected(from_pki(issued.error(), "identity"));
    state.identity = *issued;
    state.record.issued.push_back(pki::record_of(*issued, pki::issued_purpose::node_identity));
    return {};
  }
  auto made = pki::make_self_signed_identity(state.identity_key, state.hostname, c.now, c.random);
  if (!made)
    return std::unexpected(from_pki(made.error(), "identity"));
  state.identity = *made;
  return {};
}

class pki_service final : public gateway_service<pb::Pki::Service> {
public:
  using gateway_service::gateway_service;

  grpc::Status GetCa(grpc::ServerContext* call, const pb::Empty*, pb::CaInfo* reply) override {
    return gw_->read(call, "GetCa", security_read,
                     [reply](security_context& c) -> security::security_result<void> {
                       if (!c.pki.record.ca)
                         return std::unexpected(no_ca());
                       fill(reply, *c.pki.record.ca, c.now);
                       return {};
                     });
  }

  grpc::Status ExportCa(grpc::ServerContext* call, const pb::ExportCaRequest* request,
                        pb::Blob* reply) override {
    auto format = request->format();
    if (format != "pem" && format != "der")
      return to_status(invalid("format", "must be pem or der"));
    return gw_->read(call, "ExportCa", security_read,
                     [format, reply](security_context& c) -> security::security_result<void> {
                       if (!c.pki.record.ca)
                         return std::unexpected(no_ca());
                       const auto& cert = c.pki.record.ca->signing_certificate();
                       auto bytes = format == "pem" ? cert.to_pem() : cert.to_der();
                       if (!bytes)
                         return std::unexpected(from_pki(bytes.error(), "ca"));
                       reply->set_data(*bytes);
                       return {};
                     });
  }

  grpc::Status RenewCa(grpc::ServerContext* call, const pb::Empty*, pb::CaInfo* reply) override {
    return gw_->handle(
        call, "RenewCa", pki_write, [this, reply](security_context& c) -> effect_result {
          if (!c.pki.record.ca)
            return std::unexpected(no_ca());
          auto before = c.pki.record.ca->signing_certificate().serial_hex();
          if (auto renewed = c.pki.record.ca->renew_existing(c.now, c.random); !renewed)
            return std::unexpected(from_pki(renewed.error(), "ca"));
          if (auto reloaded = reload(c); !reloaded)
            return std::unexpected(reloaded.error());
          fill(reply, *c.pki.record.ca, c.now);
          return transaction_effect{"certificate_authority", "serial " + before,
                                    "serial " + c.pki.record.ca->signing_certificate().serial_hex(),
                                    "renewed with the same key pair"};
        });
  }

  grpc::Status CreateNewCa(grpc::ServerContext* call, const pb::Empty*,
                           pb::CaInfo* reply) override {
    return swap_ca(
        call, "CreateNewCa", reply,
        [](security_context& c) {
          return pki::certificate_authority::create_root(c.pki.hostname, c.pki.organisation, c.now,
                                                         c.random);
        },
        "ca", [](const pki::certificate& cert) { return cert.sha256_fingerprint(); },
        "new key pair; node identity reissued");
  }

  grpc::Status ImportCa(grpc::ServerContext* call, const pb::ImportP12Request* request,
                        pb::CaInfo* reply) override {
    return swap_ca(
        call, "ImportCa", reply,
        [der = request->pkcs12(), password = request->password()](security_context& c) {
          return pki::certificate_authority::import_pkcs12(der, password, c.now);
        },
        "pkcs12", [](const pki::certificate& cert) { return cert.subject(); },
        "signing certificate imported; node identity reissued");
  }

  grpc::Status ExportCaP12(grpc::ServerContext* call, const pb::PasswordRequest* request,
                           pb::Blob* reply) override {
    if (request->password().size() < 8)
      return to_status(
          invalid("password", "must be at least 8 characters: it protects the CA key"));
    auto password = request->password();
    return gw_->handle(call, "ExportCaP12", ca_key_export,
                       [password, reply](security_context& c) -> effect_result {
                         if (!c.pki.record.ca)
                           return std::unexpected(no_ca());
                         auto exported = c.pki.record.ca->export_pkcs12(password);
                         if (!exported)
                           return std::unexpected(from_pki(exported.error(), "ca"));
                         reply->set_data(*exported);
                         return transaction_effect{"certificate_authority", "", "",
                                                   "signing certificate and key exported"};
                       });
  }

  grpc::Status Issue(grpc::ServerContext* call, const pb::IssueRequest* request,
                     pb::IssueReply* reply) override {
    auto wanted = parse_device_request(*request);
    if (!wanted)
      return to_status(wanted.error());
    return gw_->handle(call, "Issue", pki_write,
                       [wanted = *wanted, reply](security_context& c) -> effect_result {
                         if (!c.pki.record.ca)
                           return std::unexpected(no_ca());
                         auto issued = c.pki.record.ca->issue_device(wanted, c.now, c.random);
                         if (!issued)
                           return std::unexpected(from_pki(issued.error(), "request"));
                         c.pki.record.issued.push_back(issued->record);
                         reply->set_pkcs12(issued->pkcs12_der);
                         reply->set_serial_hex(issued->record.serial_hex);
                         for (const auto& warning : issued->warnings)
                           reply->add_warnings(warning);
                         nlohmann::json after{{"subject", issued->record.subject},
                                              {"serial", issued->record.serial_hex},
                                              {"days", wanted.validity_days},
                                              {"key_bits", wanted.key_bits},
                                              {"legacy", wanted.legacy}};
                         return transaction_effect{"certificate/" + issued->record.serial_hex, "",
                                                   after.dump(), "device identity issued"};
                       });
  }

  grpc::Status ListIssued(grpc::ServerContext* call, const pb::Empty*,
                          pb::IssuedList* reply) override {
    return gw_->read(call, "ListIssued", security_read,
                     [reply](security_context& c) { fill(reply, c.pki.record); });
  }

  grpc::Status Revoke(grpc::ServerContext* call, const pb::RevokeRequest* request,
                      pb::IssuedList* reply) override {
    auto serial = normalized_serial(request->serial_hex());
    return gw_->handle(
        call, "Revoke", pki_write, [this, serial, reply](security_context& c) -> effect_result {
          if (!c.pki.record.ca)
            return std::unexpected(no_ca());
          auto& issued = c.pki.record.issued;
          if (std::none_of(issued.begin(), issued.end(),
                           [&](const auto& entry) { return entry.serial_hex == serial; }))
            return std::unexpected(
                security_error{security_errc::not_found, "serial_hex",
                               "this CA issued no certificate with serial " + serial});
          if (serial == c.pki.identity.serial_hex())
            return std::unexpected(
                security_error{security_errc::failed_precondition, "serial_hex",
                               "that is this node's own identity: renew it instead"});
          if (!c.pki.record.revoked.emplace(serial, c.now).second)
            return std::unexpected(security_error{security_errc::already_exists, "serial_hex",
                                                  "certificate " + serial + " is already revoked"});
          if (auto reloaded = reload(c); !reloaded)
            return std::unexpected(reloaded.error());
          fill(reply, c.pki.record);
          return transaction_effect{"certificate/" + serial, "valid", "revoked", ""};
        });
  }

  grpc::Status GetIdentity(grpc::ServerContext* call, const pb::Empty*,
                           pb::CertificateInfo* reply) override {
    return gw_->read(call, "GetIdentity", security_read,
                     [reply](security_context& c) { fill(reply, c.pki.identity, c.now); });
  }

  grpc::Status RenewIdentity(grpc::ServerContext* call, const pb::Empty*,
                             pb::CertificateInfo* reply) override {
    return gw_->handle(
        call, "RenewIdentity", pki_write, [this, reply](security_context& c) -> effect_result {
          auto before = c.pki.identity.serial_hex();
          if (auto reissued = reissue_identity(c); !reissued)
            return std::unexpected(reissued.error());
          if (auto reloaded = reload(c); !reloaded)
            return std::unexpected(reloaded.error());
          fill(reply, c.pki.identity, c.now);
          return transaction_effect{"identity", "serial " + before,
                                    "serial " + c.pki.identity.serial_hex(), "renewed"};
        });
  }

  grpc::Status SetIdentityP12(grpc::ServerContext* call, const pb::ImportP12Request* request,
                              pb::CertificateInfo* reply) override {
    auto der = request->pkcs12();
    auto password = request->password();
    return gw_->handle(
        call, "SetIdentityP12", pki_write,
        [this, der, password, reply](security_context& c) -> effect_result {
          auto contents = pki::parse_pkcs12(der, password);
          if (!contents)
            return std::unexpected(from_pki(contents.error(), "pkcs12"));
          if (!contents->cert.is_valid_at(c.now))
            return std::unexpected(
                invalid("pkcs12", "the certificate is outside its validity period"));
          if (contents->cert.is_ca())
            return std::unexpected(invalid("pkcs12", "a CA certificate is not a node identity"));
          auto before = c.pki.identity.subject() + " serial " + c.pki.identity.serial_hex();
          c.pki.identity_key = contents->key;
          c.pki.identity = contents->cert;
          // The listeners build a TLS context from it first: one they refuse (a key OpenSSL
          // will not serve, say) refuses the change, and the old identity keeps serving.
          if (auto reloaded = reload(c); !reloaded)
            return std::unexpected(reloaded.error());
          fill(reply, c.pki.identity, c.now);
          return transaction_effect{"identity", before,
                                    c.pki.identity.subject() + " serial " +
                                        c.pki.identity.serial_hex(),
                                    "identity installed from PKCS#12"};
        });
  }

  grpc::Status ListTcs(grpc::ServerContext* call, const pb::Empty*, pb::TcsList* reply) override {
    return gw_->read(call, "ListTcs", security_read,
                     [reply](security_context& c) { fill(reply, c.pki.record.trust, c.now); });
  }

  grpc::Status AddTcs(grpc::ServerContext* call, const pb::Blob* request,
                      pb::TcsList* reply) override {
    auto certificates = pki::load_certificates(request->data());
    if (!certificates)
      return to_status(from_pki(certificates.error(), "data"));
    return gw_->handle(call, "AddTcs", pki_write,
                       [this, added = *certificates, reply](security_context& c) -> effect_result {
                         std::string subjects;
                         for (const auto& cert : added) {
                           if (auto stored = c.pki.record.trust.add(cert); !stored)
                             return std::unexpected(security_error{
                                 stored.error().code == pki::trust_store_errc::duplicate
                                     ? security_errc::already_exists
                                     : security_errc::failed_precondition,
                                 "data", stored.error().detail});
                           subjects += (subjects.empty() ? "" : "; ") + cert.subject();
                         }
                         if (auto reloaded = reload(c); !reloaded)
                           return std::unexpected(reloaded.error());
                         fill(reply, c.pki.record.trust, c.now);
                         return transaction_effect{"tcs", "", subjects, "added"};
                       });
  }

  grpc::Status RemoveTcs(grpc::ServerContext* call, const pb::FingerprintRequest* request,
                         pb::TcsList* reply) override {
    auto fingerprint = request->sha256_fingerprint();
    return gw_->handle(call, "RemoveTcs", pki_write,
                       [this, fingerprint, reply](security_context& c) -> effect_result {
                         if (!c.pki.record.trust.remove(fingerprint))
                           return std::unexpected(
                               security_error{security_errc::not_found, "sha256_fingerprint",
                                              "no trusted certificate has that fingerprint"});
                         if (auto reloaded = reload(c); !reloaded)
                           return std::unexpected(reloaded.error());
                         fill(reply, c.pki.record.trust, c.now);
                         return transaction_effect{"tcs", fingerprint, "", "removed"};
                       });
  }

  grpc::Status GetChecks(grpc::ServerContext* call, const pb::Empty*,
                         pb::CheckSettings* reply) override {
    return read_settings(call, "GetChecks", reply);
  }

  grpc::Status SetChecks(grpc::ServerContext* call, const pb::CheckSettings* request,
                         pb::CheckSettings* reply) override {
    auto management = pki::parse_check_level(request->management());
    auto telephony = pki::parse_check_level(request->telephony());
    if (!management)
      return to_status(
          invalid("management", "must be none, low, medium, high, medium_remote or high_remote"));
    if (!telephony)
      return to_status(
          invalid("telephony", "must be none, low, medium, high, medium_remote or high_remote"));
    return settings_write(
        call, "SetChecks",
        [management, telephony](security::certificate_settings& s) {
          s.management_checks = *management;
          s.telephony_checks = *telephony;
        },
        reply);
  }

  grpc::Status GetTls(grpc::ServerContext* call, const pb::Empty*,
                      pb::TlsSettings* reply) override {
    return read_settings(call, "GetTls", reply);
  }

  grpc::Status SetTls(grpc::ServerContext* call, const pb::TlsSettings* request,
                      pb::TlsSettings* reply) override {
    const auto& version = request->minimum_version();
    if (version != "1.2" && version != "1.3")
      return to_status(invalid("minimum_version", "must be 1.2 or 1.3"));
    auto wanted = *request;
    return settings_write(
        call, "SetTls",
        [wanted](security::certificate_settings& s) {
          s.minimum_tls = wanted.minimum_version() == "1.3" ? pki::tls_min_version::tls1_3
                                                            : pki::tls_min_version::tls1_2;
          s.offer_chain = wanted.offer_chain();
          s.renew_identity_automatically = wanted.renew_identity_automatically();
        },
        reply);
  }

private:
  /// Makes `ca` the node's signing CA (Create New, import): a new key pair means identities
  /// issued by the old one must be issued again, and the listeners serve the new identity.
  security::security_result<void> replace_ca(security_context& c, pki::certificate_authority ca,
                                             pb::CaInfo* reply) const {
    // SPEC PKI-4: the nodes enrolled under the old CA keep their lines while each is
    // reissued over its line; the old CA is trusted on lines until the last one is.
    const auto& old = c.pki.record.ca->signing_certificate();
    if (!ca.signing_certificate().same_key_as(old))
      c.pki.record.retiring_cas.push_back(old);
    c.pki.record.ca = std::move(ca);
    if (auto reissued = reissue_identity(c); !reissued)
      return reissued;
    if (auto reloaded = reload(c); !reloaded)
      return reloaded;
    fill(reply, *c.pki.record.ca, c.now);
    return {};
  }

  /// Create New and import: `make` produces the new signing CA (errors name `field`), which
  /// replaces the old one; `describe` tells the old and new signing certificates apart in
  /// the audit record.
  template <class Make, class Describe>
  grpc::Status swap_ca(grpc::ServerContext* call, std::string action, pb::CaInfo* reply, Make make,
                       std::string field, Describe describe, std::string detail) {
    return gw_->handle(
        call, std::move(action), pki_write,
        [this, reply, make, field, describe, detail](security_context& c) -> effect_result {
          if (!c.pki.record.ca)
            return std::unexpected(no_ca());
          auto before = describe(c.pki.record.ca->signing_certificate());
          auto made = make(c);
          if (!made)
            return std::unexpected(from_pki(made.error(), field));
          if (auto replaced = replace_ca(c, std::move(*made), reply); !replaced)
            return std::unexpected(replaced.error());
          return transaction_effect{"certificate_authority", before,
                                    describe(c.pki.record.ca->signing_certificate()), detail};
        });
  }

  security::security_result<void> reload(security_context& c) const {
    auto reloaded = gw_->context().levels.reload(c.security.settings(), c.pki);
    if (!reloaded)
      return std::unexpected(security_error{security_errc::failed_precondition, "tls",
                                            "the listeners refused the new TLS material, the old "
                                            "one keeps serving: " +
                                                reloaded.error()});
    return {};
  }

  /// A read of the certificate settings, as `reply` shows them.
  template <class Reply>
  grpc::Status read_settings(grpc::ServerContext* call, std::string action, Reply* reply) {
    return gw_->read(call, std::move(action), security_read, [reply](security_context& c) {
      fill(reply, c.security.settings().certificates);
    });
  }

  /// A change of the certificate settings: `change` edits them, the listeners reload, and
  /// `reply` shows the stored result.
  template <class Reply>
  grpc::Status settings_write(grpc::ServerContext* call, std::string action,
                              std::function<void(security::certificate_settings&)> change,
                              Reply* reply) {
    return gw_->handle(call, std::move(action), security_write,
                       [this, change, reply](security_context& c) -> effect_result {
                         auto settings = c.security.settings().certificates;
                         auto before = security::to_json(settings).dump();
                         change(settings);
                         if (auto set = c.security.set_certificate_settings(settings); !set)
                           return std::unexpected(set.error());
                         if (auto reloaded = reload(c); !reloaded)
                           return std::unexpected(reloaded.error());
                         fill(reply, c.security.settings().certificates);
                         return transaction_effect{
                             "certificate_settings", before,
                             security::to_json(c.security.settings().certificates).dump(), ""};
                       });
  }
};

} // namespace

std::unique_ptr<grpc::Service> make_pki_service(std::shared_ptr<gateway> gw) {
  return std::make_unique<pki_service>(std::move(gw));
}

} // namespace ward::node::admin_api
