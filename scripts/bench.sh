#!/usr/bin/env bash
# Benchmarks per tier (issue 6): builds release, generates the S, M and L organisations into a
# temporary folder and prints, for each tier, the median wall time and the peak memory (max RSS)
# of `check` (load), `reach --layer network`, `reach --layer full`, `audit` (against the intent
# scripts/gen-intent.py writes), `what-if` of one route (in a hub's table and in a spoke's), one
# security-group rule and one NACL entry (scripts/make-changes.py picks them; the figure after
# load is the median of what
# `--timings` reports for copy + apply + analysis), `diff` of the organisation and a copy with 1%
# of its route tables and groups changed, `graph` with the intent (DOT: the audit's layer; HTML:
# both layers), and on M `query --batch` of 100,000 generated flows; and, beside them, Python's
# `json.load` of every file of the tier (the yardstick of issue 14).
# Not run by CI (CI runs scripts/test.sh only): timings belong here.
#
#   scripts/bench.sh [--quick] [--runs N] [--timeout SECONDS] [--seed N] [--keep DIR]
#
#   --quick      S and M only (skip L)
#   --runs N     runs per command for the median (default 5; commands slower than 10 s get 3,
#                slower than 60 s get 1)
#   --timeout S  per-run limit (default 300); a command over it is reported as timed out
#   --keep DIR   generate into DIR and keep it (default: a temporary folder, removed)
#
# Medians come from hyperfine when it is installed (the script tries `apt-get install
# hyperfine` when it is missing), else from its own loop; peak memory from GNU time
# (`/usr/bin/time -v`, Debian package `time`). Reach output is JSON to /dev/null, so the figure
# is the analysis, not terminal rendering.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
runs=5
timeout_s=300
seed=1
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --runs) runs="$2"; shift ;;
        --timeout) timeout_s="$2"; shift ;;
        --seed) seed="$2"; shift ;;
        --keep) keep="$2"; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

apt_install() {
    if command -v apt-get >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            apt-get install -y -qq "$@" >/dev/null 2>&1 ||
                { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$@" >/dev/null 2>&1; } || true
        elif command -v sudo >/dev/null 2>&1; then
            sudo apt-get install -y -qq "$@" >/dev/null 2>&1 || true
        fi
    fi
}
[ -x /usr/bin/time ] || apt_install time
if [ ! -x /usr/bin/time ]; then
    echo "bench.sh: GNU time (/usr/bin/time) is needed for peak memory: apt-get install time" >&2
    exit 2
fi
command -v hyperfine >/dev/null 2>&1 || apt_install hyperfine
have_hyperfine=0
command -v hyperfine >/dev/null 2>&1 && have_hyperfine=1

echo "== building release"
cargo build --release --quiet --bin peerscope
bin="${CARGO_TARGET_DIR:-target}/release/peerscope"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

if [ -n "$keep" ]; then
    work="$keep"
    mkdir -p "$work"
else
    work="$(mktemp -d "${TMPDIR:-/tmp}/peerscope-bench.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
fi

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "== medians from $([ $have_hyperfine = 1 ] && echo hyperfine || echo "the script's own loop"); peak RSS from /usr/bin/time; timeout ${timeout_s}s per run"

results=()

# measure TIER LABEL COMMAND...: one run under GNU time (peak RSS, and whether it finishes in
# time), then more runs for the median.
measure() {
    local tier="$1" label="$2"
    shift 2
    local tfile="$work/time.txt"
    local rc=0
    /usr/bin/time -f '%e %M' -o "$tfile" timeout "$timeout_s" "$@" >/dev/null 2>"$work/stderr.txt" || rc=$?
    local line first rss
    line="$(tail -n 1 "$tfile")"
    first="${line% *}"
    rss="${line#* }"
    local peak
    peak="$(awk -v k="$rss" 'BEGIN { printf "%.0f MiB", k / 1024 }')"
    if [ "$rc" = 124 ]; then
        results+=("$(printf '%-3s %-28s %18s %12s %s' "$tier" "$label" "timed out" ">$peak" "killed after ${timeout_s}s")")
        printf '   %-28s timed out after %ss (peak RSS so far %s)\n' "$label" "$timeout_s" "$peak"
        return
    fi
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
        echo "bench.sh: $* exited $rc:" >&2
        cat "$work/stderr.txt" >&2
        exit 1
    fi
    local n="$runs"
    if awk -v t="$first" 'BEGIN { exit !(t > 60) }'; then
        n=1
    elif awk -v t="$first" 'BEGIN { exit !(t > 10) }'; then
        n=$((runs < 3 ? runs : 3))
    fi
    local median
    if [ "$n" -le 1 ]; then
        median="$first"
    elif [ $have_hyperfine = 1 ]; then
        local cmd
        cmd="$(printf '%q ' "$@")"
        hyperfine --style none --runs "$n" -i --export-csv "$work/hf.csv" "$cmd >/dev/null 2>&1" >/dev/null 2>&1
        median="$(awk -F, 'NR == 2 { print $4 }' "$work/hf.csv")"
    else
        local times=("$first") i s e
        for ((i = 1; i < n; i++)); do
            s="$(date +%s.%N)"
            "$@" >/dev/null 2>&1 || true
            e="$(date +%s.%N)"
            times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')")
        done
        median="$(printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')"
    fi
    local shown
    shown="$(awk -v t="$median" 'BEGIN { if (t < 1) printf "%.0f ms", t * 1000; else printf "%.2f s", t }')"
    results+=("$(printf '%-3s %-28s %18s %12s %s' "$tier" "$label" "$shown" "$peak" "$n run(s)")")
    printf '   %-28s median %-10s peak RSS %s (%s run(s))\n' "$label" "$shown" "$peak" "$n"
}

# measure_after_load TIER LABEL COMMAND...: median over the runs of what `--timings` reports
# after the snapshot is loaded (copy + apply + analysis; output excluded).
measure_after_load() {
    local tier="$1" label="$2"
    shift 2
    local n="$runs" i ms=()
    for ((i = 0; i < n; i++)); do
        "$@" --timings >/dev/null 2>"$work/stderr.txt" || true
        ms+=("$(sed -n 's/^peerscope: timings: //p' "$work/stderr.txt" | tr ',' '\n' |
            awk '$1 != "load" && $1 != "output" { t += $2 } END { printf "%.1f", t }')")
        # Slow tiers: one run is enough to see the order of magnitude.
        if awk -v t="${ms[-1]}" 'BEGIN { exit !(t > 10000) }'; then break; fi
    done
    local median
    median="$(printf '%s\n' "${ms[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')"
    local shown
    shown="$(awk -v t="$median" 'BEGIN { if (t < 1000) printf "%.0f ms", t; else printf "%.2f s", t / 1000 }')"
    results+=("$(printf '%-3s %-28s %18s %12s %s' "$tier" "$label" "$shown" "-" "${#ms[@]} run(s), after load")")
    printf '   %-28s median %-10s after load (%s run(s))\n' "$label" "$shown" "${#ms[@]}"
}

tiers=(s m l)
[ "$quick" = 1 ] && tiers=(s m)
for tier in "${tiers[@]}"; do
    dir="$work/$tier"
    echo "== tier $tier"
    queries=()
    [ "$tier" = m ] && queries=(--queries "$work/m-queries.jsonl" --query-count 100000)
    gen_start="$(date +%s.%N)"
    "$bin" gen --tier "$tier" --seed "$seed" --out "$dir" "${queries[@]}" | sed 's/^/   gen: /'
    gen_end="$(date +%s.%N)"
    results+=("$(printf '%-3s %-28s %18s %12s %s' "$tier" "gen" "$(awk -v s="$gen_start" -v e="$gen_end" 'BEGIN { printf "%.2f s", e - s }')" "-" "1 run")")
    measure "$tier" "python json.load (all files)" python3 -c 'import json, pathlib, sys; any(json.loads(p.read_bytes()) is None for p in pathlib.Path(sys.argv[1]).rglob("*.json"))' "$dir"
    measure "$tier" "check (load)" "$bin" check "$dir"
    measure "$tier" "reach --layer network" "$bin" reach "$dir" --layer network --format json
    measure "$tier" "reach --layer full" "$bin" reach "$dir" --layer full --format json
    if [ "$tier" = m ]; then
        measure "$tier" "query --batch (100k flows)" "$bin" query "$dir" --batch "$work/m-queries.jsonl"
    fi
    python3 scripts/gen-intent.py "$dir"
    measure "$tier" "audit (with intent)" "$bin" audit "$dir" --format json
    measure "$tier" "graph --format dot (intent)" "$bin" graph "$dir" --format dot
    measure "$tier" "graph --format html (intent)" "$bin" graph "$dir" --format html
    python3 scripts/make-changes.py "$dir" "$work/$tier-changes"
    for c in route spoke-route sg-rule nacl-entry; do
        [ -f "$work/$tier-changes/$c.json" ] || continue
        measure "$tier" "what-if $c" "$bin" what-if "$dir" --change "$work/$tier-changes/$c.json" --format json
        measure_after_load "$tier" "what-if $c" "$bin" what-if "$dir" --change "$work/$tier-changes/$c.json" --format json
    done
    measure "$tier" "diff (1% churn)" "$bin" diff "$dir" "$work/$tier-changes/churn" --format json
    measure_after_load "$tier" "diff (1% churn)" "$bin" diff "$dir" "$work/$tier-changes/churn" --format json
    rm -rf "$work/$tier-changes/churn"
done
[ "$quick" = 1 ] && echo "== --quick: tier L skipped"

echo
echo "== summary (seed $seed)"
printf '%-3s %-28s %18s %12s %s\n' tier command median "peak RSS" runs
printf '%s\n' "${results[@]}"
