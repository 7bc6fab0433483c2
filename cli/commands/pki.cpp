#include "cli/commands/commands.hpp"

#include "cli/local_io.hpp"
#include "cli/parse.hpp"

namespace ward::cli {
namespace {

namespace pb = admin::v1;
using P = pb::Pki::Stub;
constexpr auto security = target_service::security;

constexpr std::string_view check_levels[] = {"none", "low",           "medium",
                                             "high", "medium_remote", "high_remote"};
constexpr std::string_view tls_versions[] = {"1.2", "1.3"};
constexpr std::string_view key_sizes[] = {"1024", "2048", "4096"};
constexpr std::string_view hashes[] = {"sha1", "sha224", "sha256", "sha384", "sha512"};

/// Calls for a file's content and writes it to `out` with `mode`; `what` names the
/// content when the node sends none.
template <class Request>
int download(const cli_state& state, rpc<P, Request, pb::Blob> spec, const Request& request,
             const std::string& out, mode_t mode, const char* what) {
  pb::Blob reply;
  int code = call(state, spec, request, reply);
  if (code != exit_ok)
    return code;
  if (reply.data().empty()) {
    std::cerr << "wardctl: the node sent an empty " << what << "\n";
    return exit_remote_error;
  }
  write_local_file(out, reply.data(), mode);
  return exit_ok;
}

/// A PKCS#12 file and its password, as `pki ca import` and `pki identity set-p12` send it.
pb::ImportP12Request p12_request(const std::string& file) {
  pb::ImportP12Request request;
  request.set_pkcs12(read_local_file(file));
  request.set_password(read_secret("password of " + file));
  return request;
}

void add_ca_export(CLI::App& ca, command_table& table) {
  struct export_options {
    bool pem = false, der = false;
    std::string out;
  };
  auto& ex = table.hold<export_options>();
  auto* ca_export = ca.add_subcommand("export", "Write the CA certificate to a file (0644)");
  ca_export->add_flag("--pem", ex.pem, "PEM (default file root-ca.pem)");
  ca_export->add_flag("--der", ex.der, "DER (default file root-ca.crt)");
  ca_export->add_option("--out", ex.out, "File to write");
  table.add(ca_export, [&state = table.state(), &ex] {
    if (ex.pem == ex.der)
      throw usage_error("pki ca export takes exactly one of --pem and --der");
    std::string out = ex.out.empty() ? (ex.pem ? "root-ca.pem" : "root-ca.crt") : ex.out;
    check_writable(out);
    pb::ExportCaRequest request;
    request.set_format(ex.pem ? "pem" : "der");
    int code = download(state, rpc{security, &P::ExportCa}, request, out, 0644, "certificate");
    if (code == exit_ok && !state.json)
      std::cout << "CA certificate written to " << out << "\n";
    return code;
  });
}

void add_ca_backup(CLI::App& ca, command_table& table) {
  auto& p12_out = table.hold<std::string>();
  auto* export_p12 =
      ca.add_subcommand("export-p12", "Back up the CA with its key as a PKCS#12 (0600). " +
                                          reads_secrets("the new password protecting the file"));
  export_p12->add_option("--out", p12_out, "File to write")->required();
  table.add(export_p12, [&state = table.state(), &p12_out] {
    check_writable(p12_out);
    pb::PasswordRequest request;
    request.set_password(read_new_secret("password for " + p12_out));
    int code = download(state, rpc{security, &P::ExportCaP12}, request, p12_out, 0600, "PKCS#12");
    if (code == exit_ok && !state.json)
      std::cout << "CA and key written to " << p12_out << "\n";
    return code;
  });
}

void add_ca_commands(CLI::App& pki, command_table& table) {
  auto* ca = add_group(pki, "ca", "The certificate authority of the cluster (primary)");
  table.unary(ca->add_subcommand("show", "Show the CA certificate and the chain above it"),
              rpc{security, &P::GetCa});
  add_ca_export(*ca, table);
  table.unary(ca->add_subcommand("renew", "Renew the root CA certificate with the same key"),
              rpc{security, &P::RenewCa});

  // Held by the table: CLI11 writes the flag while parsing, after this function returns.
  auto& yes = table.hold<bool>();
  auto* create = ca->add_subcommand(
      "create-new", "Replace the CA with a new key pair. Every enrolled node is reissued over its "
                    "line; the old CA stays trusted on lines until the last one is");
  create->add_flag("--yes", yes, "Confirm the replacement")->required();
  table.unary(create, rpc{security, &P::CreateNewCa});

  table.with_argument(*ca,
                      {"import",
                       "Replace the CA with a PKCS#12. " + reads_secrets("the file's password"),
                       "--p12", "PKCS#12 with the CA certificate, key and chain"},
                      rpc{security, &P::ImportCa}, p12_request);
  add_ca_backup(*ca, table);
}

void add_issue_command(CLI::App& pki, command_table& table) {
  struct issue_options {
    std::string subject, hash, out;
    std::vector<std::string> alt_names;
    unsigned days = 0, key_bits = 0;
    bool legacy = false;
  };
  auto& o = table.hold<issue_options>();
  auto* issue =
      pki.add_subcommand("issue", "Issue a device certificate as a PKCS#12 (0600). " +
                                      reads_secrets("the new password protecting the file"));
  issue->add_option("--subject", o.subject, "Common name")->required();
  issue
      ->add_option("--san", o.alt_names,
                   "DNS:name, IP:address, URI:uri, email:address (comma-separated, repeatable)")
      ->delimiter(',');
  issue->add_option("--days", o.days, "Validity in days (default: the node's)");
  issue->add_option("--key-bits", o.key_bits, choices(key_sizes) + " (default: the node's)");
  issue->add_option("--hash", o.hash, choices(hashes));
  issue->add_flag("--legacy", o.legacy, "Allow legacy algorithms (1024-bit keys, SHA-1)");
  issue->add_option("--out", o.out, "PKCS#12 file to write")->required();
  table.add(issue, [&state = table.state(), &o]() -> int {
    check_writable(o.out);
    pb::IssueRequest request;
    request.set_common_name(o.subject);
    for (const auto& name : o.alt_names)
      request.add_subject_alt_names(name);
    request.set_validity_days(o.days);
    request.set_key_bits(o.key_bits);
    request.set_hash(o.hash);
    request.set_legacy(o.legacy);
    request.set_pkcs12_password(read_new_secret("password for " + o.out));
    pb::IssueReply reply;
    int code = call(state, rpc{security, &P::Issue}, request, reply);
    if (code != exit_ok)
      return code;
    for (const auto& warning : reply.warnings())
      std::cerr << "wardctl: warning: " << warning << "\n";
    if (reply.pkcs12().empty()) {
      std::cerr << "wardctl: the node sent an empty PKCS#12 for serial " << reply.serial_hex()
                << "\n";
      return exit_remote_error;
    }
    try {
      write_local_file(o.out, reply.pkcs12(), 0600);
    } catch (const usage_error& e) {
      throw usage_error(std::string(e.what()) + " (serial " + reply.serial_hex() +
                        " was issued; revoke it)");
    }
    if (state.json) {
      auto shown = reply;
      shown.clear_pkcs12();
      std::cout << to_json(shown);
    } else {
      std::cout << "issued serial " << reply.serial_hex() << "; PKCS#12 written to " << o.out
                << "\n";
    }
    return exit_ok;
  });
}

void add_issued_commands(CLI::App& pki, command_table& table) {
  add_issue_command(pki, table);
  table.unary(pki.add_subcommand("issued", "List the certificates the CA issued"),
              rpc{security, &P::ListIssued});
  table.with_argument(
      pki, {"revoke", "Revoke an issued certificate", "serial", "Serial in hex (see pki issued)"},
      rpc{security, &P::Revoke}, into(&pb::RevokeRequest::mutable_serial_hex));
}

void add_identity_commands(CLI::App& pki, command_table& table) {
  auto* identity = add_group(pki, "identity", "This node's identity certificate");
  table.unary(identity->add_subcommand("show", "Show the identity certificate"),
              rpc{security, &P::GetIdentity, "/ward.admin.v1.Pki/GetIdentity"});
  table.unary(identity->add_subcommand("renew", "Issue a new identity from the CA"),
              rpc{security, &P::RenewIdentity});
  table.with_argument(
      *identity,
      {"set-p12", "Replace the identity with a PKCS#12. " + reads_secrets("the file's password"),
       "--p12", "PKCS#12 with the certificate, key and chain"},
      rpc{security, &P::SetIdentityP12}, p12_request);
}

void add_tcs_commands(CLI::App& pki, command_table& table) {
  auto* tcs = add_group(pki, "tcs", "The Trusted Certificate Store");
  table.unary(tcs->add_subcommand("list", "List the trusted certificates"),
              rpc{security, &P::ListTcs, "/ward.admin.v1.Pki/ListTcs"});
  table.with_argument(*tcs,
                      {"add", "Trust a certificate (PEM or DER file)", "file", "Certificate file"},
                      rpc{security, &P::AddTcs}, [](const std::string& file) {
                        pb::Blob request;
                        request.set_data(read_local_file(file));
                        return request;
                      });
  table.with_argument(*tcs,
                      {"remove", "Stop trusting a certificate", "fingerprint",
                       "Full SHA-256 fingerprint (see --json tcs list)"},
                      rpc{security, &P::RemoveTcs},
                      into(&pb::FingerprintRequest::mutable_sha256_fingerprint));
}

void add_checks_commands(CLI::App& pki, command_table& table) {
  auto* checks = add_group(pki, "checks", "Checks of received certificates");
  table.unary(checks->add_subcommand("show", "Show the check levels"),
              rpc{security, &P::GetChecks});
  struct check_options {
    std::optional<std::string> management, telephony;
  };
  auto& c = table.hold<check_options>();
  auto* set = checks->add_subcommand("set", "Change check levels");
  set->add_option("--management", c.management, choices(check_levels));
  set->add_option("--telephony", c.telephony, choices(check_levels));
  table.update(set, rpc{security, &P::GetChecks}, rpc{security, &P::SetChecks}, [&c] {
    return [&c](pb::CheckSettings& current) {
      if (c.management)
        current.set_management(*c.management);
      if (c.telephony)
        current.set_telephony(*c.telephony);
    };
  });
}

void add_tls_commands(CLI::App& pki, command_table& table) {
  auto* tls = add_group(pki, "tls", "TLS settings");
  table.unary(tls->add_subcommand("show", "Show the TLS settings"), rpc{security, &P::GetTls});
  struct tls_options {
    std::optional<std::string> min_version, offer_chain, auto_renew;
  };
  auto& t = table.hold<tls_options>();
  auto on_off = choices(switch_values);
  auto* set = tls->add_subcommand("set", "Change TLS settings");
  set->add_option("--min-version", t.min_version, choices(tls_versions));
  set->add_option("--offer-chain", t.offer_chain,
                  on_off + ": send the CA chain with the identity certificate");
  set->add_option("--auto-renew", t.auto_renew,
                  on_off + ": renew the identity from the CA before it expires");
  table.update(set, rpc{security, &P::GetTls}, rpc{security, &P::SetTls}, [&t] {
    // The switches are read before anything is sent: a bad one changes nothing.
    std::optional<bool> offer_chain, auto_renew;
    if (t.offer_chain)
      offer_chain = parse_switch(*t.offer_chain, "--offer-chain");
    if (t.auto_renew)
      auto_renew = parse_switch(*t.auto_renew, "--auto-renew");
    return [&t, offer_chain, auto_renew](pb::TlsSettings& current) {
      if (t.min_version)
        current.set_minimum_version(*t.min_version);
      if (offer_chain)
        current.set_offer_chain(*offer_chain);
      if (auto_renew)
        current.set_renew_identity_automatically(*auto_renew);
    };
  });
}

} // namespace

void add_pki_commands(CLI::App& app, command_table& table) {
  auto* pki = add_group(
      app, "pki", "Certificate authority, node identity, trusted certificates, checks and TLS");
  add_ca_commands(*pki, table);
  add_issued_commands(*pki, table);
  add_identity_commands(*pki, table);
  add_tcs_commands(*pki, table);
  add_checks_commands(*pki, table);
  add_tls_commands(*pki, table);
}

} // namespace ward::cli
