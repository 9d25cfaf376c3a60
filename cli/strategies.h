// `emitlab strategies`: the bases, options and parameters, and what combinations promise.
#pragma once

#include <ostream>

namespace emitlab::cli {

int cmd_strategies(std::ostream& out, bool json);

}  // namespace emitlab::cli
