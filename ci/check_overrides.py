#!/usr/bin/env python3
"""Fail if the engine leaves any wacore store-trait method to its default body.

Reads the trait declarations from the wacore sources cargo resolved
(`cargo metadata`), collects every `async fn` name, and requires an
`async fn` of the same name in the engine's trait-implementation files.
"""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
IMPL_FILES = ["signal.rs", "app_sync.rs", "protocol.rs", "msg_secret.rs", "device.rs"]


def main():
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True, capture_output=True, text=True, cwd=ROOT).stdout)
    wacore = next(p for p in meta["packages"] if p["name"] == "wacore")
    traits = pathlib.Path(wacore["manifest_path"]).parent / "src/store/traits.rs"
    declared = set(re.findall(r"^\s*async fn (\w+)", traits.read_text(), re.M))
    implemented = set()
    for name in IMPL_FILES:
        text = (ROOT / "engine/src" / name).read_text()
        implemented |= set(re.findall(r"^\s*async fn (\w+)", text, re.M))
    missing = sorted(declared - implemented)
    print(f"wacore {wacore['version']}: {len(declared)} store-trait methods, "
          f"{len(declared & implemented)} implemented by the engine")
    if missing:
        print("FAIL: left to the trait default: " + ", ".join(missing))
        return 1
    print("OK: every method has a real implementation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
