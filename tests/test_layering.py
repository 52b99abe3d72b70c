#!/usr/bin/env python3
"""The layering of docs/DECISIONS.md, checked on the built objects.

For every object the build compiles from lib/, sensor/ or correlator/
(compile_commands.json names its source and its .o), `nm -P` gives the
global symbols it defines and those it leaves undefined; an undefined
symbol defined by another of our objects is a call (or a use of a table)
from one source file to the other.  Two rules, over that file graph:

- no circle between files of one folder: each folder's files form a
  layering in which a file calls only files below it.  The one circle
  allowed is the one the protocol itself makes, listed in ALLOWED_RINGS:
  an IP decoder hands a fragment to defrag.c, which hands the
  reassembled datagram back to the decoder of its IP version;
- the folders call one way: the engine and the store call neither each
  other, nor socctl, nor the daemon; socctl calls the engine, the store
  and the sensor's parsers, never the daemon; the daemon never calls
  socctl (nor includes store-query.h, what only socctl reads); lib/
  calls nobody above it; no file includes another folder's *-int.h.

Static functions and static inline helpers are not in the symbol table,
so only calls between files count.  Run with SOC_BUILD_DIR (meson test
sets it) after a build.
"""
import json
import os
import re
import shutil
import subprocess
import sys

BUILD = os.environ.get("SOC_BUILD_DIR",
                       os.path.join(os.path.dirname(__file__), "..", "build"))
SRC = os.environ.get("SOC_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), ".."))

# Folder of a source path relative to the source root; the order of the
# tuple matters (longest first).
FOLDERS = (
    ("correlator/engine/", "engine"),
    ("correlator/store/", "store"),
    ("correlator/socctl/", "socctl"),
    ("correlator/intel/", "intel"),
    ("correlator/archive/", "archive"),
    ("correlator/", "daemon"),
    ("sensor/", "sensor"),
    ("lib/", "lib"),
)

# Which folders a folder may call (besides itself).
MAY_CALL = {
    "lib": set(),
    "engine": {"lib"},
    "intel": {"lib"},
    "store": {"lib", "intel"},
    "archive": {"lib"},
    "daemon": {"lib", "engine", "store", "intel", "archive"},
    "socctl": {"lib", "engine", "store", "intel", "sensor", "archive"},
    "sensor": {"lib"},
}

# The circle the protocol makes: decode-ipv4.c and decode-ipv6.c give a
# fragment to defrag.c (frag_ipv4, frag_ipv6), which decodes the
# reassembled datagram again (decode_ipv4, decode_ipv6; ctx->depth bounds
# the nesting).  Nothing else may join it.
ALLOWED_RINGS = [
    {"sensor/decode-ipv4.c", "sensor/decode-ipv6.c", "sensor/defrag.c"},
]


def objects():
    """(source path relative to the source root, absolute .o path)."""
    path = os.path.join(BUILD, "compile_commands.json")
    with open(path) as f:
        cmds = json.load(f)
    src_root = os.path.realpath(SRC)
    out = []
    for c in cmds:
        src = os.path.realpath(os.path.join(c["directory"], c["file"]))
        rel = os.path.relpath(src, src_root)
        obj = os.path.join(c["directory"], c["output"])
        # A daemon or sensor file compiled again into a test or a
        # benchmark is the same file: count the build of the real target.
        if c["output"].split("/")[0] in ("tests", "bench"):
            continue
        if any(rel.startswith(p) for p, _ in FOLDERS):
            out.append((rel, obj))
    return out


def folder(rel):
    for p, name in FOLDERS:
        if rel.startswith(p):
            return name
    return None


def symbols(obj):
    """(defined, undefined) global symbol sets of one object file."""
    r = subprocess.run(["nm", "-P", obj], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("nm %s: %s" % (obj, r.stderr.strip()))
    defined, undefined = set(), set()
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if kind in ("U", "w", "v"):
            undefined.add(name)
        elif kind.isupper():
            defined.add(name)
    return defined, undefined


def graph(objs):
    """file -> {file: [symbols]} for calls between our files."""
    owner = {}
    syms = {}
    for rel, obj in objs:
        if not os.path.exists(obj):
            sys.exit("%s: not built (run ninja first)" % obj)
        d, u = symbols(obj)
        syms[rel] = u
        for s in d:
            owner.setdefault(s, rel)
    edges = {rel: {} for rel, _ in objs}
    for rel, und in syms.items():
        for s in und:
            to = owner.get(s)
            if to is not None and to != rel:
                edges[rel].setdefault(to, []).append(s)
    return edges


def rings(nodes, edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    n = [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in nodes:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def include_errors(objs):
    """A folder's internals (*-int.h) are its own; store-query.h (what
    only socctl reads) is never the daemon's."""
    internal = {}
    for top in ("lib", "sensor", "correlator"):
        for d, _, names in os.walk(os.path.join(SRC, top)):
            for n in names:
                if n.endswith("-int.h"):
                    rel = os.path.relpath(os.path.join(d, n), SRC)
                    internal[n] = folder(rel)
    errors = []
    for rel, _ in objs:
        fo = folder(rel)
        with open(os.path.join(SRC, rel), errors="replace") as f:
            incs = re.findall(r'^#include "([^"]+)"', f.read(), re.M)
        for h in incs:
            h = os.path.basename(h)
            if h in internal and internal[h] != fo:
                errors.append("%s (%s) includes %s, internal to %s" % (
                    rel, fo, h, internal[h]))
            if h == "store-query.h" and fo == "daemon":
                errors.append("%s (daemon) includes store-query.h" % rel)
    return errors


def main():
    if shutil.which("nm") is None:
        print("nm (binutils) not found: skipped")
        sys.exit(77)
    objs = objects()
    if not objs:
        sys.exit("no objects in %s/compile_commands.json" % BUILD)
    edges = graph(objs)
    errors = []

    byfolder = {}
    for rel, _ in objs:
        byfolder.setdefault(folder(rel), set()).add(rel)
    for name, nodes in sorted(byfolder.items()):
        for comp in rings(nodes, edges):
            if comp in ALLOWED_RINGS:
                continue
            lines = []
            for a in sorted(comp):
                for b in sorted(edges[a]):
                    if b in comp:
                        lines.append("    %s -> %s (%s)" % (
                            a, b, ", ".join(sorted(edges[a][b])[:4])))
            errors.append("circle in %s: %s\n%s" % (
                name, " ".join(sorted(comp)), "\n".join(lines)))

    for a in sorted(edges):
        fa = folder(a)
        for b, names in sorted(edges[a].items()):
            fb = folder(b)
            if fb != fa and fb not in MAY_CALL[fa]:
                errors.append("%s (%s) calls %s (%s): %s" % (
                    a, fa, b, fb, ", ".join(sorted(names)[:4])))

    errors += include_errors(objs)

    ncalls = sum(len(v) for v in edges.values())
    print("%d files, %d file-to-file edges, %d folders" % (
        len(edges), ncalls, len(byfolder)))
    if errors:
        for e in errors:
            print("FAIL", e)
        sys.exit(1)
    print("ok: no circle but %s; folders call one way" % (
        ", ".join(" <-> ".join(sorted(r)) for r in ALLOWED_RINGS)))


if __name__ == "__main__":
    main()
