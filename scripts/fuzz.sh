#!/usr/bin/env bash
# Fuzzes the whole path (bytes -> parse -> expand -> policy pack -> emit) for a bounded time
# and fails on a crash, a timeout or running out of memory.
#
#   scripts/fuzz.sh            # 120 seconds (CIB_FUZZ_SECONDS overrides)
#   CIB_FUZZ_RUNS=60000 CIB_FUZZ_SEED=1 scripts/fuzz.sh
#                              # a fixed number of inputs from a fixed seed: the same run
#                              # every time (what scripts/test.sh, hence CI, does), still
#                              # bounded by CIB_FUZZ_SECONDS
#
# cargo-fuzz drives libFuzzer, which needs nightly compiler flags: RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. No sanitizer (`-s none`): the code is safe Rust, and the run
# looks for panics, hangs and memory blow-ups. The committed corpus (fuzz/corpus/expand) is
# read, never written: new inputs go to a scratch directory, crashes to fuzz/artifacts/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${CIB_FUZZ_SECONDS:-120}"
runs="${CIB_FUZZ_RUNS:--1}"
seed="${CIB_FUZZ_SEED:-0}"
export RUSTC_BOOTSTRAP=1
# A target dir of its own: fuzzing builds everything with coverage flags.
export CARGO_TARGET_DIR="${CIB_FUZZ_TARGET_DIR:-$HOME/.cache/cib/fuzz-target}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install --locked cargo-fuzz --version 0.13.2
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

echo "==> cargo fuzz run expand (at most ${seconds}s, runs ${runs}, seed ${seed})"
cd fuzz
cargo fuzz build -s none -O expand
# -timeout: one input taking over 10 s is a hang; -rss_limit_mb: memory bound.
set +e
cargo fuzz run -s none -O expand "$scratch" corpus/expand -- \
  -max_total_time="$seconds" -runs="$runs" -seed="$seed" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 >"$scratch/fuzz.log" 2>&1
status=$?
set -e
if [ "$status" -ne 0 ]; then
  tail -n 60 "$scratch/fuzz.log"
  echo "fuzzing failed (exit $status): the crashing input is in fuzz/artifacts/expand/" >&2
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$scratch/fuzz.log" || true
echo "==> fuzz: no crash, hang or memory blow-up (runs ${runs}, seed ${seed}, at most ${seconds}s)"
