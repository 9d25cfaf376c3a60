// The wire's sizes, named once. Every other file that needs a record, frame or ring size reads it
// from here; the relations the emitters rely on are checked at compile time below.
#pragma once

#include <cstddef>

namespace emitlab {

// TLS 1.3 (RFC 8446 5.1, 5.2): a record carries at most 2^14 plaintext bytes; on the wire it
// adds a 5-byte header, the inner content-type byte and the AEAD's 16-byte tag.
inline constexpr std::size_t kMaxRecordPlaintext = 16384;
inline constexpr std::size_t kTlsRecordHeader = 5;
inline constexpr std::size_t kTls13RecordOverhead = kTlsRecordHeader + 1 + 16;
inline constexpr std::size_t kMaxRecordWire = kMaxRecordPlaintext + kTls13RecordOverhead;

// HTTP/2 (RFC 9113 4.1): a 9-byte frame header; the largest DATA payload emitlab sends is the
// default SETTINGS_MAX_FRAME_SIZE, which the server also advertises.
inline constexpr std::size_t kFrameHeader = 9;
inline constexpr std::size_t kMaxFramePayload = 16384;
inline constexpr std::size_t kMaxFrame = kMaxFramePayload + kFrameHeader;

// Drain's buffer (upstream 5b91e82): one full frame plus room for the control frames around it.
inline constexpr std::size_t kDrainBufferSlack = 256;
inline constexpr std::size_t kDrainBuffer = kMaxFrame + kDrainBufferSlack;

// One cipher ring slot: a full record on the wire plus slack (upstream's 17 KiB).
inline constexpr std::size_t kRecordSlot = 17408;
// The cipher-out ring when no record count is configured.
inline constexpr std::size_t kDefaultCipherOut = 65536;
inline constexpr std::size_t kMaxCipherOutRecords = 16;

// Gather's fixed stage: one record's plaintext, so a pass that fits it is one SSL_write's worth.
inline constexpr std::size_t kGatherStage = kMaxRecordPlaintext;

// The cap rule of gather (A4): the cap is checked before each append, so a pass carries at most
// cap - 1 bytes plus the one frame that crosses it, at most a full DATA frame.
constexpr std::size_t gather_worst_pass(std::size_t cap) {
  return cap - 1 + kMaxFrame;
}

static_assert(kMaxRecordWire == 16406, "a TLS 1.3 record of 16384 bytes is 16406 on the wire");
static_assert(kMaxFrame == 16393 && kDrainBuffer == 16649);
static_assert(kMaxFramePayload <= kMaxRecordPlaintext,
              "a full DATA payload fits one record's plaintext");
static_assert(kDrainBuffer > kMaxFrame, "drain's buffer takes a whole frame and its neighbours");
static_assert(kRecordSlot >= kMaxRecordWire, "a cipher ring slot holds one full record");
static_assert(kDefaultCipherOut >= kRecordSlot, "the default cipher-out ring holds a record");
static_assert(kGatherStage >= kMaxFramePayload);
static_assert(gather_worst_pass(kGatherStage) == kGatherStage - 1 + kFrameHeader + kGatherStage);

}  // namespace emitlab
