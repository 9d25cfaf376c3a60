#include "core/echo.h"

namespace emitlab {

std::string printable(std::string_view text, std::size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t taken = 0;
  for (; taken < text.size() && out.size() < max; ++taken) {
    const auto c = static_cast<unsigned char>(text[taken]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (taken < text.size()) out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}

std::string echo(std::string_view text) {
  return "'" + printable(text) + "'";
}

}  // namespace emitlab
