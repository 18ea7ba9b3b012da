#!/usr/bin/env python3
"""Lines, functions and branches of a fuzz target's parser code that its corpus reached.

usage: fuzz_coverage_summary.py BINARY PROFDATA REPORT SPEC...
SPEC is a source path from the repository root, or path:REGEX to count only the functions whose
demangled name matches (the model config readers live in files with the models). Writes
`llvm-cov report -show-functions` for those files to REPORT and prints
"L/L (P%)  F/F (P%)  B/B (P%)".
"""
import json
import os
import re
import subprocess
import sys


def main() -> None:
    binary, profdata, report, specs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    # The file names as the coverage mapping holds them (ccache's base_dir makes them relative to
    # the build folder, e.g. /repo/build/fuzz-coverage/../../core/io/zip_reader.cpp).
    exported = json.loads(subprocess.run(
        ["llvm-cov", "export", "-summary-only", binary, f"-instr-profile={profdata}"],
        check=True, capture_output=True, text=True).stdout)
    root = os.getcwd()
    stored = {os.path.relpath(os.path.normpath(f["filename"]), root): f["filename"]
              for f in exported["data"][0]["files"]}
    only = {}
    equivalence = []
    for spec in specs:
        path, _, regex = spec.partition(":")
        if path not in stored:
            sys.exit(f"{path}: not in {binary}'s coverage mapping")
        only[stored[path]] = re.compile(regex) if regex else None
        prefix = stored[path][: -len(path)].rstrip("/")
        if prefix != root:  # llvm-cov matches the files given by their real path
            equivalence = [f"-path-equivalence={prefix},{root}"]
    with open(report, "w", encoding="utf-8") as out:
        subprocess.run(["llvm-cov", "report", binary, f"-instr-profile={profdata}", *equivalence, "-show-functions",
                        *(os.path.join(root, spec.partition(":")[0]) for spec in specs)],
                       check=True, stdout=out, text=True)
    totals = {"lines": [0, 0], "functions": [0, 0], "branches": [0, 0]}
    current = None
    for row in open(report, encoding="utf-8", errors="replace"):
        m = re.match(r"File '(.*)':", row)
        if m:
            current = m.group(1)
            continue
        parts = row.split()
        if current not in only or len(parts) < 10 or parts[0] in ("Name", "TOTAL") or row.startswith("-"):
            continue
        try:
            regions, regions_miss, lines, lines_miss, branches, branches_miss = (
                int(parts[-9]), int(parts[-8]), int(parts[-6]), int(parts[-5]), int(parts[-3]), int(parts[-2]))
        except ValueError:
            continue
        name = " ".join(parts[:-9])
        if only[current] is not None and not only[current].search(name):
            continue
        totals["lines"][0] += lines - lines_miss
        totals["lines"][1] += lines
        totals["functions"][0] += 1 if regions_miss < regions else 0
        totals["functions"][1] += 1
        totals["branches"][0] += branches - branches_miss
        totals["branches"][1] += branches
    cells = []
    for hit, total in totals.values():
        cells.append(f"{hit}/{total} ({100.0 * hit / total:.1f}%)" if total else "-")
    print("  ".join(f"{c:<16}" for c in cells))


if __name__ == "__main__":
    main()
