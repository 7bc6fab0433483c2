#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <expected>
#include <memory>
#include <string>

namespace ward::cli {

/// How wardctl reaches a node and decides whether to trust it.
struct connection_options {
  /// The System Status service: status and health.
  std::string node = "127.0.0.1:7443";
  /// The Security Administration and Configuration services; empty = the host of `node`
  /// with the default port.
  std::string security;
  std::string configuration;
  /// The node's `<data_dir>/run/endpoints` file: fills every endpoint not given.
  std::string endpoints_file;
  /// PEM file of the certificate(s) that may sign the node's certificate.
  std::string ca_file;
  /// Skip verification of the node's certificate entirely.
  bool insecure = false;
  /// Speak plaintext (only for a service at an Unsecure level).
  bool plaintext = false;
  /// Name to check the node's certificate against; defaults to the host part of the endpoint.
  std::string server_name;
  /// Client certificate and key (PEM) for services at Secure High.
  std::string cert_file;
  std::string key_file;
  std::chrono::seconds timeout{10};
};

/// Which administrative service a command talks to.
enum class target_service { status, security, configuration };

/// The HOST:PORT a command for `service` goes to.
std::expected<std::string, std::string> endpoint_for(const connection_options& options,
                                                     target_service service);

/// A channel to the node's `service`, or why none can be made (a usage problem, not a
/// remote one).
std::expected<std::shared_ptr<grpc::Channel>, std::string>
open_channel(const connection_options& options, target_service service = target_service::status);

} // namespace ward::cli
