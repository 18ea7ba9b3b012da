#!/usr/bin/env bash
# Kiln beside diffusers in one run (issue 15): Kiln's bench_unet_vae and bench_txt2img, then
# bench_diffusers.py on the same random SD 1.5 weights and the same torch, alternating where it
# matters, then one table: each goal row with Kiln, diffusers, their ratio, the goal and met/not met.
#
#   bench/compare/run.sh [--only unet,vae,txt2img,load,rss] [--repeats N] [--rounds N]
#                        [--load-repeats N] [--size PX] [--steps N] [--smoke] [--no-bf16]
#                        [--preset ci] [--build] [--out DIR]
#
#   --only          groups to run (default all): unet = UNet step rows, vae = VAE decode rows,
#                   txt2img = the 20-step txt2img row (and fp32 peak RSS), load = opening the
#                   single file, rss = peak RSS rows (adds the bf16 txt2img)
#   --repeats N     timed calls per UNet/VAE variant, median (default 3)
#   --rounds N      Kiln, diffusers, Kiln, diffusers, ... for the UNet step and VAE (default 2)
#   --load-repeats  fresh processes per load measurement, median (default 3)
#   --smoke         128x128, 2 steps, 1 repeat, 1 round, 1 load: checks that it all runs (minutes)
#   --no-bf16       skip bf16 (skipped anyway where the CPU lacks avx512_bf16/amx_bf16)
#   --preset NAME   the CMake preset whose build/NAME holds the benches (default ci)
#   --build         configure and build bench_unet_vae and bench_txt2img first (niced)
#   --out DIR       where log.txt, results.jsonl and table.md go
#                   (default $TMPDIR/kiln-bench-compare/<date-time>)
#
# The model: $TMPDIR/kiln-bench-sd15 (made by bench_txt2img once if missing). The diffusers venv:
# setup.sh (installs requirements.txt once). KILN_THREADS sets the threads of both tools.
set -euo pipefail
# The whole script is one function, read before it runs: editing this file cannot change a run.
main() {
  here=$(cd "$(dirname "$0")" && pwd)
  root=$(cd "$here/../.." && pwd)

  fail() {
    echo "bench/compare: $*" >&2
    exit 1
  }

  only=unet,vae,txt2img,load,rss
  repeats=3 rounds=2 load_repeats=3 size=512 steps=20 preset=ci build=0 bf16=auto out=
  for a in "$@"; do [ "$a" = --smoke ] && repeats=1 rounds=1 load_repeats=1 size=128 steps=2; done
  while [ $# -gt 0 ]; do
    case $1 in
      --only) only=${2:?--only needs a list}; shift ;;
      --repeats) repeats=${2:?}; shift ;;
      --rounds) rounds=${2:?}; shift ;;
      --load-repeats) load_repeats=${2:?}; shift ;;
      --size) size=${2:?}; shift ;;
      --steps) steps=${2:?}; shift ;;
      --preset) preset=${2:?}; shift ;;
      --out) out=${2:?}; shift ;;
      --smoke) ;;
      --no-bf16) bf16=no ;;
      --build) build=1 ;;
      -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
      *) fail "unknown argument $1 (--help lists them)" ;;
    esac
    shift
  done
  for n in "$repeats" "$rounds" "$load_repeats" "$size" "$steps"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || fail "counts and sizes must be positive whole numbers, not '$n'"
  done
  if [ $((size % 8)) -ne 0 ] || [ "$size" -lt 128 ]; then fail "--size must be a multiple of 8, at least 128 (Kiln refuses smaller SD 1.5 images)"; fi
  IFS=, read -r -a groups <<<"$only"
  for g in "${groups[@]}"; do
    case $g in unet | vae | txt2img | load | rss) ;; *) fail "--only: unknown group '$g' (unet, vae, txt2img, load, rss)" ;; esac
  done
  want() { [[ ",$only," == *",$1,"* ]]; }
  if [ "$bf16" = auto ]; then
    # As Kiln decides (core/base/runtime_info.cpp), KILN_ASSUME_NO_BF16=1 included.
    if [ "${KILN_ASSUME_NO_BF16:-}" != 1 ] && grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then bf16=yes; else
      bf16=no
      echo "bench/compare: this CPU has no native bf16 (avx512_bf16/amx_bf16): the bf16 rows are skipped" >&2
    fi
  fi
  no_bf16=()
  [ "$bf16" = yes ] || no_bf16=(--no-bf16)

  bin=$root/build/$preset/bench
  if [ "$build" = 1 ]; then
    (cd "$root" && cmake --preset "$preset" >/dev/null &&
      nice -n 15 cmake --build --preset "$preset" --target bench_unet_vae bench_txt2img) ||
      fail "building the benches failed (messages above)"
  fi
  for b in bench_unet_vae bench_txt2img; do
    [ -x "$bin/$b" ] || fail "$bin/$b is missing: build it (cmake --build --preset $preset --target bench_unet_vae bench_txt2img) or pass --build"
  done
  venv=$("$here/setup.sh") || fail "the diffusers environment could not be set up (setup.sh's message above)"
  py=$venv/bin/python

  tmp=${TMPDIR:-/tmp}
  model=$tmp/kiln-bench-sd15
  out=${out:-$tmp/kiln-bench-compare/$(date +%Y%m%d-%H%M%S)}
  mkdir -p "$out" || fail "cannot create $out"
  log=$out/log.txt results=$out/results.jsonl
  : >"$log"
  : >"$results"

  # One bench: its output to the screen and log.txt, its JSON lines to results.jsonl.
  bench() {
    local label=$1
    shift
    printf '\n== %s: %s\n' "$label" "$*" | tee -a "$log"
    if ! "$@" 2>&1 | tee -a "$log" | tee /dev/stderr | { grep '^{"' || true; } >>"$results"; then
      fail "$label failed (its output above and in $log)"
    fi
  }

  {
    echo "bench/compare $(date -u +%FT%TZ): only=$only size=$size steps=$steps repeats=$repeats rounds=$rounds load_repeats=$load_repeats bf16=$bf16"
    echo "Kiln $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?'), benches in $bin; diffusers venv $venv"
  } | tee -a "$log"

  # For report.py: whether the bf16 rows were skipped because the CPU lacks native bf16.
  echo "{\"tool\": \"kiln\", \"what\": \"cpu\", \"native_bf16\": $([ "$bf16" = yes ] && echo true || echo false)}" >>"$results"

  if [ ! -f "$model/diffusers/model_index.json" ]; then
    bench "making the random model" "$bin/bench_txt2img" 0 "$size"
  fi
  single=$model/sd15-random-fp16.safetensors

  start=$SECONDS
  if want load; then
    cat "$single" >/dev/null   # every load from the page cache
    for ((i = 1; i <= load_repeats; i++)); do
      bench "Kiln load $i/$load_repeats" "$bin/bench_txt2img" 0 "$size" cpu fp32 --json
    done
    bench "diffusers load" "$py" "$here/bench_diffusers.py" --only load --load-repeats "$load_repeats" --size "$size"
  fi
  for ((r = 1; r <= rounds; r++)); do
    if want unet; then
      bench "Kiln UNet step, round $r/$rounds" "$bin/bench_unet_vae" "$repeats" --no-vae --no-tiled --size="$size" --json "${no_bf16[@]}"
      bench "diffusers UNet step, round $r/$rounds" "$py" "$here/bench_diffusers.py" --only unet --repeats "$repeats" --size "$size" "${no_bf16[@]}"
    fi
  done
  for ((r = 1; r <= rounds; r++)); do
    if want vae; then
      bench "Kiln VAE decode, round $r/$rounds" "$bin/bench_unet_vae" "$repeats" --no-unet --no-tiled --size="$size" --json "${no_bf16[@]}"
      bench "diffusers VAE decode, round $r/$rounds" "$py" "$here/bench_diffusers.py" --only vae --repeats "$repeats" --size "$size" "${no_bf16[@]}"
    fi
  done
  if want txt2img || want rss; then
    bench "Kiln txt2img fp32" "$bin/bench_txt2img" "$steps" "$size" cpu fp32 euler_a --json
    bench "diffusers txt2img fp32" "$py" "$here/bench_diffusers.py" --only txt2img --txt2img-dtypes fp32 --steps "$steps" --size "$size"
  fi
  if want rss && [ "$bf16" = yes ]; then
    bench "Kiln txt2img bf16" "$bin/bench_txt2img" "$steps" "$size" cpu bf16 euler_a --json
    bench "diffusers txt2img bf16" "$py" "$here/bench_diffusers.py" --only rss --txt2img-dtypes bf16 --steps "$steps" --size "$size"
  fi

  echo | tee -a "$log"
  python3 "$here/report.py" "$results" --markdown "$out/table.md" | tee -a "$log"
  echo "benchmarks took $((SECONDS - start)) s; log, JSON lines and table.md in $out" | tee -a "$log"
}
main "$@"
