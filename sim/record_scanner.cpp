#include "sim/record_scanner.h"

#include <algorithm>

namespace emitlab::sim {

void RecordScanner::scan(std::span<const std::uint8_t> ciphertext) {
  std::uint64_t at = bytes_;
  bytes_ += ciphertext.size();
  while (!ciphertext.empty()) {
    if (body_left_ > 0) {
      const std::size_t take = std::min<std::uint64_t>(body_left_, ciphertext.size());
      body_left_ -= take;
      ciphertext = ciphertext.subspan(take);
      at += take;
      if (body_left_ == 0) add(pending_);
      continue;
    }
    header_[header_fill_++] = ciphertext.front();
    ciphertext = ciphertext.subspan(1);
    ++at;
    if (header_fill_ < kHeaderSize) continue;
    header_fill_ = 0;
    const auto length = static_cast<std::uint16_t>((header_[3] << 8) | header_[4]);
    pending_ = {at - kHeaderSize, header_[0], length};
    body_left_ = length;
    if (length == 0) add(pending_);
  }
}

bool RecordScanner::at_record_end() const {
  return count_ > 0 && bytes_ == last_.offset + kHeaderSize + last_.length;
}

void RecordScanner::add(const RecordInfo& record) {
  ++count_;
  last_ = record;
  if (keep_all_) {
    records_.push_back(record);
  } else {
    records_.assign(1, record);
  }
}

}  // namespace emitlab::sim
