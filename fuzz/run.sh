#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (CI: 20 s each; by hand: `fuzz/run.sh 600`).
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). libFuzzer's instrumentation uses
# unstable rustc flags; the machine has only the stable toolchain, so RUSTC_BOOTSTRAP=1 lets
# stable rustc accept them. --sanitizer none: the code under test has no unsafe of its own,
# and without ASan the 2-core CI machine runs ~10x more inputs in the same time.
# Inputs that once crashed live in fuzz/regressions/<target>/ and are replayed first.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
export RUSTC_BOOTSTRAP=1
targets=(api_json sanitize config)
cargo fuzz build --sanitizer none -O
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t"
  echo "== fuzz $t (${secs}s)"
  cargo fuzz run --sanitizer none -O "$t" "fuzz/corpus/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 2>&1 \
    | grep -E '^(Done|stat::number_of_executed_units|==|thread|SUMMARY)|panicked' || true
  # cargo fuzz exits non-zero on a crash; grep above hides the status, so check artifacts.
  if compgen -G "fuzz/artifacts/$t/crash-*" >/dev/null || compgen -G "fuzz/artifacts/$t/oom-*" >/dev/null; then
    echo "fuzz target $t found a crash: see fuzz/artifacts/$t/ (reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O $t <file>)" >&2
    exit 1
  fi
done
