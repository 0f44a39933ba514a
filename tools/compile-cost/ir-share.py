#!/usr/bin/env python3
"""Which functions make up a crate's LLVM IR (a poor man's `cargo llvm-lines`): reads a `.ll`
file (`cargo rustc -p CRATE -- --emit=llvm-ir`), groups every function's lines by its demangled
path with generic arguments removed, and prints the largest groups with their share.

    python3 tools/compile-cost/ir-share.py target/debug/deps/orm_models-*.ll [TOP=25]
"""
import re
import sys
from collections import Counter

def demangle(sym):
    # Legacy Rust mangling: _ZN <len><ident>... 17h<hash> E
    m = re.match(r"_ZN(.*)E$", sym)
    if not m:
        return sym
    s, parts, i = m.group(1), [], 0
    while i < len(s):
        j = i
        while j < len(s) and s[j].isdigit():
            j += 1
        if j == i:
            break
        n = int(s[i:j])
        parts.append(s[j:j + n])
        i = j + n
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    text = "::".join(parts)
    for a, b in [("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$C$", ","), ("$RF$", "&"),
                 ("$BP$", "*"), ("..", "::"), ("$u7b$", "{"), ("$u7d$", "}"), ("$u27$", "'")]:
        text = text.replace(a, b)
    # Drop generic arguments: keep the path.
    out, depth = [], 0
    for c in text:
        if c == "<":
            depth += 1
            if depth == 1:
                out.append("<_>")
            continue
        if c == ">":
            depth -= 1
            continue
        if depth == 0:
            out.append(c)
    return "".join(out)

path = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
sizes, counts, total, current, n = Counter(), Counter(), 0, None, 0
for line in open(path, errors="replace"):
    if line.startswith("define "):
        m = re.search(r"@\"?([^\"(]+)\"?\(", line)
        current, n = (demangle(m.group(1)) if m else "?"), 0
    elif current is not None:
        n += 1
        if line.startswith("}"):
            sizes[current] += n
            counts[current] += 1
            total += n
            current = None
print(f"{total} lines of IR in functions")
for name, lines in sizes.most_common(top):
    print(f"{100 * lines / total:5.1f}%  {lines:8}  x{counts[name]:<4} {name}")
