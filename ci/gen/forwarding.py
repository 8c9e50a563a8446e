#!/usr/bin/env python3
"""Generate a wrapper that forwards every wacore store-trait method.

Used once to write conformance/src/recording.rs and the body of
conformance/tests/broken/backend.rs; both are then maintained by hand, and
ci/check_overrides.py guarantees they keep overriding every method (a method
left to its trait default would silently change behaviour).

Usage: forwarding.py TYPE HOOK
  HOOK is a statement with {name} for the method name, placed before the
  forwarding call. The trait declarations are read from the wacore sources
  cargo resolved.
"""
import json
import pathlib
import re
import subprocess
import sys

ty, hook = sys.argv[1], sys.argv[2]
meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1"],
                                 check=True, capture_output=True, text=True).stdout)
wacore = next(p for p in meta["packages"] if p["name"] == "wacore")
src = (pathlib.Path(wacore["manifest_path"]).parent / "src/store/traits.rs").read_text()
by_trait = {}
for m in re.finditer(r"pub trait (\w+): Send \+ Sync \{", src):
    start = i = m.end()
    depth = 1
    while depth:
        depth += {"{": 1, "}": -1}.get(src[i], 0)
        i += 1
    for f in re.finditer(r"async fn (\w+)\s*\((.*?)\)\s*(?:->\s*(.*?))?\s*(?:;|\{)\s*\n",
                         src[start:i - 1], re.S):
        params = " ".join(f.group(2).split()).rstrip(",")
        ret = " ".join((f.group(3) or "()").split())
        by_trait.setdefault(m.group(1), []).append((f.group(1), params, ret))

def clean(s):
    return s.replace("crate::", "wacore::")

for trait, methods in by_trait.items():
    print("#[async_trait]")
    print(f"impl {trait} for {ty} {{")
    for name, params, ret in methods:
        args, sig = [], ["&self"]
        # split on top-level commas only (types contain commas in generics)
        depth, cur, items = 0, "", []
        for ch in params:
            if ch in "<([": depth += 1
            if ch in ">)]": depth -= 1
            if ch == "," and depth == 0:
                items.append(cur.strip()); cur = ""
            else:
                cur += ch
        if cur.strip(): items.append(cur.strip())
        for item in items[1:]:
            pname, ptype = item.split(":", 1)
            pname = pname.strip().lstrip("_")
            args.append(pname)
            sig.append(f"{pname}: {clean(ptype.strip())}")
        ret = clean(ret)
        print(f"    async fn {name}({', '.join(sig)}) -> {ret} {{")
        print(f"        {hook.format(name=name)}")
        print(f"        self.inner.{name}({', '.join(args)}).await")
        print("    }")
    print("}")
    print()
