#!/usr/bin/env bash
# On a CUDA machine with PyTorch but no Qt (../shared/device/README.md): builds the engine, its
# tests and benchmarks against PyTorch's LibTorch, runs the gpu-labelled tests and the
# benchmarks, and writes everything under ${OUT:-/tmp/kiln-gpu}. Needs .device/include with
# nlohmann/json.hpp and doctest/doctest.h (scripts/prepare-device.sh copies them here).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/kiln-gpu}
mkdir -p "$out"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
} > "$out/device.txt" 2>&1
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_CORE_ONLY=ON -DKILN_LIBTORCH=system \
  -DCMAKE_PREFIX_PATH="$prefix" > "$out/configure.log" 2>&1 &&
cmake --build build/gpu -j "$(nproc)" > "$out/build.log" 2>&1
echo "build: $?" >> "$out/results.txt"
(cd build/gpu && ctest -L gpu --output-on-failure) > "$out/gpu-tests.log" 2>&1
echo "gpu tests: $?" >> "$out/results.txt"
(cd build/gpu && ctest -L unit -j "$(nproc)" --output-on-failure) > "$out/unit-tests.log" 2>&1
echo "unit tests: $?" >> "$out/results.txt"
build/gpu/bench/bench_gemm 4096 > "$out/bench_gemm.txt" 2>&1
# SD 1.5 512x512 txt2img (random full-size weights, 20 steps, CFG 7) in fp16 and bf16, and fp32
# for the ratio; the VAE decode is one of its stages.
for dtype in fp16 bf16 fp32; do
  build/gpu/bench/bench_txt2img 20 512 cuda "$dtype" > "$out/bench_txt2img_cuda_$dtype.txt" 2>&1
done
build/gpu/bench/bench_weight_open 2 /tmp > "$out/bench_weight_open.txt" 2>&1
# One full-size SD 1.5 DreamBooth UNet step at 512, fp16 and bf16 mixed precision; the card's
# peak memory from nvidia-smi sampled every 100 ms while it runs (the C++ API has no stable
# allocator statistics across LibTorch versions).
for precision in fp16 bf16; do
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > "$out/train-$precision-mem.csv" 2>/dev/null &
  smi=$!
  build/gpu/bench/bench_train full 512 cuda "$precision" 5 > "$out/bench_train_$precision.txt" 2>&1
  kill "$smi" 2>/dev/null
  echo "peak nvidia-smi memory.used (MiB): $(sort -n "$out/train-$precision-mem.csv" | tail -1)" >> "$out/bench_train_$precision.txt"
done
build/gpu/bench/bench_train full 512 cuda fp16 5 checkpointing > "$out/bench_train_fp16_checkpointing.txt" 2>&1
build/gpu/bench/bench_train tiny 20 > "$out/bench_train_tiny.txt" 2>&1
cat "$out/device.txt" "$out/results.txt" "$out"/bench_*.txt
