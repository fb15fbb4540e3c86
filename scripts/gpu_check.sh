#!/bin/bash
# The device check of the CUDA backend (issue 16), for the GPU machine: one run, log and figures
# under $OUT (default ./gpu-check-out). What exists today is step (a) in fp32: every CUDA kernel
# against the CPU backend on the same inputs (tests/cuda/cuda_kernels_test.cpp). Attention, bf16,
# the model and trainer checks and the throughput figures are to come (src/cuda/README.md).
#
# Uses build/tests/cuda_kernels_test when it exists (carry `build` to the device, or just that
# file: it links CUDA's runtime and cuBLAS and OpenBLAS dynamically); otherwise configures and
# builds it in build-gpu (needs the project's Debian packages and Node for the configure).
#   bash scripts/gpu_check.sh            # exit status: 0 all pass, 1 a mismatch, 77 no device
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check-out}
mkdir -p "$OUT"
log="$OUT/gpu_check.log"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || echo "nvidia-smi: not available"
  test_bin=build/tests/cuda_kernels_test
  if [ ! -x "$test_bin" ]; then
    echo "building cuda_kernels_test in build-gpu"
    cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DLONGCTX_BUILD_BENCH=OFF -DLONGCTX_PYTHON=OFF >/dev/null &&
      cmake --build build-gpu -j "$(nproc)" --target cuda_kernels_test || { echo "build failed"; exit 2; }
    test_bin=build-gpu/tests/cuda_kernels_test
  fi
  "$test_bin"
} 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
