#!/usr/bin/env python3
"""Regenerate capi/libndctl.tsv from the research notes (libndctl.md section 1.3).

The TSV is the committed source of truth for the C ABI (names, version nodes, groups,
prototypes); this script only exists so the provenance of every row can be re-checked:

    scripts/gen-libndctl-tsv.py ../shared/reference/libndctl.md > capi/libndctl.tsv

Layer rule (issue 3): the object layer is every function of the reference groups ctx, bus,
dimm, region, mapping, interleave_set, namespace, btt, pfn, dax plus the context-free
helpers (misc) = 259; everything else (badblock/error injection, generic cmd, labels,
vendor cmd, smart/health, ars/scrub, firmware, security) is the command layer = 141.
"""
import re
import sys

GROUPS = {
    "ctx": ("ctx", "object"),
    "bus": ("bus", "object"),
    "dimm": ("dimm", "object"),
    "region": ("region", "object"),
    "mapping": ("mapping", "object"),
    "interleave_set": ("interleave_set", "object"),
    "namespace": ("namespace", "object"),
    "btt": ("btt", "object"),
    "pfn": ("pfn", "object"),
    "dax": ("dax", "object"),
    "misc (context-free helpers)": ("misc", "object"),
    "badblock / error injection": ("badblock", "command"),
    "cmd: generic": ("cmd", "command"),
    "cmd: config-area / labels": ("labels", "command"),
    "cmd: vendor-specific": ("vendor", "command"),
    "smart / health": ("smart", "command"),
    "ars / scrub / clear-error": ("ars", "command"),
    "firmware (update + activation)": ("firmware", "command"),
    "security": ("security", "command"),
}


def main(path):
    text = open(path, encoding="utf-8").read()
    start = text.index("### 1.3")
    end = text.index("### 1.4")
    group = None
    rows = []
    for line in text[start:end].splitlines():
        m = re.match(r"#### (.*) \((\d+) functions", line)
        if m:
            group = GROUPS[m.group(1)]
            continue
        m = re.match(r"\| `(ndctl_\w+)` \| (LIBNDCTL_\d+) \| (yes|-) \| `(.*)` \|$", line)
        if m:
            name, node, imp, proto = m.groups()
            proto = re.sub(r"\(\s+", "(", re.sub(r"\s+", " ", proto))
            rows.append((name, node, group[0], group[1], "yes" if imp == "yes" else "no", proto))
    names = [r[0] for r in rows]
    if len(rows) != 400 or len(set(names)) != 400:
        sys.exit(f"expected 400 distinct functions, got {len(rows)} ({len(set(names))} distinct)")
    print("# name\tnode\tgroup\tlayer\tcli_import\tprototype")
    for r in sorted(rows):
        print("\t".join(r))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/libndctl.md")
