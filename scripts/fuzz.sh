#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang, ASan + UBSan) and runs them on their
# seed corpora.
#   scripts/fuzz.sh                 every target for 60 s
#   scripts/fuzz.sh TARGET [SECONDS] one target (fuzz_pickle, fuzz_zip, ...) for SECONDS (default 60)
#   scripts/fuzz.sh all SECONDS     every target for SECONDS
#   scripts/fuzz.sh ci [RUNS]       every target for a fixed number of inputs (default 50000) from a
#                                   fixed seed and the committed corpus only (scripts/test.sh); a
#                                   crash leaves its input in build/fuzz/findings/ to reproduce it
#   scripts/fuzz.sh coverage [TARGET...]  lines, functions and branches of each parser that its
#                                   corpus reaches (scripts/fuzz-coverage.sh, the fuzz-coverage preset)
# New inputs that add coverage go to build/fuzz/corpus/<target>/ (the committed seeds in
# fuzz/corpus/<target>/ are only read); a crash leaves crash-* in build/fuzz/findings/<target>/
# and the script exits non-zero. Prints executions per second and coverage per target.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
seconds=${2:-60}
ci=0
if [ "$target" = ci ]; then
  ci=1
  runs=${2:-50000}
  target=all
fi
command -v clang++ >/dev/null || { SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo; $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null; }
scripts/setup-libtorch.sh >/dev/null
if [ "$target" = coverage ]; then
  shift
  exec scripts/fuzz-coverage.sh "$@"
fi
cmake --preset fuzz >/dev/null
if [ "$target" = all ]; then
  cmake --build --preset fuzz --target fuzz_all
  targets=$(cd fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
else
  cmake --build --preset fuzz --target "$target"
  targets=$target
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_odr_violation=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in $targets; do
  [ -x "build/fuzz/fuzz/$t" ] || continue
  work=build/fuzz/corpus/$t
  [ $ci -eq 1 ] && work=build/fuzz/ci-corpus/$t && rm -rf "$work"
  findings=build/fuzz/findings/$t
  mkdir -p "$work" "$findings"
  seeds=fuzz/corpus/$t
  [ -d "$seeds" ] || seeds=
  log=build/fuzz/findings/$t.log
  if [ $ci -eq 1 ]; then
    limit=(-runs="$runs" -seed=1)
  else
    limit=(-max_total_time="$seconds")
  fi
  if "build/fuzz/fuzz/$t" "${limit[@]}" -rss_limit_mb=4096 -max_len=1048576 -timeout=10 \
       -artifact_prefix="$findings/" -print_final_stats=1 "$work" $seeds >"$log" 2>&1; then
    result=ok
  else
    result="FOUND SOMETHING (see $log and $findings/)"
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  printf '%-26s %10s execs  %7s/s  cov %6s  %s\n' "$t" "$execs" "$speed" "$cov" "$result"
done
exit $status
