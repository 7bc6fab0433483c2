#pragma once

#include "cluster/enrolment.hpp"
#include "cluster/line_protocol.hpp"
#include "pki/certificate.hpp"
#include "pki/certificate_check.hpp"

#include <chrono>
#include <string>
#include <vector>

/// Whether the node a line reached is the node it was meant to reach (SPEC LINE-1): the
/// dialling end's check of the server certificate, before it proves the line password.
namespace ward::cluster {

/// What the dialling node knows of the node it means to reach.
struct line_server_expectation {
  /// The line's name: the name of the node it dials.
  std::string target;
  /// The address the line is configured with, host name or IP literal, as written.
  std::string dialled_host;
  line_security security = line_security::high;
  /// Certificates that may anchor a node identity: the cluster CA and what an administrator
  /// put in the trusted certificate store; never the default public CAs.
  std::vector<std::string> anchors_pem;
  /// The identities the cluster enrolled, by node name.
  pin_map pins;
  /// This node's own identity, which a reflected handshake would present back to it.
  std::string own_certificate_pem;
  std::vector<std::string> revoked_serials;
  std::chrono::system_clock::time_point now;
};

/// The name the server's certificate must carry: the host name in the identity the
/// cluster enrolled for the target, or, while this node holds no pin for it yet (the
/// first line after its own enrolment), the address the line dials, as a browser would.
std::string expected_server_name(const line_server_expectation& expected);

/// Grades the server's `chain` (leaf first). Every TLS line level checks the identity,
/// that is the chain to a cluster anchor and the expected name (check level
/// medium_remote); High also pins the exact certificate enrolled for the target
/// (high_remote against that pin alone), so another enrolled node cannot answer for it.
/// Only meaningful once this node is enrolled: before that it holds no anchor, and the
/// line password proof authenticates the server.
pki::check_result check_line_server(const std::vector<pki::certificate>& chain,
                                    const line_server_expectation& expected);

} // namespace ward::cluster
