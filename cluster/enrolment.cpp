#include "cluster/enrolment.hpp"

#include "cluster/line_protocol.hpp"
#include "core/enum_names.hpp"
#include "pki/csr.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace ward::cluster {

constexpr auto enrol_errc_names =
    name_table(enum_name{enrol_errc::unreadable_request, "unreadable_request"},
               enum_name{enrol_errc::own_host_name, "own_host_name"},
               enum_name{enrol_errc::name_taken, "name_taken"},
               enum_name{enrol_errc::already_enrolled, "already_enrolled"},
               enum_name{enrol_errc::cluster_full, "cluster_full"});

std::string_view to_string(enrol_errc code) {
  return name_of(enrol_errc_names, code);
}

namespace {

/// Whether the identity pinned for `node` no longer stands in the way of a new one.
bool pin_released(const std::string& pinned_pem, const std::vector<std::string>& revoked,
                  std::chrono::system_clock::time_point now) {
  auto cert = pki::certificate::from_pem(pinned_pem);
  if (!cert || cert->days_until_expiry(now) < 0)
    return true;
  return std::find(revoked.begin(), revoked.end(), cert->serial_hex()) != revoked.end();
}

} // namespace

std::optional<enrol_refusal> check_enrol_request(const enrol_request_facts& facts) {
  static const pin_map no_pins;
  static const std::vector<std::string> no_serials;
  const auto& pins = facts.pins ? *facts.pins : no_pins;
  const auto& revoked = facts.revoked_serials ? *facts.revoked_serials : no_serials;
  auto request = pki::parse_csr(facts.csr_pem);
  if (!request)
    return enrol_refusal{enrol_errc::unreadable_request,
                         "the certificate request cannot be read: " + request.error().detail};
  if (request->common_name == facts.own_hostname)
    return enrol_refusal{enrol_errc::own_host_name,
                         "the request names this node's own host name " + request->common_name};
  for (const auto& [other, pem] : pins)
    if (other != facts.node)
      if (auto cert = pki::certificate::from_pem(pem);
          cert && cert->subject_common_name() == request->common_name)
        return enrol_refusal{enrol_errc::name_taken,
                             "host name " + request->common_name + " belongs to another node"};
  if (auto held = pins.find(facts.node); held != pins.end() &&
                                         !pinned_as(pins, facts.node, facts.presented_pem) &&
                                         !pin_released(held->second, revoked, facts.now))
    return enrol_refusal{enrol_errc::already_enrolled,
                         "node " + facts.node +
                             " is already enrolled; revoke its identity (pki revoke) to enrol it "
                             "again"};
  if (pins.size() > max_enrolled_nodes)
    return enrol_refusal{enrol_errc::cluster_full,
                         "the cluster already has the most nodes the CA enrols"};
  return std::nullopt;
}

std::vector<std::string> vouched_addresses(std::string_view peer_address,
                                           const std::vector<std::string>& requested) {
  auto peer_ip = std::string(peer_address.substr(0, peer_address.rfind(':')));
  if (peer_ip.starts_with("[") && peer_ip.ends_with("]"))
    peer_ip = peer_ip.substr(1, peer_ip.size() - 2);
  std::vector<std::string> addresses;
  for (const auto& address : requested)
    if (address == peer_ip)
      addresses.push_back(address);
  return addresses;
}

bool pinned_as(const pin_map& pins, const std::string& node, const std::string& pem) {
  auto it = pins.find(node);
  if (it == pins.end())
    return false;
  auto pinned = pki::certificate::from_pem(it->second);
  auto presented = pki::certificate::from_pem(pem);
  return pinned && presented && pinned->sha256_fingerprint() == presented->sha256_fingerprint();
}

bool is_enrolled(const std::string& identity_pem) {
  auto identity = pki::certificate::from_pem(identity_pem);
  return identity && identity->subject() != identity->issuer();
}

enrolment_need enrolment_needed(const pki::certificate& identity,
                                std::chrono::system_clock::time_point now,
                                std::int64_t renewal_days, const pki::certificate* cluster_ca) {
  if (identity.subject() == identity.issuer())
    return enrolment_need::first;
  if (cluster_ca && !identity.issued_by(*cluster_ca))
    return enrolment_need::reissue;
  return identity.days_until_expiry(now) <= renewal_days ? enrolment_need::renewal
                                                         : enrolment_need::none;
}

std::string encode_pins(const pin_map& pins) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [node, pem] : pins)
    if (valid_node_name(node))
      json[node] = pem;
  return json.dump();
}

pin_map decode_pins(std::string_view json) {
  pin_map pins;
  auto list = nlohmann::json::parse(json, nullptr, false);
  if (list.is_object())
    for (const auto& [node, pem] : list.items())
      if (pem.is_string())
        pins.emplace(node, pem.get<std::string>());
  return pins;
}

} // namespace ward::cluster
