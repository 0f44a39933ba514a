#!/usr/bin/env bash
# Compile cost per model, side by side with Diesel and SeaORM (issue 10): generates the three
# crates of tools/compile-cost/generate.py, builds their dependencies once, then times a build of
# each generated crate alone (its source touched, its dependencies already built), dev and
# release, REPS times each, and prints the median seconds and the ratio to SeaORM's.
#
#   tools/compile-cost/measure.sh [OUT_DIR=/tmp/orm-compile-cost] [MODELS=100] [REPS=3]
#
# Nothing here is built by `cargo test`: OUT_DIR is a workspace of its own. Run it on an idle
# machine; the ratios come from one run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-/tmp/orm-compile-cost}"
models="${2:-100}"
reps="${3:-3}"
python3 "$here/generate.py" "$out" --models "$models"
cd "$out"
pkgs=(orm_models diesel_models seaorm_models)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for profile in dev release; do
  flag=""
  [ "$profile" = release ] && flag="--release"
  echo "== $profile: building the dependencies" >&2
  cargo build --quiet --workspace $flag
  declare -A secs=()
  for pkg in "${pkgs[@]}"; do
    times=()
    for _ in $(seq "$reps"); do
      touch "$pkg/src/lib.rs"
      start=$(date +%s.%N)
      cargo build --quiet -p "$pkg" $flag
      end=$(date +%s.%N)
      times+=("$(echo "$end - $start" | bc)")
    done
    secs[$pkg]=$(printf '%s\n' "${times[@]}" | median)
  done
  base=${secs[seaorm_models]}
  for pkg in "${pkgs[@]}"; do
    printf '%-8s %-14s %7.2f s  %5.2fx SeaORM\n' "$profile" "$pkg" "${secs[$pkg]}" \
      "$(echo "${secs[$pkg]} / $base" | bc -l)"
  done
  unset secs
done
