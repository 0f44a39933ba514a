#!/usr/bin/env bash
# Runs Diesel's benchmark workloads side by side -- the raw drivers and this ORM
# (`orm-benches`: diesel_sqlite, diesel_postgres, rss) and Diesel (`peers/`) -- and writes
# BENCHMARKS.md at the repository root from criterion's medians.
#
#   tools/bench/run.sh [--quick] [--note "TEXT"]
#
# --quick: shorter warm-up and measurement (about 5 minutes instead of about 15).
# --note:  a line printed in bold at the top of BENCHMARKS.md.
# tools/bench/remains.md (what is above target, and why) is appended as it is.
#
# Every benchmark process runs on ONE CPU (`taskset -c $BENCH_CPU`, default the last one), and
# so does the PostgreSQL server that this script starts for the run (initdb in a temporary
# folder, the options of orm::testing's throwaway server), whose URL goes to both sides in
# ORM_TEST_POSTGRES_URL: client and server share that CPU, as in issue 11. Builds run before,
# unpinned. Honors CARGO_TARGET_DIR for the workspace; peers/ uses its own target folder.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
QUICK=0
NOTE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --note) NOTE="$2"; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

CPU=${BENCH_CPU:-$(( $(nproc) - 1 ))}
if [ "$QUICK" = 1 ]; then
    CRITERION_ARGS=(--warm-up-time 0.5 --measurement-time 1.5 --noplot)
    MODE="quick (warm-up 0.5 s, measurement 1.5 s, 20 samples)"
else
    CRITERION_ARGS=(--warm-up-time 2 --measurement-time 5 --noplot)
    MODE="full (warm-up 2 s, measurement 5 s, 20 samples)"
fi
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d /tmp/orm-bench-run.XXXXXX)
START=$(date +%s)

# --- the PostgreSQL server, pinned -------------------------------------------------------
PG_BIN=$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AS_OWNER=()
if [ "$(id -u)" = 0 ]; then
    AS_OWNER=(runuser -u postgres --)
    chown postgres:postgres "$WORK"
fi
stop_server() {
    "${AS_OWNER[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap stop_server EXIT
"${AS_OWNER[@]}" "$PG_BIN/initdb" -D "$WORK/data" -A trust -U postgres -E UTF8 --locale=C \
    --no-sync >/dev/null
taskset -c "$CPU" "${AS_OWNER[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
    -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=200" start >/dev/null
export ORM_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
PG_VERSION=$("$PG_BIN/postgres" --version)

# --- builds (unpinned), then the runs (pinned) -------------------------------------------
cd "$ROOT"
echo "building the workspace benches..." >&2
cargo bench -p orm-benches --bench diesel_sqlite --bench diesel_postgres --bench rss --no-run \
    2>"$WORK/build.log" || { cat "$WORK/build.log" >&2; exit 1; }
echo "building peers/ (Diesel)..." >&2
(cd peers && env -u CARGO_TARGET_DIR cargo bench --no-run 2>"$WORK/peers-build.log") \
    || { cat "$WORK/peers-build.log" >&2; exit 1; }

pinned() { taskset -c "$CPU" "$@"; }
for bench in diesel_sqlite diesel_postgres; do
    echo "running ours + raw: $bench" >&2
    pinned cargo bench -q -p orm-benches --bench "$bench" -- "${CRITERION_ARGS[@]}" \
        >"$WORK/$bench.out" 2>&1 || { tail -30 "$WORK/$bench.out" >&2; exit 1; }
    echo "running Diesel: $bench" >&2
    (cd peers && pinned env -u CARGO_TARGET_DIR cargo bench -q --bench "$bench" -- \
        "${CRITERION_ARGS[@]}" >"$WORK/peers-$bench.out" 2>&1) \
        || { tail -30 "$WORK/peers-$bench.out" >&2; exit 1; }
done
echo "measuring peak RSS..." >&2
: >"$WORK/rss.txt"
for backend in sqlite postgres; do
    for mode in raw untracked tracked; do
        pinned cargo bench -q -p orm-benches --bench rss -- "$backend" "$mode" 2>/dev/null \
            | grep '^rss ' >>"$WORK/rss.txt"
    done
done
cat "$WORK/rss.txt" >&2

# --- BENCHMARKS.md -----------------------------------------------------------------------
{
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with local changes)')"
    echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r); shared with other work while it ran"
    echo "- every benchmark process, and the PostgreSQL server ($PG_VERSION, over loopback, fsync off as in the tests), pinned to CPU $CPU"
    echo "- $(rustc --version); bundled SQLite from libsqlite3-sys $(grep -m1 -A1 'name = "libsqlite3-sys"' Cargo.lock | tail -1 | cut -d'"' -f2) for raw and ours, $(grep -m1 -A1 'name = "libsqlite3-sys"' peers/Cargo.lock | tail -1 | cut -d'"' -f2) for Diesel $(grep -m1 -A1 'name = "diesel"' peers/Cargo.lock | tail -1 | cut -d'"' -f2)"
    echo "- total run time: $(( ($(date +%s) - START) / 60 )) min"
} >"$WORK/machine.md"
python3 "$ROOT/tools/bench/collect.py" --since "$START" --out "$ROOT/BENCHMARKS.md" \
    --machine "$WORK/machine.md" --rss "$WORK/rss.txt" --note "$NOTE" --mode "$MODE" \
    --remains "$ROOT/tools/bench/remains.md" "$TARGET/criterion" "$ROOT/peers/target/criterion"
echo "wrote $ROOT/BENCHMARKS.md" >&2
