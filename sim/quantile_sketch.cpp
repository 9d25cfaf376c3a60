#include "sim/quantile_sketch.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace emitlab::sim {

std::size_t QuantileSketch::bucket_of(std::uint64_t value) {
  if (value < kExact) return static_cast<std::size_t>(value);
  // value has bit width w >= kSubBucketBits + 2; shifting by w - kSubBucketBits - 1 leaves its
  // top kSubBucketBits + 1 bits, in [kSubBuckets, 2 * kSubBuckets).
  const auto width = static_cast<unsigned>(std::bit_width(value));
  const unsigned shift = width - kSubBucketBits - 1;
  const std::uint64_t top = value >> shift;
  return static_cast<std::size_t>(kExact + (shift - 1) * kSubBuckets + (top - kSubBuckets));
}

std::uint64_t QuantileSketch::highest_in(std::size_t bucket) {
  if (bucket < kExact) return bucket;
  const std::size_t above = bucket - kExact;
  const unsigned shift = static_cast<unsigned>(above / kSubBuckets) + 1;
  const std::uint64_t top = kSubBuckets + above % kSubBuckets;
  return ((top + 1) << shift) - 1;  // wraps to 2^64 - 1 for the last bucket, as it should
}

void QuantileSketch::add(std::uint64_t value) {
  const std::size_t bucket = bucket_of(value);
  if (bucket >= counts_.size()) counts_.resize(bucket + 1, 0);
  ++counts_[bucket];
  ++count_;
  sum_ += value;
  max_ = std::max(max_, value);
}

double QuantileSketch::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

std::uint64_t QuantileSketch::quantile(double p) const {
  if (count_ == 0) return 0;
  // The same rank as sim::quantiles: ceil(p * n), at least 1.
  const auto want = std::clamp<std::uint64_t>(
      static_cast<std::uint64_t>(p * static_cast<double>(count_) + 0.999999), 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen >= want) return std::min(highest_in(b), max_);
  }
  return max_;
}

}  // namespace emitlab::sim
