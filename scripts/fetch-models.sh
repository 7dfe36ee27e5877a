#!/usr/bin/env bash
# Fetches the on-device OCR models (PaddleOCR PP-OCRv6 small detection and recognition, Apache-2.0)
# from PyPI's `rapidocr` wheel into a cache, outside git: ${MINGPIAN_MODELS:-~/.cache/mingpian/models}.
set -euo pipefail
VERSION=3.10.0
DEST="${MINGPIAN_MODELS:-$HOME/.cache/mingpian/models}"
if [ -f "$DEST/PP-OCRv6_det_small.onnx" ] && [ -f "$DEST/PP-OCRv6_rec_small.onnx" ]; then
  echo "models: already in $DEST"
  exit 0
fi
mkdir -p "$DEST"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" "rapidocr==$VERSION"
python3 - "$tmp"/rapidocr-*.whl "$DEST" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"):
        with z.open(f"rapidocr/models/{name}") as src, open(os.path.join(dest, name), "wb") as out:
            out.write(src.read())
print(f"models: PP-OCRv6 small detection and recognition in {dest}")
PY
