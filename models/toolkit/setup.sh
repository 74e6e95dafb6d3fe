#!/usr/bin/env bash
# Installs the toolkit's toolchain from Debian's packages (nothing from PyPI).
# Run the toolkit with /usr/bin/python3: the first python3 on PATH may be another interpreter.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! /usr/bin/python3 -c "import torch, torchvision, onnx, yaml, PIL, pytest" 2>/dev/null \
   || [ ! -d /usr/share/datasets/fashion-mnist ] || ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  # libopenblas0-openmp: without it every nn.Linear runs on the slow reference BLAS.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch python3-torchvision python3-onnx \
    python3-yaml python3-pil python3-pytest dataset-fashion-mnist libopenblas0-openmp >/dev/null
fi
/usr/bin/python3 -c "import torch, torchvision, onnx; print(f'toolkit ready: torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}')"
