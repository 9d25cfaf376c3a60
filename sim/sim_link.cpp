#include "sim/sim_link.h"

#include <utility>

namespace emitlab::sim {

SimLink::SimLink(const Options& options)
    : buffer_(options.buffer),
      listener_(options.listener),
      hash_(options.hash ? std::make_unique<Sha256>() : nullptr) {}

void SimLink::submit(std::span<const std::uint8_t> ciphertext) {
  overlapped_ = overlapped_ || !inflight_.empty();
  inflight_ = ciphertext;
  submitted_ += ciphertext.size();
  if (hash_) hash_->update(ciphertext);
  if (listener_ != nullptr) listener_->on_submit(ciphertext);
}

std::span<const std::uint8_t> SimLink::take() {
  blocked_ = false;
  return std::exchange(inflight_, {});
}

bool SimLink::has_room(std::size_t bytes) const {
  return to_peer_.empty() || to_peer_.size() + bytes <= buffer_;
}

void SimLink::drop() {
  inflight_ = {};
  to_peer_.clear();
  to_server_.clear();
}

std::optional<Digest> SimLink::digest() const {
  if (!hash_) return std::nullopt;
  return hash_->digest();
}

}  // namespace emitlab::sim
