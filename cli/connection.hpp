#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <expected>
#include <memory>
#include <string>

namespace ward::cli {

/// How wardctl reaches a node and decides whether to trust it.
struct connection_options {
  std::string node = "127.0.0.1:7443";
  /// PEM file of the certificate(s) that may sign the node's certificate.
  std::string ca_file;
  /// Skip verification of the node's certificate entirely.
  bool insecure = false;
  /// Name to check the node's certificate against; defaults to the host part of `node`.
  std::string server_name;
  std::chrono::seconds timeout{10};
};

/// A TLS channel to the node, or why none can be made (a usage problem, not a remote one).
std::expected<std::shared_ptr<grpc::Channel>, std::string>
open_channel(const connection_options& options);

} // namespace ward::cli
