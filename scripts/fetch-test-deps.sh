#!/usr/bin/env bash
# Fetches what the tests need from package registries into target/test-deps/ (idempotent):
# the official SARIF 2.1.0 JSON schema, as shipped in Microsoft's npm package @microsoft/jest-sarif.
set -euo pipefail
cd "$(dirname "$0")/.."
deps=target/test-deps
schema="$deps/sarif-schema-2.1.0.json"
if [ ! -s "$schema" ]; then
  mkdir -p "$deps/npm"
  (cd "$deps/npm" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null)
  tar -xzf "$deps/npm/microsoft-jest-sarif-1.0.0-beta.0.tgz" -C "$deps/npm" package/lib/schemas/sarif-2.1.0-rtm.5.json
  mv "$deps/npm/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$schema"
fi
echo "test deps ready: $schema"
