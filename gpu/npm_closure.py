#!/usr/bin/env python3
"""Prints the node_modules paths (relative to the project root) the GPU bundle needs.

Deno's node_modules layout: node_modules/<name> links to .deno/<key>/node_modules/<name>, and a
package's dependencies are the other links in .deno/<key>/node_modules/. Starting from the
project's direct imports, this follows those links and prints the top-level links and every
reached .deno/<key> folder, one a line, leaving out what never loads on linux-x64 glibc: other
platforms' prebuilt binaries, musl builds, type packages and onnxruntime-web (transformers.js
runs on onnxruntime-node under Deno). Usage: npm_closure.py NODE_MODULES ROOT...
"""
import os
import re
import sys

SKIP = re.compile(
    r"(^@types\+)|(^onnxruntime-web@)|musl|darwin|win32|android|freebsd|wasm32|webcontainers"
    r"|linux-arm|linux-ppc64|linux-riscv64|linux-s390x|gnueabihf|-arm64"
)


def key_of(target: str) -> str:
    """The .deno/<key> a link resolves into."""
    parts = os.path.normpath(target).split(os.sep)
    return parts[parts.index(".deno") + 1]


def main() -> int:
    nm = sys.argv[1]
    roots = sys.argv[2:]
    deno = os.path.join(nm, ".deno")
    queue, seen, out = [], set(), []
    for name in roots:
        link = os.path.join(nm, name)
        if not os.path.islink(link):
            print(f"npm_closure: {link} is not a link into .deno (run 'make setup')", file=sys.stderr)
            return 1
        out.append(os.path.join(nm, name))
        queue.append(key_of(os.path.realpath(link)))
    while queue:
        key = queue.pop()
        if key in seen or SKIP.search(key):
            continue
        seen.add(key)
        inner = os.path.join(deno, key, "node_modules")
        for entry in os.listdir(inner):
            paths = [os.path.join(inner, entry)]
            if entry.startswith("@"):
                paths = [os.path.join(inner, entry, e) for e in os.listdir(os.path.join(inner, entry))]
            for p in paths:
                if os.path.islink(p):
                    queue.append(key_of(os.path.realpath(p)))
    out.extend(os.path.join(deno, k) for k in sorted(seen))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
