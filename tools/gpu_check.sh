#!/usr/bin/env bash
# The prepared GPU check (run through the device tool from the repo root):
#   carry: [".wheels"]  (taichi 1.7.4 cp312 wheel + dill + pydicom + nibabel; make gpu-wheels fetches them)
#   command: bash tools/gpu_check.sh
# Installs medkern against the machine's numpy/scipy/cupy, runs the interop tests, then the
# test suite on CUDA, then the cupyx comparison. Results land in $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps .wheels/*.whl 2>&1 | tail -2
python3 -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
# zero-copy interop first (CuPy; torch parts skip where torch or its CUDA is absent), with
# the skip reasons, so its answer comes back even if the full run below times out
MEDKERN_ARCH=cuda timeout 150 python3 -m pytest -q -rs -p no:cacheprovider tests/test_interop.py \
  2>&1 | tail -30 | tee "$OUT/pytest_interop.txt"
MEDKERN_ARCH=cuda timeout 300 python3 -m pytest -q -x -m "not slow and not exhaustive" \
  -p no:cacheprovider tests 2>&1 | tail -25 | tee "$OUT/pytest_cuda.txt"
MEDKERN_ARCH=cuda timeout 200 python3 tools/gpu_vs_cupy.py --repeat 5 | tee "$OUT/gpu_vs_cupy.txt"
