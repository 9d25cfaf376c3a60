#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12 packages. Idempotent and
# non-interactive: it only calls apt-get when a package is missing.
set -euo pipefail
packages=(
  g++ cmake ninja-build pkg-config git
  libssl-dev libnghttp2-dev
  librapidcheck-dev libboost-test-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libpcap-dev zlib1g-dev
  tshark
  valgrind python3 python3-matplotlib clang-format
  # Real sockets: the libuv server, the clients that test it and the servers it is measured beside.
  libuv1-dev nghttp2-client nghttp2-server curl nginx-light h2o linux-perf
  # Fuzzing with libFuzzer, ASan and UBSan.
  clang libclang-rt-14-dev
  # Campaigns on a one-machine Slurm cluster.
  slurm-wlm munge
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # tshark's package asks whether non-root users may capture; answer no, without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" |
    "${sudo_cmd[@]}" debconf-set-selections
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all dependencies present"
