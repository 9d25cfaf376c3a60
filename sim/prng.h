// The world's pseudo-random generator: xoshiro256** seeded through splitmix64, written here so
// that the same seed gives the same stream in every build, library version and platform
// (std::mt19937 would too, but the distributions around it are implementation-defined).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

namespace emitlab::sim {

// splitmix64's output function: a strong 64-bit mixer, also used for hashing workload content.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Hash of a sequence of words, order-sensitive.
constexpr std::uint64_t mix_all(std::uint64_t a, std::uint64_t b) {
  return mix64(a ^ mix64(b));
}

// Hash of a byte string (length included), for state digests rather than content identity.
inline std::uint64_t digest_bytes(std::span<const std::uint8_t> bytes) {
  std::uint64_t h = mix64(bytes.size());
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, bytes.data() + i, 8);
    h = mix_all(h, w);
  }
  std::uint64_t tail = 0;
  if (i < bytes.size()) std::memcpy(&tail, bytes.data() + i, bytes.size() - i);  // never null
  return mix_all(h, tail);
}

class Xoshiro256 {
 public:
  explicit constexpr Xoshiro256(std::uint64_t seed) {
    std::uint64_t s = seed;
    for (auto& word : state_) {  // the splitmix64 sequence of `seed`
      word = mix64(s);
      s += 0x9e3779b97f4a7c15ULL;
    }
  }

  constexpr std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n) by multiply-shift on the top 32 bits (bias below 2^-32 * n: irrelevant
  // here, and exactly reproducible, which is what matters).
  constexpr std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32);
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
};

}  // namespace emitlab::sim
