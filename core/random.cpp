#include "core/random.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace ward {

random_source system_random() {
  return [](std::span<std::byte> out) {
    if (out.empty())
      return;
    // A failing DRBG leaves no safe way to continue: nothing may be issued with
    // predictable serials or salts.
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size())) != 1)
      throw std::runtime_error("RAND_bytes failed: the system random generator is unavailable");
  };
}

} // namespace ward
