// Lists the TLS records of a ciphertext stream as their last byte arrives, across any chunking,
// without decrypting anything: what the peer (and the world's checks) know of record framing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace emitlab::sim {

// One TLS record of the stream; offset is that of its 5-byte header.
struct RecordInfo {
  std::uint64_t offset;
  std::uint8_t content_type;
  std::uint16_t length;
};

class RecordScanner {
 public:
  static constexpr std::size_t kHeaderSize = 5;  // content type, version, 16-bit length

  // keep_all: records() holds every complete record; else only the last one.
  explicit RecordScanner(bool keep_all) : keep_all_(keep_all) {}

  void scan(std::span<const std::uint8_t> ciphertext);

  const std::vector<RecordInfo>& records() const { return records_; }
  std::uint64_t count() const { return count_; }    // complete records so far
  const RecordInfo& last() const { return last_; }  // valid when count() > 0
  std::uint64_t bytes() const { return bytes_; }    // everything scanned
  // The stream ends exactly where its last complete record does.
  bool at_record_end() const;
  // Where the scan stands inside a record (for the explorer's state digest).
  std::size_t header_fill() const { return header_fill_; }
  std::uint64_t body_left() const { return body_left_; }

 private:
  void add(const RecordInfo& record);

  bool keep_all_;
  std::vector<RecordInfo> records_;
  std::uint64_t count_ = 0;
  RecordInfo last_{};
  std::uint64_t bytes_ = 0;
  std::array<std::uint8_t, kHeaderSize> header_{};  // the header being read across chunks
  std::size_t header_fill_ = 0;
  RecordInfo pending_{};
  std::uint64_t body_left_ = 0;
};

}  // namespace emitlab::sim
