#!/usr/bin/env python3
"""Which top-level module of a crate uses which, from the `crate::module` paths in its sources
(`use crate::x::..`, `crate::x::y(..)`, `super::` inside a sub-module counts as its parent), and
the import cycles among them (strongly connected components of more than one module).

    python3 tools/module-deps.py [CRATE_SRC=orm-core/src]
"""
import os
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "orm-core/src"
modules = sorted(
    n[:-3] if n.endswith(".rs") else n
    for n in os.listdir(src)
    if (n.endswith(".rs") and n not in ("lib.rs", "main.rs")) or os.path.isdir(os.path.join(src, n))
)
uses = {m: set() for m in modules}
path_re = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
group_re = re.compile(r"use\s+crate::\{([^;]*)\};", re.S)
for m in modules:
    files = []
    if os.path.isdir(os.path.join(src, m)):
        for root, _, names in os.walk(os.path.join(src, m)):
            files += [os.path.join(root, n) for n in names if n.endswith(".rs")]
    if os.path.exists(os.path.join(src, m + ".rs")):
        files.append(os.path.join(src, m + ".rs"))
    for f in files:
        text = open(f).read()
        # Leave out comments and doc comments (their paths are links, not uses).
        code = "\n".join(l for l in text.split("\n") if not l.lstrip().startswith("//"))
        found = set(path_re.findall(code))
        for g in group_re.findall(code):
            found |= {p.strip().split("::")[0] for p in g.split(",") if p.strip()}
        uses[m] |= {u for u in found if u in uses and u != m}

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in sorted(uses[v]):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        sccs.append(sorted(comp))
for v in modules:
    if v not in index:
        visit(v)

for m in modules:
    print(f"{m:<12} uses {', '.join(sorted(uses[m])) or '-'}")
cycles = [c for c in sccs if len(c) > 1]
print()
if cycles:
    for c in cycles:
        print("cycle:", " <-> ".join(c))
        for a in c:
            for b in sorted(uses[a] & set(c)):
                print(f"   {a} -> {b}")
else:
    print("no import cycle")
