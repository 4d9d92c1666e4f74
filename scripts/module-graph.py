#!/usr/bin/env python3
"""The module graph of api/src: which module imports which (`use crate::…`, `crate::…` paths and
`super::…`), every circle in it, and any module below the HTTP layer that knows HTTP.
Usage: scripts/module-graph.py [SRC_DIR] [--dot]. Exits 1 on a circle or a layer broken, so
`just lint` holds the house to its shape."""
import os, re, sys

src = next((a for a in sys.argv[1:] if not a.startswith("--")), "api/src")

def module_of(path):
    rel = os.path.relpath(path, src)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts) or "crate"

modules = {}
for root, _, files in os.walk(src):
    for f in files:
        if f.endswith(".rs"):
            p = os.path.join(root, f)
            modules[module_of(p)] = p

def resolve(path):
    """The longest known module that prefixes `a::b::c`."""
    parts = path.split("::")
    for n in range(len(parts), 0, -1):
        cand = "::".join(parts[:n])
        if cand in modules:
            return cand
    return None

edges = {m: set() for m in modules}
for mod, path in modules.items():
    text = open(path).read()
    text = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)  # unit tests aside
    for m in re.finditer(r"\bcrate::((?:\w+::)*)(\w+|\{[^}]*\})", text):
        prefix, last = m.group(1), m.group(2)
        names = [n.strip() for n in last.strip("{}").split(",")] if last.startswith("{") else [last]
        for name in filter(None, names):
            name = name.split(" as ")[0].strip()
            target = prefix.rstrip(":") if name == "self" else prefix + name
            t = resolve(target)
            if t and t != mod:
                edges[mod].add(t)
    base = mod.split("::")
    # `super::x` inside a::b (file a/b.rs) names a::x
    for m in re.finditer(r"\bsuper::((?:\w+::)*\w+)", text):
        t = resolve("::".join(base[:-1] + [m.group(1)]) if len(base) > 1 else m.group(1))
        if t and t != mod:
            edges[mod].add(t)
    # `use super::{a, b}`
    for m in re.finditer(r"\bsuper::\{([^}]*)\}", text):
        for name in re.split(r"[,\s]+", m.group(1)):
            name = name.split("::")[0].strip()
            if name:
                t = resolve("::".join(base[:-1] + [name]))
                if t and t != mod:
                    edges[mod].add(t)
# A module "imports" its parent when it names it; a parent declaring `mod child` is not an import.

def cycles():
    index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
    def strong(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in sorted(edges):
        if v not in index: strong(v)
    return out

if "--dot" in sys.argv:
    print("digraph api {")
    for a in sorted(edges):
        for b in sorted(edges[a]):
            print(f'  "{a}" -> "{b}";')
    print("}")
else:
    for a in sorted(edges):
        print(f"{a:24} -> {', '.join(sorted(edges[a])) or '-'}")
found = cycles()
for c in found:
    print(f"CIRCLE of {len(c)} modules: {' <-> '.join(c)}", file=sys.stderr)

# Below the HTTP layer nothing knows HTTP: no actix, no app, no handler.
LOWER = ("service", "store", "oauth", "state", "error", "config", "throttle", "metrics", "digest")
UPPER = ("app", "http", "cli", "openapi")
wrong = []
for mod, path in modules.items():
    if mod.split("::")[0] not in LOWER:
        continue
    if "actix" in open(path).read():
        wrong.append(f"{mod} uses actix")
    wrong += [f"{mod} imports {t}" for t in sorted(edges[mod]) if t.split("::")[0] in UPPER]
for w in wrong:
    print(f"LAYER: {w}", file=sys.stderr)
sys.exit(1 if found or wrong else 0)
