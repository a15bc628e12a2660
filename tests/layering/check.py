#!/usr/bin/env python3
"""The architecture's rules, checked on the source (a ctest entry, and a report for people).

1. Folders are floors: a file includes portico headers only from its own folder or from a
   folder on a lower floor (FLOORS below; DESIGN.md "Where the code goes next").
2. Basenames are unique across src/, so a bare #include "x.h" names one file (and foo.c
   and foo.h are one module, in one folder).
3. No dependency circles between source files: foo.c depends on bar.c when foo.o uses a
   symbol that bar.o defines (read with nm from the built library, so a call through a
   header declared elsewhere counts as much as an include). Function pointers registered at
   start-up are how a lower floor reaches up without depending on what is above.

Usage: check.py SRC_DIR LIBRARY.a [--graph]
       exit 0 when every rule holds, 1 with one line per breach.
"""
import os
import re
import subprocess
import sys

# Lowest first. src/ itself is the request core; main.c sits on top of everything.
FLOORS = ["base", "conf", "net", "tls", "mpm", "", "http1", "http2", "proxy", "fcgi"]
TOP = {"main.c", "startup.c"}  # the wiring of every floor: may include any
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def scan(src):
    files = {}
    for dirpath, _, names in os.walk(src):
        for n in names:
            if n.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(dirpath, n), src)
                files[rel] = open(os.path.join(dirpath, n), encoding="utf-8").read()
    return files


def folder(rel):
    d = os.path.dirname(rel)
    return d


def object_deps(lib, by_base):
    """foo.c -> {bar.c, ...} from the symbols each object of the archive defines and uses."""
    out = subprocess.run(["nm", lib], check=True, capture_output=True, text=True).stdout
    defined, used, member = {}, {}, None
    for line in out.splitlines():
        if line.endswith(".o:"):
            member = line[:-len(".o:")]
            continue
        parts = line.split()
        if member is None or len(parts) < 2:
            continue
        kind, sym = parts[-2], parts[-1]
        if kind == "U":
            used.setdefault(member, set()).add(sym)
        elif kind in "TDBR" and kind.isupper():
            defined[sym] = member
    deps = {}
    for m, syms in used.items():
        for sym in syms:
            d = defined.get(sym)
            if d and d != m:
                deps.setdefault(m, set()).add(d)
    return deps


def main():
    src = sys.argv[1]
    files = scan(src)
    errors = []
    by_base, by_stem = {}, {}
    for rel in files:
        by_base.setdefault(os.path.basename(rel), []).append(rel)
        stem = os.path.splitext(os.path.basename(rel))[0]
        by_stem.setdefault(stem, set()).add(folder(rel))
    # foo.c and foo.h go together; a foo in two folders is two things with one name (and one
    # object file name in the library).
    for stem, dirs in sorted(by_stem.items()):
        if len(dirs) > 1:
            errors.append("name %s is used in several folders: %s" %
                          (stem, ", ".join(sorted(d or "src" for d in dirs))))

    def resolve(rel, inc):
        if inc in files:
            return inc
        cand = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
        if cand in files:
            return cand
        hits = by_base.get(os.path.basename(inc), [])
        return hits[0] if len(hits) == 1 else None

    for rel, text in sorted(files.items()):
        d = folder(rel)
        if d not in FLOORS:
            errors.append("%s: folder %r has no floor in tests/layering/check.py" % (rel, d))
            continue
        for inc in INCLUDE.findall(text):
            target = resolve(rel, inc)
            if target is None:
                continue  # a system or library header given in quotes
            td = folder(target)
            if os.path.basename(rel) not in TOP and td in FLOORS and \
                    FLOORS.index(td) > FLOORS.index(d):
                errors.append("%s includes %s: %s/ is above %s/" %
                              (rel, target, td or "src", d or "src"))

    deps = object_deps(sys.argv[2], by_base)
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(deps.get(v, ())):
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

    for v in sorted(deps):
        if v not in index:
            visit(v)
    for comp in sccs:
        errors.append("dependency circle: {%s}" % ", ".join(comp))

    if "--graph" in sys.argv:
        for v in sorted(deps):
            print("%s -> %s" % (v, " ".join(sorted(deps[v]))))
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
