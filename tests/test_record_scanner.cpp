// The peer's TLS record scanner on its own: records listed as their last byte arrives, offsets
// of their headers, whatever the chunking, zero-length records, and the bounded history.
#define BOOST_TEST_MODULE record_scanner
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <span>
#include <vector>

#include "sim/record_scanner.h"

namespace sim = emitlab::sim;

namespace {

// A record header (content type, TLS 1.2 legacy version, length) and `length` body bytes.
void append_record(std::vector<std::uint8_t>& out, std::uint8_t type, std::uint16_t length) {
  out.insert(out.end(), {type, 0x03, 0x03, static_cast<std::uint8_t>(length >> 8),
                         static_cast<std::uint8_t>(length & 0xff)});
  out.insert(out.end(), length, 0xab);
}

// Three records: 17 bytes of application data, an empty one, 300 bytes of alert.
std::vector<std::uint8_t> stream() {
  std::vector<std::uint8_t> s;
  append_record(s, 23, 17);
  append_record(s, 23, 0);
  append_record(s, 21, 300);
  return s;
}

void expect_three_records(const sim::RecordScanner& scan) {
  BOOST_TEST_REQUIRE(scan.count() == 3U);
  BOOST_TEST_REQUIRE(scan.records().size() == 3U);
  const auto& r = scan.records();
  BOOST_TEST(r[0].offset == 0U);
  BOOST_TEST(r[0].content_type == 23);
  BOOST_TEST(r[0].length == 17);
  BOOST_TEST(r[1].offset == 22U);  // 5 + 17
  BOOST_TEST(r[1].length == 0);
  BOOST_TEST(r[2].offset == 27U);  // 22 + 5
  BOOST_TEST(r[2].content_type == 21);
  BOOST_TEST(r[2].length == 300);
  BOOST_TEST(scan.bytes() == 332U);
  BOOST_TEST(scan.at_record_end());
}

}  // namespace

BOOST_AUTO_TEST_CASE(records_in_one_chunk) {
  sim::RecordScanner scan(true);
  scan.scan(stream());
  expect_three_records(scan);
}

BOOST_AUTO_TEST_CASE(records_split_at_every_byte_boundary) {
  const auto s = stream();
  for (std::size_t chunk = 1; chunk <= 40; ++chunk) {
    BOOST_TEST_CONTEXT("chunk " << chunk) {
      sim::RecordScanner scan(true);
      for (std::size_t at = 0; at < s.size(); at += chunk) {
        scan.scan(std::span(s).subspan(at, std::min(chunk, s.size() - at)));
      }
      expect_three_records(scan);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_record_counts_only_once_its_last_byte_arrived) {
  const auto s = stream();
  sim::RecordScanner scan(true);
  scan.scan(std::span(s).first(4));  // inside the first header
  BOOST_TEST(scan.count() == 0U);
  BOOST_TEST(scan.header_fill() == 4U);
  scan.scan(std::span(s).subspan(4, 17));  // the header's last byte and 16 of 17 body bytes
  BOOST_TEST(scan.count() == 0U);
  BOOST_TEST(scan.body_left() == 1U);
  BOOST_TEST(!scan.at_record_end());
  scan.scan(std::span(s).subspan(21, 1));
  BOOST_TEST(scan.count() == 1U);
  BOOST_TEST(scan.at_record_end());
  scan.scan(std::span(s).subspan(22, 5));  // the empty record is complete with its header
  BOOST_TEST(scan.count() == 2U);
  BOOST_TEST(scan.at_record_end());
  scan.scan(std::span(s).subspan(27, 1));  // a byte past the last complete record
  BOOST_TEST(!scan.at_record_end());
}

BOOST_AUTO_TEST_CASE(without_history_only_the_last_record_is_kept) {
  sim::RecordScanner scan(false);
  scan.scan(stream());
  BOOST_TEST(scan.count() == 3U);
  BOOST_TEST_REQUIRE(scan.records().size() == 1U);
  BOOST_TEST(scan.records()[0].offset == 27U);
  BOOST_TEST(scan.last().length == 300);
  BOOST_TEST(scan.at_record_end());
}
