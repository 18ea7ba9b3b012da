#!/usr/bin/env bash
# How much of each parser the fuzz corpora reach: builds the fuzz targets with clang's
# source-based coverage (the `fuzz-coverage` preset, no sanitizers), runs every input of a target's
# corpus once (the inputs accumulated in build/fuzz/corpus/<target>/ by scripts/fuzz.sh runs, and
# the committed seeds) and prints the lines, functions and branches of that target's parser code
# that ran. Per-file tables go to build/fuzz-coverage/report/<target>.txt.
#   scripts/fuzz-coverage.sh            every target
#   scripts/fuzz-coverage.sh TARGET...  some
# Called by `scripts/fuzz.sh coverage`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The code each target is there to fuzz (the files, or `file:function-regex` for parsers that live
# in a file with other code: the model config readers sit beside the models).
parser_code() {
  case "$1" in
    fuzz_safetensors_header) echo core/io/safetensors.cpp core/io/tensor_index.cpp ;;
    fuzz_pickle) echo core/io/pickle.cpp ;;
    fuzz_zip) echo core/io/zip_reader.cpp ;;
    fuzz_prompt) echo core/text/prompt_parser.cpp core/text/prompt.cpp core/text/clip_pretokenizer.cpp ;;
    fuzz_scheduler_config) echo core/schedulers/scheduler_config.cpp ;;
    fuzz_model_config)
      echo core/base/python_json.cpp core/models/unet_2d_condition.cpp:from_json core/models/autoencoder_kl.cpp:from_json \
        core/models/clip_text_model.cpp:from_json core/models/controlnet_model.cpp:from_json ;;
    fuzz_lora) echo core/pipelines/lora.cpp ;;
    fuzz_embedding) echo core/pipelines/embeddings.cpp ;;
    fuzz_pose_json) echo core/control/pose_json.cpp ;;
    fuzz_image_probe) echo core/dataset/image_probe.cpp core/dataset/exif.cpp ;;
    fuzz_png_parameters) echo app/bridge/generation_parameters.cpp ;;
    fuzz_api_request) echo app/api/api_request.cpp ;;
    fuzz_caption_answer) echo app/captioning/completion_answer.cpp app/captioning/caption_text.cpp ;;
    fuzz_safe_zip) echo app/services/zip_safety.cpp ;;
  esac
}

if ! command -v llvm-profdata >/dev/null || ! command -v llvm-cov >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq --no-install-recommends llvm >/dev/null
fi
cmake --preset fuzz-coverage >/dev/null 2>&1 || cmake --preset fuzz-coverage
if [ $# -gt 0 ]; then targets="$*"; else targets=$(cd fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//'); fi
# shellcheck disable=SC2086
cmake --build --preset fuzz-coverage --target ${targets//$'\n'/ } >/dev/null
out=build/fuzz-coverage/report
mkdir -p "$out"
printf '%-26s %7s  %-16s %-16s %-16s\n' target inputs lines functions branches
for t in $targets; do
  bin=build/fuzz-coverage/fuzz/$t
  [ -x "$bin" ] || continue
  dirs=()
  [ -d "build/fuzz/corpus/$t" ] && dirs+=("build/fuzz/corpus/$t")
  [ -d "fuzz/corpus/$t" ] && dirs+=("fuzz/corpus/$t")
  rm -f "$out/$t".*.profraw
  # -runs=0: each corpus input once, no mutation.
  LLVM_PROFILE_FILE="$out/$t.%p.profraw" "$bin" -runs=0 -rss_limit_mb=4096 -max_len=1048576 -timeout=60 \
    "${dirs[@]}" >"$out/$t.log" 2>&1 || true
  inputs=$(grep -o '^Done [0-9]* runs' "$out/$t.log" | grep -o '[0-9]*' | tail -1)
  llvm-profdata merge -sparse "$out/$t".*.profraw -o "$out/$t.profdata"
  rm -f "$out/$t".*.profraw
  # shellcheck disable=SC2046
  printf '%-26s %7s  %s\n' "$t" "${inputs:-?}" \
    "$(python3 scripts/fuzz_coverage_summary.py "$bin" "$out/$t.profdata" "$out/$t.txt" $(parser_code "$t"))"
done
