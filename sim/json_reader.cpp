#include "sim/json_reader.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "core/echo.h"

namespace emitlab::sim {
namespace {

using Json = nlohmann::json;

// Builds the document as nlohmann's own DOM parser would, refusing what the strict rules
// refuse. nlohmann's parser keeps its own nesting on a heap stack; this handler does too, so no
// input makes either recurse.
class StrictDom {
 public:
  explicit StrictDom(const JsonLimits& limits) : limits_(limits) {}
  Json root;
  std::string error;

  bool null() { return put(nullptr); }
  bool boolean(bool v) { return put(v); }
  bool number_integer(Json::number_integer_t v) { return put(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return put(v); }
  bool number_float(Json::number_float_t v, const Json::string_t&) { return put(v); }
  bool string(Json::string_t& v) { return put(std::move(v)); }
  bool binary(Json::binary_t& v) { return put(Json::binary(std::move(v))); }
  bool start_object(std::size_t) { return open(Json::object()); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(Json::string_t& k) {
    if (open_.back()->contains(k)) {
      error = "duplicate key " + echo(k);
      return false;
    }
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 9: ...";
    // the id helps no user, and the token it quotes may be long.
    std::string what = e.what();
    if (const auto close = what.find("] "); close != std::string::npos) what.erase(0, close + 2);
    error = "not JSON at byte " + std::to_string(byte) + ": " + printable(what, 160);
    return false;
  }

 private:
  bool put(Json v) {
    place(std::move(v));
    return true;
  }
  Json* place(Json v) {
    if (open_.empty()) {
      root = std::move(v);
      return &root;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    return &(parent[key_] = std::move(v));
  }
  bool open(Json v) {
    if (open_.size() >= limits_.max_depth) {
      error = "nested deeper than " + std::to_string(limits_.max_depth) + " levels";
      return false;
    }
    // The parent does not grow while this child is open, so the pointer stays valid.
    open_.push_back(place(std::move(v)));
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  const JsonLimits& limits_;
  std::vector<Json*> open_;
  std::string key_;
};

struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

JsonRead read_json(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return {std::nullopt, "larger than " + std::to_string(limits.max_bytes) + " bytes"};
  }
  StrictDom dom(limits);
  bool ok = false;
  try {
    ok = Json::sax_parse(text, &dom, Json::input_format_t::json, true);
  } catch (const std::exception& e) {  // nlohmann reports through parse_error; belt and braces
    return {std::nullopt, "not JSON: " + printable(e.what(), 160)};
  }
  if (!ok) return {std::nullopt, dom.error.empty() ? "not JSON" : dom.error};
  return {std::move(dom.root), {}};
}

FileRead read_text_file(const std::string& path, std::size_t max_bytes) {
  errno = 0;
  const std::unique_ptr<std::FILE, FileClose> f(std::fopen(path.c_str(), "rb"));
  if (!f) return {std::nullopt, std::string("cannot be read: ") + std::strerror(errno)};
  std::string text;
  char buf[65536];
  while (text.size() <= max_bytes) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
    if (n == 0) break;
    text.append(buf, n);
  }
  if (std::ferror(f.get()) != 0) {
    return {std::nullopt, std::string("cannot be read: ") + std::strerror(errno)};
  }
  if (text.size() > max_bytes) {
    return {std::nullopt, "is larger than " + std::to_string(max_bytes) + " bytes"};
  }
  return {std::move(text), {}};
}

std::string echo_json(const Json& value) {
  if (value.is_string()) {
    // Cut before dumping: a 100 MB string is not copied into an error line.
    const auto& s = value.get_ref<const std::string&>();
    return Json(s.substr(0, kMaxEcho)).dump() +
           (s.size() > kMaxEcho ? "...(" + std::to_string(s.size()) + " bytes)" : "");
  }
  return printable(value.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace emitlab::sim
