#!/usr/bin/env python3
"""Fail if a backend or wrapper of ours leaves a wacore store-trait method to
its default body, or if the kit's list of trait methods is out of date.

Reads the trait declarations from the wacore sources cargo resolved
(`cargo metadata`), collects every `async fn` name, and requires an
`async fn` of each name in: the engine's trait-implementation files, the
kit's `Recording` wrapper and the broken test backend. The kit's
`TRAIT_METHODS` must list exactly the declared methods.
"""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
IMPLEMENTATIONS = {
    "the redb engine": [f"engine/src/{f}" for f in
                        ["signal.rs", "app_sync.rs", "protocol.rs", "msg_secret.rs", "device.rs"]],
    "the kit's Recording wrapper": ["conformance/src/recording.rs"],
    "the broken test backend": ["conformance/tests/broken/backend.rs"],
}


def main():
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True, capture_output=True, text=True, cwd=ROOT).stdout)
    wacore = next(p for p in meta["packages"] if p["name"] == "wacore")
    traits = pathlib.Path(wacore["manifest_path"]).parent / "src/store/traits.rs"
    declared = set(re.findall(r"^\s*async fn (\w+)", traits.read_text(), re.M))
    print(f"wacore {wacore['version']}: {len(declared)} store-trait methods")
    ok = True
    for what, files in IMPLEMENTATIONS.items():
        implemented = set()
        for name in files:
            implemented |= set(re.findall(r"^\s*async fn (\w+)", (ROOT / name).read_text(), re.M))
        missing = sorted(declared - implemented)
        if missing:
            ok = False
            print(f"FAIL: {what} leaves to the trait default: " + ", ".join(missing))
        else:
            print(f"OK: {what} implements all {len(declared)}")
    listed = set(re.findall(r'^    "(\w+)",$',
                            (ROOT / "conformance/src/recording.rs").read_text(), re.M))
    if listed != declared:
        ok = False
        print(f"FAIL: TRAIT_METHODS differs: missing {sorted(declared - listed)}, "
              f"extra {sorted(listed - declared)}")
    else:
        print("OK: TRAIT_METHODS lists every method")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
