#pragma once

#include "core/typed_error.hpp"
#include "pki/certificate.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// The pure decisions of enrolment (SPEC PKI-5): which certificate requests the cluster CA
/// signs, which addresses it vouches for, and the identities it pins for line security
/// High. The line actor carries the frames and asks the security database to sign.
namespace ward::cluster {

/// Nodes the CA enrols at most; every pin travels in every settings record.
inline constexpr std::size_t max_enrolled_nodes = 1000;

/// The identities pinned for line security High, by node name, PEM.
using pin_map = std::map<std::string, std::string>;

/// Why the CA refuses a certificate request.
enum class enrol_errc {
  /// The CSR cannot be parsed, or its self-signature does not verify.
  unreadable_request,
  /// The CSR names the CA node's own host name.
  own_host_name,
  /// The CSR names a host name another node's pinned identity holds.
  name_taken,
  /// The node already holds a valid, unrevoked pinned identity and did not present it.
  already_enrolled,
  /// The CA already enrols max_enrolled_nodes nodes.
  cluster_full,
};

std::string_view to_string(enrol_errc code);

/// A refusal: its code, and the text the node is answered and the alarm carries.
using enrol_refusal = typed_error<enrol_errc>;

/// Everything the CA node knows when a node asks it to sign.
struct enrol_request_facts {
  /// The name the node gave in its line's Hello.
  std::string node;
  /// The certificate request the node sent, PEM.
  std::string csr_pem;
  /// The leaf certificate the node presented on its line, PEM; empty for none.
  std::string presented_pem;
  /// The CA node's own host name.
  std::string own_hostname;
  const pin_map* pins = nullptr;
  const std::vector<std::string>* revoked_serials = nullptr;
  std::chrono::system_clock::time_point now;
};

/// Whether the CA may sign the request: never for the CA node's own host name, never for a
/// host name another node is enrolled under, and a node name already enrolled only for the
/// node holding that identity (renewal) or once an administrator revoked it, or it expired.
std::optional<enrol_refusal> check_enrol_request(const enrol_request_facts& facts);

/// Of the addresses a node asks to have in its certificate, the one its line comes from
/// (`peer_address`, "ip:port" or "[v6]:port"): only that one is vouched for.
std::vector<std::string> vouched_addresses(std::string_view peer_address,
                                           const std::vector<std::string>& requested);

/// Whether `pem` is the identity pinned for `node`.
bool pinned_as(const pin_map& pins, const std::string& node, const std::string& pem);

/// Whether an identity is CA-issued (else self-signed, as before enrolment).
bool is_enrolled(const std::string& identity_pem);

/// What a node needs of the CA for its identity.
enum class enrolment_need {
  /// A CA-issued identity that is not yet due for renewal.
  none,
  /// A self-signed identity: first enrolment.
  first,
  /// A CA-issued identity within `renewal_days` of expiry.
  renewal,
  /// An identity another CA issued than the cluster's current one (after Create New,
  /// SPEC PKI-4).
  reissue,
};

/// `cluster_ca` is the cluster CA's signing certificate when the node knows it.
enrolment_need enrolment_needed(const pki::certificate& identity,
                                std::chrono::system_clock::time_point now,
                                std::int64_t renewal_days,
                                const pki::certificate* cluster_ca = nullptr);

/// The pins as the "pins" record a non-writer stores: a JSON object of node → PEM, with
/// invalid node names left out.
std::string encode_pins(const pin_map& pins);
/// The pins of a stored "pins" record; empty when it is not a JSON object.
pin_map decode_pins(std::string_view json);

} // namespace ward::cluster
