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
# `cargo fuzz build` has no --locked: check the fuzz crate's lock file first, so that CI builds
# what was committed and leaves the clone as it found it.
if ! (cd fuzz && cargo metadata --locked --format-version 1 >/dev/null); then
  echo "fuzz/Cargo.lock is out of date with the workspace's dependencies." >&2
  echo "Update it with: (cd fuzz && cargo metadata --format-version 1 >/dev/null), then commit fuzz/Cargo.lock." >&2
  exit 1
fi
cargo fuzz build --sanitizer none -O
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t" "fuzz/artifacts/$t"
  echo "== fuzz $t (${secs}s)"
  log="fuzz/artifacts/$t/run.log"
  # The whole output goes to a log and its status is kept: a fuzzer that fails to build or
  # start must fail this script, not vanish behind a filter.
  touch "$log.start" # artifacts newer than this are this run's
  status=0
  cargo fuzz run --sanitizer none -O "$t" "fuzz/corpus/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E '^(Done|stat::number_of_executed_units|==|thread|SUMMARY)|panicked' "$log" || true
  if [ "$status" -ne 0 ]; then
    # libFuzzer exits non-zero on a crash and leaves the input in fuzz/artifacts/<target>/.
    found=$(find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) -newer "$log.start" 2>/dev/null || true)
    if [ -n "$found" ]; then
      echo "fuzz target $t found a crash (exit $status); artifacts:" >&2
      echo "$found" | sed 's/^/  /' >&2
      echo "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O $t <artifact>" >&2
    else
      echo "fuzz target $t failed to build or start (exit $status, no crash artifact); last lines of $log:" >&2
      tail -n 20 "$log" >&2
    fi
    exit 1
  fi
done
