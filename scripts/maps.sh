#!/usr/bin/env bash
# Draws each example topology's map for the docs: docs/maps/<topology>.png, a screenshot of
# `peerscope graph --format html` in headless Chromium with the most worrying peering selected
# (so the side panel shows its findings). Not part of CI; rerun after changing the page or a
# topology. Needs chromium (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet
bin="${CARGO_TARGET_DIR:-target}/debug/peerscope"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p docs/maps
for dir in topologies/*/; do
  name="$(basename "$dir")"
  [ -f "$dir/intent.toml" ] || continue
  "$bin" graph "topologies/$name" --format html --out "$tmp/$name.html" 2>/dev/null
  # The edge of the highest class (the page's order of concern), to select through the URL.
  edge="$(python3 - "$tmp/$name.html" <<'PY'
import json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
data = json.loads(re.search(r'id="peerscope-data">(.*?)</script>', page, re.S).group(1))
order = data["m"]["classes"]
first = data["L"][0]["e"]  # the first layer's classes, by edge
ranked = sorted(range(len(data["e"])), key=lambda i: (-order.index(first[i][0]), data["e"][i][0]))
print(data["e"][ranked[0]][0] if ranked else "")
PY
)"
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,820 \
    --virtual-time-budget=2000 --screenshot="$PWD/docs/maps/$name.png" \
    "file://$tmp/$name.html#$edge" >/dev/null 2>&1
  echo "docs/maps/$name.png (selected: ${edge:-nothing})"
done
