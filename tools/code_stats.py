#!/usr/bin/env python3
"""Prints what a newcomer meets in the Rust code: the longest functions, the largest files, how
many ways the tests start a cloud, and how many `expect`/`unwrap` calls sit outside tests.

Usage: tools/code_stats.py [ROOT]   (ROOT defaults to the repository)

Functions are measured as rustfmt writes them: from the `fn` line to its closing brace at the same
indentation. Test code is `tests/`, `benches/`, `examples/`, `fuzz/` and everything after a
`#[cfg(test)]` line in a source file.
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
SKIP_DIRS = {"target", "node_modules", ".git", "fuzz"}
TEST_DIRS = ("tests", "benches", "examples")


def rust_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            if name.endswith(".rs"):
                yield os.path.relpath(os.path.join(dirpath, name), ROOT)


def is_test_path(path):
    parts = path.split(os.sep)
    # The test kit crate and `tests.rs` modules are test code too.
    return any(p in TEST_DIRS for p in parts) or "testkit" in parts or parts[-1] == "tests.rs"


FN = re.compile(r"^(\s*)(pub(\([^)]*\))?\s+)?(async\s+)?(const\s+)?(unsafe\s+)?fn\s+(\w+)")


def functions(lines):
    """(name, first line, length) of every function."""
    out = []
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m or line.rstrip().endswith(";"):
            continue
        indent = m.group(1)
        for j in range(i, len(lines)):
            if lines[j].startswith(indent + "}") and lines[j].strip() in ("}", "};", "})", "},"):
                out.append((m.group(7), i + 1, j - i + 1))
                break
    return out


def main():
    fns, sizes, unwraps, starts = [], [], 0, set()
    start_patterns = [
        (re.compile(r"AppState::new\("), "AppState::new + serve"),
        (re.compile(r"TestCloud::(sqlite|start)\("), "mingpian_testkit::TestCloud"),
        (re.compile(r"ThreadCloud::sqlite\("), "mingpian_testkit::ThreadCloud"),
        (re.compile(r"TestApp::spawn"), "TestApp::spawn"),
        (re.compile(r"TestCloud::spawn"), "TestCloud::spawn"),
        (re.compile(r"CARGO_BIN_EXE_mingpian-cloud"), "the release binary (benchmarks)"),
    ]
    for path in rust_files():
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            lines = f.read().split("\n")
        sizes.append((len(lines), path))
        test_file = is_test_path(path)
        cut = len(lines)
        for i, line in enumerate(lines):
            if line.strip() == "#[cfg(test)]":
                cut = i
                break
        if not test_file:
            for name, first, length in functions(lines[:cut]):
                fns.append((length, f"{path}:{first} {name}"))
            unwraps += sum(
                len(re.findall(r"\.(expect|unwrap)\(", l))
                for l in lines[:cut]
                if not l.strip().startswith("//")
            )
        for i, line in enumerate(lines):
            in_test = test_file or i >= cut
            if not in_test:
                continue
            for pattern, label in start_patterns:
                if pattern.search(line):
                    starts.add((label, path))
    fns.sort(reverse=True)
    sizes.sort(reverse=True)
    print("longest functions (lines, outside tests):")
    for length, where in fns[:8]:
        print(f"  {length:4}  {where}")
    print(f"functions over 120 lines: {sum(1 for l, _ in fns if l > 120)}")
    print("largest files (lines):")
    for n, path in sizes[:8]:
        print(f"  {n:5}  {path}")
    ways = sorted({label for label, path in starts if "testkit" not in path or label != "AppState::new + serve"})
    print(f"ways tests start a cloud: {len(ways)}")
    for label in ways:
        files = sorted({p for l, p in starts if l == label})
        print(f"  {label}: {', '.join(files)}")
    print(f"expect/unwrap outside tests: {unwraps}")


if __name__ == "__main__":
    main()
