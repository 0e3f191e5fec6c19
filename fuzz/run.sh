#!/usr/bin/env bash
# Runs each fuzz target for a bounded time, starting from the seeds in seeds/TARGET.
#
#   fuzz/run.sh [SECONDS per target, default 60] [TARGET …]   (targets: jsonl mapping catalogue)
#
# Needs cargo-fuzz (cargo install cargo-fuzz --locked). cargo fuzz uses compiler features of
# nightly Rust; RUSTC_BOOTSTRAP=1 lets the stable toolchain use them. A crash leaves its input
# in fuzz/artifacts/TARGET/ and makes this script fail: turn it into a test (README.md).
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
shift || true
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=(jsonl mapping catalogue); fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
    exit 2
fi
export RUSTC_BOOTSTRAP=1
# The readers are safe Rust: what we hunt is a panic (overflow checks are on), not memory
# errors, so the address sanitizer's cost buys nothing. SANITIZER=address to use it anyway.
sanitizer="${SANITIZER:-none}"

for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    cp -n "seeds/$t/"* "corpus/$t/" 2>/dev/null || true
    echo "== $t for ${seconds}s"
    cargo fuzz run --sanitizer "$sanitizer" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -max_len=16384 -timeout=10 -print_final_stats=1
done
