#!/usr/bin/env python3
"""Decodes every image in ../shared/testdata/qr with `mingpian qr decode`, zbarimg and zxing-cpp,
and prints how many each read (any code found) and read right (the expected text among them).

Usage: tools/qr_compare.py [path/to/mingpian]   (default: target/release/mingpian)
Needs: zbar-tools (zbarimg) and the zxing-cpp and Pillow wheels.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "testdata" / "qr"


def expected(entry):
    if not entry["expected_file"]:
        return None
    text = (DATA / entry["expected_file"]).read_text(encoding="utf-8")
    if entry["expected_file"].endswith("expected-set.txt"):
        return set(line for line in text.splitlines() if line)
    return {text}


def ours(binary, paths):
    out = subprocess.run([binary, "--json", "qr", "decode", *map(str, paths)], capture_output=True, text=True)
    results = json.loads(out.stdout)
    if isinstance(results, dict):
        results = [results]
    return {r["image"]: set(r["texts"]) for r in results}


def zbar(path):
    out = subprocess.run(["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary", str(path)],
                         capture_output=True)
    raw = out.stdout
    if not raw:
        return set()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return {text[:-1] if text.endswith("\n") else text}


def zxingcpp_read(path):
    import zxingcpp
    from PIL import Image
    img = Image.open(path)
    return {r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)}


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target" / "release" / "mingpian")
    manifest = json.loads((DATA / "manifest.json").read_text())
    paths = [DATA / e["file"] for e in manifest]
    t = time.perf_counter()
    mine = ours(binary, paths)
    mine_s = time.perf_counter() - t
    rows = {"mingpian (rxing)": (mine.get, mine_s), "zbarimg": (zbar, None), "zxing-cpp": (zxingcpp_read, None)}
    print(f"{len(manifest)} images, {sum(1 for e in manifest if expected(e))} with an expected text")
    for name, (fn, secs) in rows.items():
        found = right = 0
        start = time.perf_counter()
        misses = []
        for entry, path in zip(manifest, paths):
            texts = fn(str(path)) if name != "mingpian (rxing)" else mine[str(path)]
            want = expected(entry)
            found += bool(texts)
            if want is not None and want <= texts:
                right += 1
            elif want is not None:
                misses.append(entry["file"])
        secs = secs if secs is not None else time.perf_counter() - start
        print(f"{name:18} found a code in {found:3}, right {right:3}/{sum(1 for e in manifest if expected(e))}  ({secs:.1f} s)")
        if "-v" in sys.argv:
            print("   missed:", " ".join(misses))


if __name__ == "__main__":
    main()
