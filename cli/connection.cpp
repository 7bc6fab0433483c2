#include "cli/connection.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

namespace ward::cli {
namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string host_of(const std::string& endpoint) {
  if (endpoint.starts_with("[")) {
    auto close = endpoint.find(']');
    return endpoint.substr(0, close + 1);
  }
  return endpoint.substr(0, endpoint.rfind(':'));
}

} // namespace

std::expected<std::string, std::string> endpoint_for(const connection_options& options,
                                                     target_service service) {
  std::map<std::string, std::string> known;
  if (!options.endpoints_file.empty()) {
    auto text = read_file(options.endpoints_file);
    if (!text)
      return std::unexpected("cannot read --endpoints " + options.endpoints_file);
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line))
      if (auto eq = line.find('='); eq != std::string::npos)
        known[line.substr(0, eq)] = line.substr(eq + 1);
  }
  auto pick = [&](const std::string& given, const std::string& name,
                  const std::string& default_port) -> std::expected<std::string, std::string> {
    if (!given.empty())
      return given;
    auto key = options.plaintext ? name + "_plain" : name;
    if (!options.endpoints_file.empty()) {
      if (auto it = known.find(key); it != known.end())
        return it->second;
      return std::unexpected("the node's endpoints file lists no open " + key +
                             " port: is the service disabled at its current level?");
    }
    return host_of(options.node) + ":" + default_port;
  };
  switch (service) {
    case target_service::status:
      if (!options.endpoints_file.empty() && options.node == connection_options{}.node)
        return pick("", "status", "7443");
      return options.node;
    case target_service::security:
      return pick(options.security, "security", options.plaintext ? "7448" : "7447");
    case target_service::configuration:
      return pick(options.configuration, "configuration", options.plaintext ? "7446" : "7445");
  }
  return options.node;
}

std::expected<std::shared_ptr<grpc::Channel>, std::string>
open_channel(const connection_options& options, target_service service) {
  auto endpoint = endpoint_for(options, service);
  if (!endpoint)
    return std::unexpected(endpoint.error());
  if (options.insecure && !options.ca_file.empty())
    return std::unexpected("--insecure and --ca-file exclude each other");
  grpc::ChannelArguments arguments;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.plaintext) {
    std::cerr << "wardctl: WARNING: --plaintext: passwords and session tokens cross the network "
                 "unencrypted.\n";
    credentials = grpc::InsecureChannelCredentials();
    return grpc::CreateCustomChannel(*endpoint, credentials, arguments);
  }
  std::string client_key, client_cert;
  if (!options.cert_file.empty() || !options.key_file.empty()) {
    auto cert = read_file(options.cert_file);
    auto key = read_file(options.key_file);
    if (!cert || !key)
      return std::unexpected("--cert and --key must both name readable PEM files");
    client_cert = *cert;
    client_key = *key;
  }
  if (options.insecure) {
    std::cerr << "wardctl: WARNING: --insecure: the node's certificate is NOT verified; anyone "
                 "on the path can impersonate it and read what you send.\n";
    std::vector<grpc::experimental::IdentityKeyCertPair> identity;
    if (!client_cert.empty())
      identity.push_back({client_key, client_cert});
    grpc::experimental::TlsChannelCredentialsOptions tls;
    if (!identity.empty()) {
      tls.set_certificate_provider(
          std::make_shared<grpc::experimental::StaticDataCertificateProvider>(identity));
      tls.watch_identity_key_cert_pairs();
    }
    tls.set_verify_server_certs(false);
    tls.set_check_call_host(false);
    tls.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    credentials = grpc::experimental::TlsCredentials(tls);
  } else {
    if (options.ca_file.empty())
      return std::unexpected(
          "the node's certificate must be checked: give --ca-file FILE (or, knowingly, "
          "--insecure)");
    auto pem = read_file(options.ca_file);
    if (!pem)
      return std::unexpected("cannot read --ca-file " + options.ca_file);
    if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return std::unexpected("--ca-file " + options.ca_file + " holds no PEM certificate");
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = *pem;
    tls.pem_private_key = client_key;
    tls.pem_cert_chain = client_cert;
    credentials = grpc::SslCredentials(tls);
    if (!options.server_name.empty())
      arguments.SetSslTargetNameOverride(options.server_name);
  }
  if (!credentials)
    return std::unexpected("cannot set up TLS credentials");
  return grpc::CreateCustomChannel(*endpoint, credentials, arguments);
}

} // namespace ward::cli
