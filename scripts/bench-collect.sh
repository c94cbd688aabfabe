#!/usr/bin/env bash
# Times `peerscope snapshot` of 50 accounts × 2 regions from the AWS API emulator (moto), at the
# default concurrency and at --concurrency 1, straight and behind a proxy that adds DELAY_MS to
# every request (AWS is tens of milliseconds away; the emulator on loopback is not).
# Loopback only. Usage: scripts/bench-collect.sh [BINARY] [DELAY_MS]   (default 50 ms); the binary
# must be the build with the collector (`cargo build --release --features aws`).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-target/release/peerscope}"
DELAY="${2:-50}"
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOTO=$(free_port); PROXY=$(free_port)
.venv/bin/moto_server -H 127.0.0.1 -p "$MOTO" >/dev/null 2>&1 & moto_pid=$!
.venv/bin/python scripts/latency_proxy.py "$PROXY" "$MOTO" "$DELAY" & proxy_pid=$!
trap 'kill $moto_pid $proxy_pid 2>/dev/null; rm -rf "$work"' EXIT
work=$(mktemp -d)
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$MOTO") 2>/dev/null && break; sleep 0.1; done
.venv/bin/python tests/collect_seed.py "http://127.0.0.1:$MOTO" --scale 50 >/dev/null
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
run() { # label port concurrency
  local start end
  rm -rf "$work/snap"
  start=$(date +%s.%N)
  "$BIN" snapshot --org --regions us-east-1,eu-west-1 --endpoint-url "http://127.0.0.1:$2" \
    --out "$work/snap" --quiet --concurrency "$3"
  end=$(date +%s.%N)
  printf '%-28s concurrency %-3s %6.2f s  (%s account-regions, %s calls)\n' "$1" "$3" \
    "$(.venv/bin/python -c "print($end - $start)")" \
    "$(grep -c '"region"' "$work/snap/manifest.json")" \
    "$(grep -o '"calls": [0-9]*' "$work/snap/manifest.json" | awk '{s+=$2} END {print s}')"
}
for c in 32 1; do run "emulator" "$MOTO" "$c"; done
for c in 32 1; do run "emulator + ${DELAY} ms/request" "$PROXY" "$c"; done
