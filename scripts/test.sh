#!/usr/bin/env bash
# Runs every test of peerscope from a fresh clone: formatting, the whole test suite, and clippy.
# Installs by itself whatever the tests need. `.ci/run` runs exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Never let the AWS SDK probe the instance-metadata address from a test.
export AWS_EC2_METADATA_DISABLED=true

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== test dependencies"
bash scripts/fetch-test-deps.sh

echo "== AWS API emulator (moto) for the collection tests, in .venv"
if [ ! -x .venv/bin/moto_server ] || ! .venv/bin/python -c "import boto3, requests" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5' boto3
fi

echo "== headless Chromium for the map's browser test (tests/graph.rs)"
if ! command -v chromium >/dev/null 2>&1; then
  # Debian's package; nothing is downloaded from elsewhere. Root, or sudo without a password.
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq chromium >/dev/null; }
  command -v chromium >/dev/null 2>&1 || { echo "could not install chromium" >&2; exit 1; }
fi

echo "== the analysis builds without the AWS SDK (the default features)"
cargo check --locked --workspace --exclude peerscope-collect --all-targets

echo "== cargo test (every crate, the collector included)"
cargo test --locked --workspace --all-features

echo "== cargo clippy"
cargo clippy --locked --workspace --all-features --all-targets -- -D warnings
cargo clippy --locked --all-targets -- -D warnings
