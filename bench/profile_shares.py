#!/usr/bin/python3
"""Instruction shares per function family, from `callgrind_annotate --inclusive=no` output.

    profile_shares.py ANNOTATE_FILE [--callgrind CALLGRIND_OUT] [--title TEXT] [--top N]

Every function's self cost (instructions, Ir) goes to the first family whose rule matches its
name (or, for the OpenSSL and nghttp2 families, its object file). Debian's libcrypto has no
symbols for its assembly (AES-NI GCM, GHASH): those functions appear as addresses. With
--callgrind, an address-only function takes the family of its nearest named caller (following
the most expensive call arc) when that caller is AEAD, so the cipher's assembly counts as AEAD. The families follow what the
upstream perf table showed growing (`_emalloc` = allocator, `zval_ptr_dtor` = reference release
and teardown): instruction counts are repeatable for the same binary and input, so the shares
are a stable stand-in for a profile on a noisy machine.
"""

import argparse
import re
import sys

# (family, pattern on the function name, pattern on the object file); first match wins.
FAMILIES = [
    ("allocator",
     r"\b(malloc|free|realloc|calloc|cfree|_int_malloc|_int_free|_int_realloc|malloc_consolidate"
     r"|unlink_chunk|sysmalloc|tcache\w*|malloc_usable_size|operator new|operator delete"
     r"|CRYPTO_(malloc|zalloc|free|realloc|clear_free|clear_realloc)|nghttp2_mem_\w+"
     r"|hook_(malloc|free|realloc)|unattributed_\w+|counted_new|BenchAllocator::\w+"
     r"|EmitterHeap::\w+|emitlab::system_allocator|SystemAllocator\w*)\b|\bcounting_mem\b"
     r"|Allocator::(allocate|deallocate|reallocate)"
     # sim's OpenSSL allocation hooks (block header and canary): part of each OpenSSL allocation
     r"|^emitlab::sim::", None),
    ("reference release and teardown",
     r"ResponseObject::(release|retain|~|defer_release|release_deferred)|~ResponseObject"
     r"|ResponseRef::(reset|~|operator=)|~ResponseRef|ReleasePolicy|release_deferred"
     r"|vector<emitlab::HeaderField[^(]*>::~vector|~HeaderField|HeaderField::~", None),
    ("memcpy", r"\b_*mem(cpy|move)\w*", None),
    ("AEAD", r"(?i)aes|gcm|ghash|chacha|poly1305|EVP_(En|De)crypt|EVP_Cipher|cipher_hw", None),
    ("nghttp2", r"^nghttp2_", r"libnghttp2"),
    ("OpenSSL (record layer, rest)", r"^(SSL_|ssl3?_|tls1?3?_|ossl_|EVP_|BIO_|bio_|OPENSSL_|ERR_"
     r"|CRYPTO_|OSSL_)", r"libssl|libcrypto"),
    ("handler and replay (bench)", r"emitlab::bench::", None),
    ("emitter (emitlab core)", r"emitlab::", None),
]

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(.*)$")


def parse(path):
    """[(ir, function, object)] from the function table of an annotate file, and the total."""
    rows, total, in_table = [], None, False
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if "PROGRAM TOTALS" in line:
                m = LINE.match(line)
                total = int(m.group(1).replace(",", "")) if m else None
            elif line.strip().endswith("file:function"):
                in_table = True
            elif in_table:
                m = LINE.match(line)
                if not m:
                    if rows and not line.strip():
                        break
                    continue
                ir = int(m.group(1).replace(",", ""))
                rest = m.group(2)
                obj = ""
                om = re.search(r"\s\[([^\]]*)\]$", rest)
                if om:
                    obj, rest = om.group(1), rest[:om.start()]
                function = rest.split(":", 1)[1] if ":" in rest else rest
                rows.append((ir, function.strip(), obj))
    return rows, total


HEX_NAME = re.compile(r"^0x[0-9a-fA-F]+$")
NAMED = re.compile(r"^\((\d+)\)(?:\s+(.*))?$")


class CallGraph:
    """Caller arcs of a callgrind.out file: callee id -> {caller id: inclusive cost}."""

    def __init__(self, path):
        self.names, self.objects, self.callers = {}, {}, {}
        objects = {}
        ob = fn = callee = None
        pending_call = False
        with open(path, encoding="utf-8", errors="replace") as f:
            for raw in f:
                line = raw.rstrip("\n")
                if line.startswith("ob="):
                    ob = self._ref(line[3:], objects)
                elif line.startswith("fn="):
                    fn = self._ref(line[3:], self.names)
                    self.objects.setdefault(fn, ob)
                elif line.startswith("cfn="):
                    callee = self._ref(line[4:], self.names)
                elif line.startswith("calls="):
                    pending_call = True
                elif pending_call and line[:1].isdigit() or pending_call and line[:1] in "+-*":
                    cost = int(line.split()[-1])
                    arcs = self.callers.setdefault(callee, {})
                    arcs[fn] = arcs.get(fn, 0) + cost
                    pending_call = False
        self.object_names = objects

    @staticmethod
    def _ref(text, table):
        m = NAMED.match(text.strip())
        if not m:
            return text.strip()
        key = int(m.group(1))
        if m.group(2):
            table[key] = m.group(2)
        return key

    def ids_named(self, name, obj):
        ids = [i for i, n in self.names.items() if n == name]
        matching = [i for i in ids if obj and self.object_names.get(self.objects.get(i)) == obj]
        return matching or ids

    def named_ancestor(self, fn_id, depth=10):
        seen = set()
        while depth > 0 and fn_id not in seen:
            seen.add(fn_id)
            arcs = self.callers.get(fn_id)
            if not arcs:
                return None
            fn_id = max(arcs.items(), key=lambda kv: kv[1])[0]
            name = self.names.get(fn_id, "")
            if name and not HEX_NAME.match(name):
                return name
            depth -= 1
        return None


def family_of(function, obj):
    for name, fn_pattern, obj_pattern in FAMILIES:
        if fn_pattern and re.search(fn_pattern, function):
            return name
        if obj_pattern and re.search(obj_pattern, obj):
            return name
    return "other"


def classify(function, obj, graph):
    family = family_of(function, obj)
    if graph is not None and HEX_NAME.match(function):
        for fn_id in graph.ids_named(function, obj):
            ancestor = graph.named_ancestor(fn_id)
            if ancestor and family_of(ancestor, "") == "AEAD":
                return "AEAD"
    return family


def family_names():
    return [f[0] for f in FAMILIES] + ["other"]


def by_family(rows, graph):
    """{family: [(ir, function)]} for the rows of parse()."""
    families = {}
    for ir, function, obj in rows:
        families.setdefault(classify(function, obj, graph), []).append((ir, function))
    return families


def shares(annotate_path, callgrind_path):
    """{family: instructions} and the total, for bench/counts.py's profile rows."""
    rows, total = parse(annotate_path)
    graph = CallGraph(callgrind_path) if callgrind_path else None
    families = by_family(rows, graph)
    total = total or sum(r[0] for r in rows)
    return {name: sum(m[0] for m in families.get(name, [])) for name in family_names()}, total


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("annotate")
    p.add_argument("--callgrind", help="the callgrind.out file, to name address-only functions")
    p.add_argument("--title", default="")
    p.add_argument("--top", type=int, default=3, help="functions listed per family")
    args = p.parse_args(argv)
    try:
        rows, total = parse(args.annotate)
        graph = CallGraph(args.callgrind) if args.callgrind else None
    except OSError as e:
        print(f"profile_shares.py: {e}", file=sys.stderr)
        return 2
    if not rows:
        print(f"profile_shares.py: {args.annotate}: no function table (was anything collected?)",
              file=sys.stderr)
        return 1
    total = total or sum(r[0] for r in rows)
    families = by_family(rows, graph)
    order = family_names()
    if args.title:
        print(args.title)
    print(f"{total:,} instructions in the timed phase")
    print(f"{'family':34} {'share':>7} {'instructions':>16}   top functions")
    for name in order:
        members = sorted(families.get(name, []), reverse=True)
        ir = sum(m[0] for m in members)
        top = "; ".join(f"{fn[:48]} {100.0 * n / total:.1f}%" for n, fn in members[:args.top])
        print(f"{name:34} {100.0 * ir / total:6.1f}% {ir:16,}   {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
