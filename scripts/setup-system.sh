#!/usr/bin/env bash
# System packages the tests use, from Debian's archive: the toolkit's PyTorch/ONNX toolchain and
# Fashion-MNIST, Prometheus (the metrics integration test), docker-compose (compose file check) and
# Chromium (the status page's browser test, driven by puppeteer-core, which downloads no browser).
# Installs only what is missing; a no-op on a machine that has them.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
need=()
/usr/bin/python3 -c "import torch, torchvision, onnx, yaml, PIL, pytest" 2>/dev/null \
  || need+=(python3-torch python3-torchvision python3-onnx python3-yaml python3-pil python3-pytest)
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
dpkg -s libopenblas0-openmp >/dev/null 2>&1 || need+=(libopenblas0-openmp)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ -x /usr/bin/chromium ] || need+=(chromium)
# Another apt or dpkg (unattended-upgrades, a second run) may hold the locks: wait for them, up to 10 minutes.
# install waits for dpkg's lock by itself with DPkg::Lock::Timeout; update (apt 2.6) does not wait for the
# lists lock, so it is retried. env, because sudo would drop DEBIAN_FRONTEND.
apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
update() {
  local waited=0
  until $SUDO "${apt[@]}" update -qq; do
    if [ "$waited" -ge 600 ]; then return 1; fi
    echo "setup-system: apt-get update failed (another apt holding its lock?); trying again in 10 s" >&2
    sleep 10
    waited=$((waited + 10))
  done
}
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-system: installing ${need[*]}" >&2
  update
  $SUDO "${apt[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
