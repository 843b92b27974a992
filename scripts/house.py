#!/usr/bin/env python3
"""The house's shape, for before/after comparisons of a refactoring (issue 7).

Prints: the struct with the most fields, the longest function, files over 300 lines, and
import circles between the top-level modules of src/ (module A uses crate::B and B uses
crate::A, directly or through a longer cycle).

Usage: scripts/house.py [SRC_DIR]   (default: src). Counts are textual: a field is a line of
the form `name: Type,` at the struct's first nesting level; a function spans from its `fn` line
to the line that closes its body.
"""
import os
import re
import sys
from collections import defaultdict

src = sys.argv[1] if len(sys.argv) > 1 else "src"
files = []
for root, _, names in os.walk(src):
    files += [os.path.join(root, n) for n in names if n.endswith(".rs")]


def top_module(path):
    rel = os.path.relpath(path, src).split(os.sep)
    return rel[0][:-3] if rel[0].endswith(".rs") else rel[0]


structs, fns, long_files = [], [], []
graph = defaultdict(set)
for path in sorted(files):
    lines = open(path, encoding="utf-8").read().split("\n")
    if len(lines) > 300:
        long_files.append((len(lines), path))
    me = top_module(path)
    in_tests = False
    for i, line in enumerate(lines):
        if re.match(r"\s*#\[cfg\(test\)\]", line):
            in_tests = True
        if not in_tests:
            for m in re.finditer(r"crate::(\w+)", line):
                if m.group(1) != me and m.group(1) not in ("lib", "main"):
                    graph[me].add(m.group(1))
        s = re.match(r"\s*(pub(\(\w+\))?\s+)?struct\s+(\w+)[^;(]*\{\s*$", line)
        if s:
            depth, n, j = 1, 0, i + 1
            while j < len(lines) and depth > 0:
                t = lines[j]
                if depth == 1 and re.match(r"\s*(pub(\(\w+\))?\s+)?\w+\s*:", t):
                    n += 1
                depth += t.count("{") - t.count("}")
                j += 1
            structs.append((n, s.group(3), path))
        f = re.match(r"\s*(pub(\(\w+\))?\s+)?(const\s+)?fn\s+(\w+)", line)
        if f:
            j, depth, opened = i, 0, False
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                opened = opened or "{" in lines[j]
                if ";" in lines[j] and not opened:
                    break
                if opened and depth <= 0:
                    break
                j += 1
            if opened:
                fns.append((j - i + 1, f.group(4), f"{path}:{i + 1}"))

structs.sort(reverse=True)
fns.sort(reverse=True)
print("largest structs (fields):", ", ".join(f"{n} {name} ({p})" for n, name, p in structs[:3]))
print("longest functions (lines):", ", ".join(f"{n} {name} ({p})" for n, name, p in fns[:3]))
print(f"files over 300 lines: {len(long_files)}:", ", ".join(f"{p} {n}" for n, p in sorted(long_files, reverse=True)))

# Cycles: strongly connected components of size > 1 (Tarjan).
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(graph[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))


for v in sorted(list(graph)):
    if v not in index:
        visit(v)
print(f"import circles: {len(sccs)}" + ("".join(f"\n  {' <-> '.join(c)}" for c in sccs)))
