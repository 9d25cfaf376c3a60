// Incremental SHA-256 (OpenSSL's default provider; hashing draws no randomness), so a run's
// streams can be hashed as they pass without being kept.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace emitlab::sim {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::uint8_t> bytes);
  Digest digest() const;  // of everything so far; the hash can go on afterwards

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

Digest sha256(std::span<const std::uint8_t> bytes);
std::string hex(std::span<const std::uint8_t> bytes);
std::string sha256_hex(const std::vector<std::uint8_t>& bytes);

}  // namespace emitlab::sim
