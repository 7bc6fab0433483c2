// Memory and storage cost of the security settings per 1,000 service users.
#include "security/security_database.hpp"
#include "security/settings_codec.hpp"

#include <malloc.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdio>

int main() {
  using namespace ward::security;
  auto random = [](std::span<std::byte> out) {
    RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  };
  auto now = std::chrono::system_clock::now();
  // Hash cost does not change the stored size (the encoded hash has a fixed length); the
  // cheap cost keeps the benchmark short.
  auto defaults = security_database::factory_defaults(test_argon2_cost, now, random);
  if (!defaults)
    return 1;
  security_database database(std::move(*defaults), test_argon2_cost);
  auto policy = database.settings().service_policy;
  auto before = mallinfo2().uordblks;
  for (int i = 0; i < 1000; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "operator%04d", i);
    auto created = database.create_user(
        {name, "Birch-Lake-Hill-62", {"Administrator Group"}, account_setting::enabled, {}}, now);
    if (!created)
      return 1;
  }
  auto after = mallinfo2().uordblks;
  auto encoded = encode_settings(database.settings());
  std::printf("security_store_heap_bytes_per_1000_users %zu\n", after - before);
  std::printf("security_store_encoded_bytes_per_1000_users %zu\n", encoded.size());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i)
    (void)encode_settings(database.settings());
  auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      20;
  std::printf("security_store_encode_ms_at_1000_users %.2f\n", ms);
  (void)policy;
  return 0;
}
