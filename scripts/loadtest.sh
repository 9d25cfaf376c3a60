#!/bin/bash
# Upstream's benchmark on real sockets: h2load -t 1 -c 100 -m 32 against `emitlab serve` for each
# strategy and body size, beside nghttpd, nginx and h2o. `scripts/loadtest.sh --help` says how;
# the driver is scripts/loadtest/loadtest.py (Debian's python3 with python3-matplotlib).
exec /usr/bin/python3 "$(dirname "$0")/loadtest/loadtest.py" "$@"
