#!/usr/bin/env python3
"""Fail if a package's dependency tree builds or links C code.

Takes the package's own dependency tree (`cargo tree -p PACKAGE -e
normal,build`: its default features, resolved as `cargo build -p PACKAGE`
resolves them, dev-dependencies left out as they are not shipped), for the
host platform, and flags every crate in it that
  - declares `links = ...` (it links a native library), unless it is listed in
    LINKS_WITHOUT_NATIVE_CODE with the reason, or
  - has a build-dependency on a C/C++ build helper (cc, cmake, bindgen,
    pkg-config, vcpkg, autotools, cxx-build, nasm-rs).

Usage: check_pure_rust.py PACKAGE [--expect-impure]
  --expect-impure  invert the verdict (the self-test: a package known to pull
                   C code, such as the SQLite benches, must be flagged).
"""
import json
import subprocess
import sys

C_BUILD_HELPERS = {
    "cc", "cmake", "bindgen", "pkg-config", "vcpkg", "autotools", "cxx-build", "nasm-rs",
}

# Crates that declare `links` only to pass metadata between versions of
# themselves; they compile and link no native code.
LINKS_WITHOUT_NATIVE_CODE = {
    # prettyplease uses `links = "prettyplease0N"` to expose its version to
    # dependents' build scripts (DEP_PRETTYPLEASE0N_VERSION); its build.rs
    # only prints that variable.
    "prettyplease",
}


def host_triple():
    out = subprocess.run(["rustc", "-vV"], check=True, capture_output=True, text=True).stdout
    return next(l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("host: "))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    expect_impure = "--expect-impure" in sys.argv
    if len(args) != 1:
        print(__doc__)
        return 2
    root_name = args[0]
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked",
         "--filter-platform", host_triple()],
        check=True, capture_output=True, text=True).stdout)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    if not any(p["name"] == root_name and p["source"] is None for p in meta["packages"]):
        print(f"no workspace package named {root_name!r}")
        return 2
    # Membership from cargo tree: the metadata's resolve unifies features
    # across the whole workspace (another member's optional features would
    # count against this package); `cargo tree -p` resolves this package alone.
    tree = subprocess.run(
        ["cargo", "tree", "--locked", "-p", root_name, "-e", "normal,build",
         "--prefix", "none", "--format", "{p}", "--target", host_triple()],
        check=True, capture_output=True, text=True).stdout
    members = {tuple(line.split()[:2]) for line in tree.splitlines() if line.strip()}
    by_name_version = {(p["name"], "v" + p["version"]): pid for pid, p in packages.items()}
    seen = {by_name_version[m] for m in members if m in by_name_version}

    offenders = {}
    for pid in seen:
        pkg = packages[pid]
        reasons = []
        if pkg.get("links") and pkg["name"] not in LINKS_WITHOUT_NATIVE_CODE:
            reasons.append(f"links native library '{pkg['links']}'")
        for dep in nodes[pid]["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            dep_name = packages[dep["pkg"]]["name"]
            if "build" in kinds and dep_name in C_BUILD_HELPERS:
                reasons.append(f"build-depends on {dep_name}")
        if reasons:
            offenders[f"{pkg['name']} {pkg['version']}"] = reasons

    print(f"{root_name}: {len(seen)} crates in the normal+build dependency tree")
    for name, reasons in sorted(offenders.items()):
        print(f"  C code: {name}: {'; '.join(reasons)}")
    impure = bool(offenders)
    if expect_impure:
        print("self-test: C code detected, as expected" if impure
              else "self-test FAILED: expected C code, found none")
        return 0 if impure else 1
    print("FAIL: the tree builds or links C code" if impure else "OK: pure Rust")
    return 1 if impure else 0


if __name__ == "__main__":
    sys.exit(main())
