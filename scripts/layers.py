#!/usr/bin/env python3
"""layers.py - checks the folder layering of src/ from its #include lines.

weir's folders form layers: sched/ (the pure scheduler library) at the
bottom, then core/, then proto/ (the wire parsers, which use core's address
type and nothing else), then the modes (proxy/, health/, xdp/ and any new
folder: dns/, ha/...), then ctl/, then the programs at the top
(src/main.c, src/register.c). A folder includes only its own layer or
those below it, and folders of one layer include each other without a
circle. Prints what breaks a rule, one line each, and exits 1; silent
otherwise unless -v.

    scripts/layers.py [-v] [SRC_DIR]
"""
import os
import re
import sys

# lower = further down; a folder not listed is a mode
LAYERS = {"sched": 0, "core": 1, "proto": 2, "ctl": 4, ".": 5}
MODE = 3
INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)/[^"]+"')


def layer(folder):
    return LAYERS.get(folder, MODE)


def edges(src):
    """{(from, to): 'file:line'} for every include of another folder."""
    folders = {d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d))}
    out = {}
    for root, _, files in os.walk(src):
        rel = os.path.relpath(root, src)
        here = rel.split(os.sep)[0] if rel != "." else "."
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m and m.group(1) in folders and m.group(1) != here:
                        out.setdefault((here, m.group(1)),
                                       f"{os.path.relpath(path)}:{n}")
    return out


def cycles(graph):
    """The folder circles of <graph> ({node: set of nodes}), each once."""
    found, seen = [], set()

    def walk(node, path):
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                circle = path[path.index(nxt):]
                key = frozenset(circle)
                if key not in seen:
                    seen.add(key)
                    found.append(circle + [nxt])
            elif len(path) < len(graph) + 1:
                walk(nxt, path + [nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


def main(argv):
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    src = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "src")
    e = edges(src)
    bad = []
    for (a, b), where in sorted(e.items()):
        if layer(b) > layer(a):
            bad.append(f"{where}: {a}/ includes {b}/, a layer above it")
    graph = {}
    for a, b in e:
        graph.setdefault(a, set()).add(b)
    for circle in cycles(graph):
        steps = ", ".join(f"{a}/ -> {b}/ ({e[(a, b)]})" for a, b in zip(circle, circle[1:]))
        bad.append(f"include circle: {steps}")
    for line in bad:
        print(f"layers: {line}")
    if verbose and not bad:
        print(f"layers: {len(graph)} folders, {len(e)} folder includes, no circle, "
              "none upwards")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
