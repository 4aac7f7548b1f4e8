#!/usr/bin/env bash
# Installs the Debian packages bdrl needs, and only those that are missing.
# Prints what it installs; prints nothing and does nothing when all is there.
# With arguments, those packages instead (make deps-slurm: slurm-wlm munge).
set -euo pipefail
pkgs=(build-essential pkg-config libopenblas-dev libgsl-dev libyaml-dev libcmocka-dev gnuplot-nox valgrind
      libpython3-dev)
[ $# -gt 0 ] && pkgs=("$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps: not root and no sudo; run as root: apt-get install -y ${missing[*]}" >&2; exit 1; fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: installed ${missing[*]}"
