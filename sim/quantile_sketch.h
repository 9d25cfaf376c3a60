// A bounded quantile sketch for the run's distributions (time to first and last byte,
// emitter allocations per pass), so a summary needs no list that grows with the run.
//
// Log-linear buckets (HdrHistogram's layout): values below kExact are counted exactly; above,
// each power of two is cut into kSubBuckets equal buckets, so a bucket spans less than
// 1/kSubBuckets of its values. A quantile is reported as the highest value of its bucket, capped
// by the exact maximum: it is never below the true nearest-rank value and at most
// 1/kSubBuckets (0.79%) above it. Count, sum (so the mean), minimum and maximum are exact.
// Recording is commutative: the same values in any order give the same sketch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace emitlab::sim {

class QuantileSketch {
 public:
  static constexpr unsigned kSubBucketBits = 7;
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;  // per octave
  static constexpr std::uint64_t kExact = 2 * kSubBuckets;  // below this every value is a bucket
  // Octaves above kExact: values of bit width kSubBucketBits + 2 .. 64.
  static constexpr std::size_t kOctaves = 64 - (kSubBucketBits + 1);
  static constexpr std::size_t kBuckets = kExact + kOctaves * kSubBuckets;
  static_assert(kBuckets * sizeof(std::uint64_t) <= 64 * 1024, "a sketch stays small");

  void add(std::uint64_t value);
  std::uint64_t count() const { return count_; }
  double mean() const;
  std::uint64_t max() const { return max_; }
  // Nearest rank, as sim::quantiles (summary.h); 0 for an empty sketch. p in (0, 1].
  std::uint64_t quantile(double p) const;

  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t highest_in(std::size_t bucket);

 private:
  // Grown to the highest bucket used (at most kBuckets): a sketch is built per run and per
  // checked run, and zeroing 58 KiB each time was 9% of a model-checker schedule.
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  // The sum wraps only past 2^64 (10^7 requests of 1.8e12 ns each); the mean is then wrong, not UB.
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace emitlab::sim
