// Cost of the certificate authority's work: signing a node identity for a key that already
// exists, generating an RSA-2048 key pair, and issuing a device identity (key generation,
// signing and the PKCS#12 together). Each figure is bounded in count and in time.
#include "core/random.hpp"
#include "pki/certificate_authority.hpp"
#include "pki/private_key.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

/// At most this long per figure, after a first call that is not counted.
constexpr auto time_budget = std::chrono::seconds(5);

/// Runs `step` until `max_count` successes or the time budget, whichever comes first, and
/// returns successes per second; -1 if any call failed.
template <class Step> double rate_of(const char* name, int max_count, Step step) {
  if (!step()) {
    std::fprintf(stderr, "ward_bench_pki: %s failed\n", name);
    return -1;
  }
  int done = 0;
  auto start = steady::now();
  auto deadline = start + time_budget;
  while (done < max_count && steady::now() < deadline) {
    if (!step()) {
      std::fprintf(stderr, "ward_bench_pki: %s failed\n", name);
      return -1;
    }
    ++done;
  }
  double elapsed = std::chrono::duration<double>(steady::now() - start).count();
  return done / elapsed;
}

} // namespace

int main() {
  using namespace ward::pki;
  auto random = ward::system_random();
  auto now = std::chrono::system_clock::now();
  auto ca = certificate_authority::create_root("bench.ward.test", organisation{}, now, random);
  if (!ca) {
    std::fprintf(stderr, "ward_bench_pki: cannot create the root CA: %s\n",
                 ca.error().detail.c_str());
    return 1;
  }
  auto node_key = private_key::generate_rsa(2048);
  if (!node_key) {
    std::fprintf(stderr, "ward_bench_pki: cannot generate the node key: %s\n",
                 node_key.error().detail.c_str());
    return 1;
  }
  const public_key node_public(*node_key);
  const std::vector<std::string> addresses{"127.0.0.1"};

  double node_rate = rate_of("issue_node_identity", 5000, [&] {
    return ca
        ->issue_node_identity(node_public, "bench.ward.test", addresses,
                              std::chrono::system_clock::now())
        .has_value();
  });
  double keygen_rate = rate_of("generate_rsa(2048)", 200,
                               [] { return private_key::generate_rsa(2048).has_value(); });
  device_request request;
  request.common_name = "phone-bench";
  request.sans = {{subject_alt_name::kind::dns, "phone-bench.ward.test"}};
  request.key_bits = 2048;
  request.pkcs12_password = "Bench-Pkcs12-Pass";
  double device_rate = rate_of("issue_device", 200, [&] {
    return ca->issue_device(request, std::chrono::system_clock::now(), random).has_value();
  });

  std::printf("pki_node_identity_issuance_per_s %.1f\n", node_rate);
  std::printf("pki_rsa2048_keygen_per_s %.1f\n", keygen_rate);
  std::printf("pki_device_identity_issuance_per_s %.1f\n", device_rate);
  return node_rate > 0 && keygen_rate > 0 && device_rate > 0 ? 0 : 1;
}
