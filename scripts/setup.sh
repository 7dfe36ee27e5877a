#!/usr/bin/env bash
# Installs what building and testing Mingpian needs on a Debian 12 machine (idempotent).
# Runs as root (CI) or with sudo available.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# System packages: C toolchain for -sys crates, zbar (the QR comparison baseline), Python's pip;
# for the desktop app (Tauri v2 on WebKitGTK) and its end-to-end tests: the webkit/gtk -dev
# packages, Xvfb, WebKitWebDriver, a D-Bus daemon (one session bus per app instance: the desktop
# app allows one running instance per session), and CJK and Latin fonts (screenshots; generated OCR
# test cards); HAProxy, the load balancer in front of two instances (scripts/run-cluster.sh and the
# cluster benchmark).
PACKAGES=(build-essential pkg-config zbar-tools python3-pip postgresql-client haproxy
  file curl libssl-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  xvfb xauth webkit2gtk-driver dbus fonts-noto-cjk fonts-dejavu-core tzdata locales)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The locales the end-to-end test runs the app in (its two people: en_US and zh_CN). Without
# them GTK falls back to the C locale.
if ! { locale -a 2>/dev/null | grep -qix 'en_US.utf8' && locale -a | grep -qix 'zh_CN.utf8'; }; then
  echo "setup: generating the en_US.UTF-8 and zh_CN.UTF-8 locales"
  $SUDO sed -i -E 's/^# *((en_US|zh_CN)\.UTF-8 UTF-8)/\1/' /etc/locale.gen
  $SUDO locale-gen >/dev/null
fi

# Python reference implementations the tests compare against (vobject), that benchmarks
# report beside ours (zxing-cpp), and a real CardDAV client the address-book test syncs with
# (vdirsyncer).
# Pinned, so a comparison never changes under us.
python_pkgs=(vobject==0.9.9 zxing-cpp==3.1.1 pillow==13.0.0 vdirsyncer==0.19.3)
if ! python3 - <<'PY' 2>/dev/null
from importlib.metadata import version
assert (version("vobject"), version("zxing-cpp"), version("pillow"), version("vdirsyncer")) == ("0.9.9", "3.1.1", "13.0.0", "0.19.3")
PY
then
  echo "setup: installing ${python_pkgs[*]} from PyPI"
  python3 -m pip install -q "${python_pkgs[@]}" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "${python_pkgs[@]}"
fi


# Rust: the machine's toolchain, with rustfmt and clippy.
command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

# The app's UI (Svelte + Vite + the Tauri CLI) from the npm registry, exactly as locked. The
# machine's Node.js 20 is used when present; Debian's otherwise.
if ! command -v npm >/dev/null; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
# npm ci again only when the lock file changed since the last install.
stamp=ui/node_modules/.package-lock.sha256
want=$(sha256sum ui/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  (cd ui && npm ci --no-audit --no-fund)
  echo "$want" > "$stamp"
fi

# The on-device OCR models (PP-OCRv6 small, from PyPI's rapidocr wheel) into ~/.cache/mingpian,
# and a copy into src-tauri/models, which the app bundles (tauri.conf.json's resources).
bash scripts/fetch-models.sh

# tauri-driver: WebDriver for the desktop app, used by the end-to-end tests.
export PATH="$HOME/.cargo/bin:$PATH"
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked --version 2.1.0
echo "setup: done"
