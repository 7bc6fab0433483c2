// The bounded, seeded mutation loop every standalone fuzz target shares: include it once,
// after defining `std::vector<std::string> make_corpus()` and `void exercise(std::string_view)`
// in an anonymous namespace. Usage of the resulting binary:
//   TARGET [iterations=20000] [seconds=300] [seed]
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

/// One seeded mutation of `input`: bit flips, boundary bytes, truncation, insertion,
/// deletion, duplication or a splice with another corpus entry.
std::string mutate(std::string input, const std::vector<std::string>& corpus,
                   std::mt19937_64& engine) {
  auto below = [&](std::size_t bound) {
    return bound == 0 ? std::size_t{0} : static_cast<std::size_t>(engine() % bound);
  };
  int steps = 1 + static_cast<int>(below(3));
  for (int step = 0; step < steps; ++step) {
    switch (below(7)) {
      case 0: // bit flips
        for (std::size_t flips = 1 + below(8); flips > 0 && !input.empty(); --flips)
          input[below(input.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1: { // a boundary value where DER keeps lengths and tags
        static constexpr unsigned char values[] = {0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0xff};
        if (!input.empty())
          input[below(input.size())] = static_cast<char>(values[below(sizeof(values))]);
        break;
      }
      case 2: // truncation
        input.resize(below(input.size() + 1));
        break;
      case 3: { // random bytes inserted
        std::string noise(1 + below(16), '\0');
        for (auto& c : noise)
          c = static_cast<char>(engine());
        input.insert(below(input.size() + 1), noise);
        break;
      }
      case 4: // a range deleted
        if (!input.empty()) {
          auto at = below(input.size());
          input.erase(at, 1 + below(std::min<std::size_t>(64, input.size() - at)));
        }
        break;
      case 5: // a range duplicated
        if (!input.empty()) {
          auto at = below(input.size());
          auto length = 1 + below(std::min<std::size_t>(64, input.size() - at));
          input.insert(at, input.substr(at, length));
        }
        break;
      default: { // splice with another entry
        const auto& other = corpus[below(corpus.size())];
        input = input.substr(0, below(input.size() + 1)) + other.substr(below(other.size() + 1));
        break;
      }
    }
  }
  // Inputs grow with insertions and splices; a bound keeps every iteration cheap.
  if (input.size() > 64 * 1024)
    input.resize(64 * 1024);
  return input;
}

} // namespace

int main(int argc, char** argv) {
  long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 20000;
  long seconds = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 300;
  auto seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 20260101ULL;
  if (iterations < 1 || iterations > 100'000'000 || seconds < 1) {
    std::fprintf(stderr, "usage: %s [iterations=20000] [seconds=300] [seed]\n", argv[0]);
    return 2;
  }
  auto corpus = make_corpus();
  if (corpus.empty()) {
    std::fprintf(stderr, "cannot build the seed corpus\n");
    return 1;
  }
  long inputs = 0;
  for (const auto& entry : corpus) {
    exercise(entry);
    ++inputs;
  }
  std::mt19937_64 engine(seed);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (long i = 0; i < iterations; ++i) {
    if (i % 256 == 0 && std::chrono::steady_clock::now() > deadline) {
      std::printf("time budget of %ld s reached\n", seconds);
      break;
    }
    exercise(mutate(corpus[engine() % corpus.size()], corpus, engine));
    ++inputs;
  }
  std::printf("%ld inputs, 0 crashes\n", inputs);
  return 0;
}
