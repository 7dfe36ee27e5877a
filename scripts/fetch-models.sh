#!/usr/bin/env bash
# Fetches the on-device OCR models (PaddleOCR PP-OCRv6 small detection and recognition, Apache-2.0)
# from PyPI's `rapidocr` wheel into a cache, outside git: ${MINGPIAN_MODELS:-~/.cache/mingpian/models}.
# The wheel and both models are checked against their SHA-256; each model is written to a temporary
# file and renamed into place, so an interrupted fetch never leaves a half model behind.
# The app bundles them: verified copies also go to src-tauri/models (outside git), the folder
# tauri.conf.json's bundle resources name; the app finds them in its resource directory.
set -euo pipefail
BUNDLE="$(cd "$(dirname "$0")/.." && pwd)/src-tauri/models"
VERSION=3.10.0
WHEEL_SHA256=2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050
DET_SHA256=090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f
REC_SHA256=6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884
DEST="${MINGPIAN_MODELS:-$HOME/.cache/mingpian/models}"

verified() { [ -f "$1" ] && echo "$2  $1" | sha256sum --check --status; }

# Copies the verified models into the app's bundle folder, each atomically.
bundle() {
  mkdir -p "$BUNDLE"
  for pair in "PP-OCRv6_det_small.onnx:$DET_SHA256" "PP-OCRv6_rec_small.onnx:$REC_SHA256"; do
    name="${pair%%:*}" sum="${pair#*:}"
    verified "$BUNDLE/$name" "$sum" && continue
    cp "$DEST/$name" "$BUNDLE/.$name.part"
    verified "$BUNDLE/.$name.part" "$sum" || { echo "models: copy of $name is damaged" >&2; exit 1; }
    mv -f "$BUNDLE/.$name.part" "$BUNDLE/$name"
  done
  echo "models: bundled with the app in $BUNDLE"
}

if verified "$DEST/PP-OCRv6_det_small.onnx" "$DET_SHA256" && verified "$DEST/PP-OCRv6_rec_small.onnx" "$REC_SHA256"; then
  echo "models: already in $DEST (checksums match)"
  bundle
  exit 0
fi
mkdir -p "$DEST"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" "rapidocr==$VERSION"
wheel=$(ls "$tmp"/rapidocr-*.whl)
echo "$WHEEL_SHA256  $wheel" | sha256sum --check --status \
  || { echo "models: the rapidocr $VERSION wheel does not match its checksum" >&2; exit 1; }
python3 - "$wheel" "$DEST" "$DET_SHA256" "$REC_SHA256" <<'PY'
import hashlib, os, sys, tempfile, zipfile
wheel, dest, det, rec = sys.argv[1:5]
with zipfile.ZipFile(wheel) as z:
    for name, want in (("PP-OCRv6_det_small.onnx", det), ("PP-OCRv6_rec_small.onnx", rec)):
        data = z.read(f"rapidocr/models/{name}")
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            sys.exit(f"models: {name} has SHA-256 {got}, expected {want}")
        fd, part = tempfile.mkstemp(dir=dest, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, os.path.join(dest, name))
print(f"models: PP-OCRv6 small detection and recognition in {dest} (checksums match)")
PY
bundle
