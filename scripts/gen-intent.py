#!/usr/bin/env python3
"""Writes an intent.toml for an organisation made by `peerscope gen`, for audit benchmarks.

    scripts/gen-intent.py SNAPSHOT_DIR        # writes SNAPSHOT_DIR/intent.toml

The organisation's accounts (folders 1…) are named, partners (9…) are left external. Zones
follow the generator's `env` tags; everyone may use shared services on tcp:443 and udp:53,
shared services may reach everyone for ssh and metrics, prod must reach shared on tcp:443, and
dev must never reach prod.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
accounts = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith("1"))
envs = set()
for f in root.glob("*/*/describe-vpcs.json"):
    for v in json.loads(f.read_text()).get("Vpcs", []):
        for t in v.get("Tags", []):
            if t.get("Key") == "env":
                envs.add(t["Value"])
out = ["[options]", 'layer = "full"', "", "[accounts]"]
out += [f'a{a} = "{a}"' for a in accounts]
for e in sorted(envs):
    out += ["", f"[zones.{e}]", f'tags = {{ env = "{e}" }}']
others = sorted(envs - {"shared"})
for e in others:
    out += ["", "[[allow]]", f'from = "{e}"', 'to = "shared"', 'ports = ["tcp:443", "udp:53"]', 'why = "shared services"']
    out += ["", "[[allow]]", 'from = "shared"', f'to = "{e}"', 'ports = ["tcp:22", "tcp:9100"]', 'why = "operations"']
if "prod" in envs and "shared" in envs:
    out += ["", "[[require]]", 'from = "prod"', 'to = "shared"', 'ports = "tcp:443"', 'why = "prod uses shared services"']
if "dev" in envs and "prod" in envs:
    out += ["", "[[deny]]", 'from = "dev"', 'to = "prod"', 'ports = "any"', 'why = "dev never reaches prod"']
(root / "intent.toml").write_text("\n".join(out) + "\n")
print(f"{root / 'intent.toml'}: {len(accounts)} accounts, {len(envs)} zones")
