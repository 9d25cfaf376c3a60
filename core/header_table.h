// The header table of a request or response: an ordered list of name/value pairs.
#pragma once

#include <string>
#include <vector>

namespace emitlab {

struct HeaderField {
  std::string name;
  std::string value;
  bool operator==(const HeaderField&) const = default;
};

using HeaderTable = std::vector<HeaderField>;

}  // namespace emitlab
