#include "sim/replay.h"

#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include <array>

#include "core/echo.h"
#include "emitlab_build_commit.h"  // generated at every build: EMITLAB_COMMIT
#include "sim/world.h"

namespace emitlab::sim {
namespace {

constexpr std::string_view kPrefix = "emitlab1.";
constexpr std::string_view kMagic = "EMR1";
// What a token may unpack to: its build strings, a scenario and a choice list. A larger claim is
// refused before anything is allocated for it.
constexpr std::size_t kMaxPayload = kMaxScenarioBytes + ReplayToken::kMaxListBytes + 4096;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

class Writer {
 public:
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void varint(std::uint64_t v) {
    for (; v >= 0x80; v >>= 7) byte(static_cast<std::uint8_t>(v | 0x80));
    byte(static_cast<std::uint8_t>(v));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void raw(std::string_view s) { out_.append(s); }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::uint8_t byte() {
    if (pos_ >= in_.size()) return fail(), 0;
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64 && ok_; shift += 7) {
      const std::uint8_t b = byte();
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail(), 0;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(byte()) << (8 * i);
    return v;
  }
  std::string str() {
    const std::uint64_t n = varint();
    if (!ok_ || n > in_.size() - pos_) return fail(), std::string{};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::string_view rest() const { return in_.substr(pos_); }

 private:
  void fail() { ok_ = false; }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

std::string base64url(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    acc = (acc << 8) | static_cast<std::uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::optional<std::string> unbase64url(std::string_view in) {
  std::array<int, 256> value{};
  value.fill(-1);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i)
    value[static_cast<std::uint8_t>(kAlphabet[i])] = static_cast<int>(i);
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    const int v = value[static_cast<std::uint8_t>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string deflate(const std::string& raw) {
  uLongf size = compressBound(raw.size());
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                reinterpret_cast<const Bytef*>(raw.data()), raw.size(), 9) != Z_OK) {
    return {};
  }
  out.resize(size);
  return out;
}

std::optional<std::string> inflate(std::string_view packed, std::uint64_t raw_size) {
  if (raw_size > kMaxPayload) return std::nullopt;
  std::string out(raw_size, '\0');
  uLongf size = raw_size;
  if (uncompress(reinterpret_cast<Bytef*>(out.data()), &size,
                 reinterpret_cast<const Bytef*>(packed.data()), packed.size()) != Z_OK ||
      size != raw_size) {
    return std::nullopt;
  }
  return out;
}

std::string encode_choices(const std::vector<Choice>& list) {
  Writer w;
  w.varint(list.size());
  for (const Choice& c : list) {
    w.byte(static_cast<std::uint8_t>(c.label));
    w.varint(c.n);
    w.varint(c.index);
  }
  return w.bytes();
}

TokenParse bad(std::string why) {
  return {std::nullopt, "bad replay token: " + why};
}

}  // namespace

std::string BuildIdentity::text() const {
  // A token's identity is whatever its bytes say: escaped and cut like any echoed value.
  return "commit " + printable(commit) + ", " + printable(openssl) + ", nghttp2 " +
         printable(nghttp2);
}

BuildIdentity this_build() {
  return {EMITLAB_COMMIT, OpenSSL_version(OPENSSL_VERSION), nghttp2_version(0)->version_str};
}

ReplayToken token_of(const RunResult& run) {
  ReplayToken t;
  t.build = this_build();
  t.scenario = run.scenario;
  t.choice_count = run.choices.count;
  t.choice_digest = run.choices.digest;
  if (run.choices.complete &&
      encode_choices(run.choices.list).size() <= ReplayToken::kMaxListBytes) {
    t.choices = run.choices.list;
  }
  return t;
}

std::string encode(const ReplayToken& t) {
  Writer w;
  w.raw(kMagic);
  w.str(t.build.commit);
  w.str(t.build.openssl);
  w.str(t.build.nghttp2);
  w.str(canonical_json(t.scenario, -1));
  w.byte(t.choices ? 1 : 0);
  w.varint(t.choice_count);
  w.u64(t.choice_digest);
  if (t.choices) w.raw(encode_choices(*t.choices));
  Writer framed;
  framed.varint(w.bytes().size());
  framed.raw(deflate(w.bytes()));
  return std::string(kPrefix) + base64url(framed.bytes());
}

TokenParse decode(std::string_view text) {
  if (text.size() > kMaxTokenChars) {
    return bad("longer than " + std::to_string(kMaxTokenChars) + " characters");
  }
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return bad("it does not start with '" + std::string(kPrefix) + "'");
  }
  const auto framed = unbase64url(text.substr(kPrefix.size()));
  if (!framed) return bad("a character outside base64url (A-Z a-z 0-9 - _)");
  Reader outer(*framed);
  const std::uint64_t raw_size = outer.varint();
  const auto raw = outer.ok() ? inflate(outer.rest(), raw_size) : std::nullopt;
  if (!raw) return bad("it is truncated or corrupt (the compressed payload does not unpack)");
  Reader r(*raw);
  if (raw->substr(0, kMagic.size()) != kMagic) return bad("unknown payload version");
  for (std::size_t i = 0; i < kMagic.size(); ++i) r.byte();
  ReplayToken t;
  t.build.commit = r.str();
  t.build.openssl = r.str();
  t.build.nghttp2 = r.str();
  const std::string scenario_json = r.str();
  const std::uint8_t form = r.byte();
  t.choice_count = r.varint();
  t.choice_digest = r.u64();
  if (form == 1) {
    const std::uint64_t k = r.varint();
    if (!r.ok() || k > raw->size()) return bad("its choice list is truncated");
    std::vector<Choice> list;
    list.reserve(k);
    for (std::uint64_t i = 0; i < k && r.ok(); ++i) {
      const std::uint8_t label = r.byte();
      const std::uint64_t n = r.varint();
      const std::uint64_t index = r.varint();
      if (label >= kDecisions || n > 0xFFFFFFFFULL || index >= n) return bad("a malformed choice");
      list.push_back({static_cast<Decision>(label), static_cast<std::uint32_t>(n),
                      static_cast<std::uint32_t>(index)});
    }
    t.choices = std::move(list);
  } else if (form != 0) {
    return bad("unknown choice form " + std::to_string(form));
  }
  if (!r.ok() || !r.at_end()) return bad("its payload is truncated or has trailing bytes");
  ScenarioParse parsed = parse_scenario(scenario_json);
  if (!parsed.scenario) return bad("its scenario does not read in this build: " + parsed.error);
  t.scenario = *parsed.scenario;
  return {std::move(t), {}};
}

std::string replay_mismatch(const ReplayToken& t, const RunResult& run) {
  if (run.replay_diverged) return run.failure;
  if (run.choices.count == t.choice_count && run.choices.digest == t.choice_digest) return {};
  return "replay diverged: the recorded run made " + std::to_string(t.choice_count) +
         " choices, this one made " + std::to_string(run.choices.count) +
         (run.choices.count == t.choice_count ? " with other answers" : "");
}

}  // namespace emitlab::sim
