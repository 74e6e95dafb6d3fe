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
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-system: installing ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
