// The simulator's name for the body pattern, which lives in core/ so that the real-socket
// server can send the same bytes without depending on sim/.
#pragma once

#include "core/body_pattern.h"

namespace emitlab::sim {

using emitlab::body_byte;
using emitlab::fill_body;
using emitlab::make_body;

}  // namespace emitlab::sim
