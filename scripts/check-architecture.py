#!/usr/bin/env python3
"""Checks the workspace's architecture rules (issue 16, docs/ARCHITECTURE.md):

1. No import circles: within every crate, neither its top-level modules nor the files of any
   one directory import each other in a circle. An import is a `use` of, or a path through,
   `crate::…`, `super::…` or `self::…`; a `pub use` re-export in a `mod.rs`/`lib.rs` is
   looked through to the file that defines the item.
2. The orchestrator links neither the node (`p2p-node`) nor axum
   (`cargo tree -p orchestrator -e normal`).

Exit 1 with the circles or links found; 0 otherwise.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES = ["api", "node", "netem", "orchestrator", "benches"]

PATH_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP_RE = re.compile(r"\buse\s+(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)
REEXPORT_RE = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+(?:self::)?([a-z_][a-z0-9_]*)::(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def module_files(src):
    """Maps module paths (tuples) to files, for one source directory (lib.rs or main.rs roots)."""
    files = {}
    for dirpath, _, names in os.walk(src):
        for name in names:
            if not name.endswith(".rs"):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, src)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            files[tuple(rel)] = full
    return files


def item_paths(text):
    """Every `crate::a::b`, `super::a`, `self::a` path, with `use x::{a, b::c}` groups expanded."""
    out = []
    for root, prefix, group in USE_GROUP_RE.findall(text):
        for part in re.split(r",\s*", group):
            part = part.strip().split(" as ")[0].strip()
            if part and part != "self":
                head = re.match(r"[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*", part)
                if head:
                    out.append((root, prefix.strip(":").split("::") + head.group(0).split("::") if prefix else head.group(0).split("::")))
    for root, rest in PATH_RE.findall(text):
        out.append((root, rest.strip(":").split("::")))
    return out


def resolve(module, root, parts, files, reexports):
    """The module path (a key of `files`) that `root::parts` used from `module` lands in."""
    if root == "crate":
        base = ()
    elif root == "super":
        base = module[:-1]
        while parts and parts[0] == "super":
            base, parts = base[:-1], parts[1:]
    else:
        base = module
    path = base
    for part in parts:
        if path + (part,) in files:
            path = path + (part,)
        elif (path, part) in reexports:
            return reexports[(path, part)]
        else:
            break
    return path


def check_cycles():
    problems = []
    for crate in CRATES:
        src = os.path.join(ROOT, crate, "src")
        if not os.path.isdir(src):
            continue
        files = module_files(src)
        texts = {m: strip(open(f, encoding="utf-8").read()) for m, f in files.items()}
        reexports = {}
        for module, text in texts.items():
            for child, group, single in REEXPORT_RE.findall(text):
                if module + (child,) not in files:
                    continue
                names = [single] if single else [n.strip().split(" as ")[-1].strip() for n in group.split(",")]
                for n in names:
                    if n:
                        reexports[(module, n.split("::")[-1])] = module + (child,)
        edges = {m: set() for m in files}
        for module, text in texts.items():
            for root, parts in item_paths(text):
                target = resolve(module, root, parts, files, reexports)
                if target != module:
                    edges[module].add(target)
        # Top-level modules, and the files of each directory, must form no circle.
        groups = {}
        for module in files:
            if module:
                groups.setdefault(module[:-1], set()).add(module)
        for parent, members in groups.items():
            def node_of(m):
                if m[: len(parent)] != parent or len(m) <= len(parent):
                    return None
                return m[: len(parent) + 1]
            graph = {m: set() for m in members}
            for a, targets in edges.items():
                na = node_of(a)
                if na is None:
                    continue
                for b in targets:
                    nb = node_of(b)
                    if nb is not None and nb != na:
                        graph.setdefault(na, set()).add(nb)
            for scc in strongly_connected(graph):
                if len(scc) > 1:
                    names = sorted("::".join(m) for m in scc)
                    problems.append(f"{crate}: import circle between {', '.join(names)}")
    return problems


def strongly_connected(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            out.append(scc)

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def check_orchestrator_links():
    tree = subprocess.run(
        ["cargo", "tree", "-p", "orchestrator", "-e", "normal", "--prefix", "none"],
        cwd=ROOT, capture_output=True, text=True)
    if tree.returncode != 0:
        return [f"cargo tree failed: {tree.stderr.strip()}"]
    names = {line.split()[0] for line in tree.stdout.splitlines() if line.strip()}
    return [f"orchestrator links {n}" for n in ("p2p-node", "axum") if n in names]


def main():
    problems = check_cycles() + check_orchestrator_links()
    for p in problems:
        print(p)
    if problems:
        return 1
    print("architecture: no import circles; the orchestrator links neither p2p-node nor axum")
    return 0


if __name__ == "__main__":
    sys.exit(main())
