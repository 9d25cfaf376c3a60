// SIGINT and SIGTERM stop the world at its next event instead of killing the process, so that
// every output is flushed and closed and the summary of what ran is printed. A second signal of
// the same kind kills as usual (the handler is reset once it has fired).
#pragma once

#include <atomic>

namespace emitlab::cli {

// Installs the handlers; the flag reads true once a signal arrived (pass it as RunOptions::stop).
const std::atomic<bool>& stop_on_signals();
// The signal that arrived, or 0.
int stop_signal();
// 128 + the signal: the status a shell reports for a process the signal ended (130, 143).
int interrupted_status();

}  // namespace emitlab::cli
