#include "cli/connection.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace ward::cli {

std::expected<std::shared_ptr<grpc::Channel>, std::string>
open_channel(const connection_options& options) {
  if (options.insecure && !options.ca_file.empty())
    return std::unexpected("--insecure and --ca-file exclude each other");
  grpc::ChannelArguments arguments;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.insecure) {
    std::cerr << "wardctl: WARNING: --insecure: the node's certificate is NOT verified; anyone "
                 "on the path can impersonate it and read what you send.\n";
    grpc::experimental::TlsChannelCredentialsOptions tls;
    tls.set_verify_server_certs(false);
    tls.set_check_call_host(false);
    tls.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    credentials = grpc::experimental::TlsCredentials(tls);
  } else {
    if (options.ca_file.empty())
      return std::unexpected(
          "the node's certificate must be checked: give --ca-file FILE (or, knowingly, "
          "--insecure)");
    std::ifstream in(options.ca_file);
    if (!in)
      return std::unexpected("cannot read --ca-file " + options.ca_file);
    std::ostringstream pem;
    pem << in.rdbuf();
    if (pem.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return std::unexpected("--ca-file " + options.ca_file + " holds no PEM certificate");
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(tls);
    if (!options.server_name.empty())
      arguments.SetSslTargetNameOverride(options.server_name);
  }
  if (!credentials)
    return std::unexpected("cannot set up TLS credentials");
  return grpc::CreateCustomChannel(options.node, credentials, arguments);
}

} // namespace ward::cli
