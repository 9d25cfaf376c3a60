// How text a user gave is quoted back in an error line: control characters escaped (\n, \t,
// \xHH), so an error stays one line and cannot drive the terminal, and cut to kMaxEcho bytes so
// a 100 MB value does not become a 100 MB line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace emitlab {

inline constexpr std::size_t kMaxEcho = 80;

// 'text' in single quotes, escaped and cut ("...(N bytes)" says how long it was).
std::string echo(std::string_view text);
// The same without the quotes, for text that is not a value (a build name, a message).
std::string printable(std::string_view text, std::size_t max = kMaxEcho);

}  // namespace emitlab
