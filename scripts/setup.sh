#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine of this kind; idempotent and quick
# when everything is already there. Sources: Debian, crates.io, npm only.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130   # must equal wasm-bindgen in Cargo.lock (checked below)
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

# --- Debian packages ------------------------------------------------------------------------
apt_pkgs=(chromium chromium-driver libpq-dev libssl-dev pkg-config wrk sqlite3 curl openssl)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Rust toolchain pieces ------------------------------------------------------------------
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

lock_wb=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
if [ -n "$lock_wb" ] && [ "$lock_wb" != "$WASM_BINDGEN_VERSION" ]; then
  echo "Cargo.lock has wasm-bindgen $lock_wb but setup pins $WASM_BINDGEN_VERSION" >&2; exit 1
fi

have_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q "$2"; }
have_version just "just" || { log "cargo install just"; cargo install just --locked -q; }
have_version wasm-bindgen "$WASM_BINDGEN_VERSION" || {
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" -q; }
have_version trunk "$TRUNK_VERSION" || {
  log "cargo install trunk $TRUNK_VERSION"
  cargo install trunk --version "$TRUNK_VERSION" --locked -q; }

# --- npm: wasm-opt (binaryen 132; Debian's 108 breaks the wasm) and the browser-test tools --
if [ ! -x e2e/node_modules/.bin/wasm-opt ] || [ ! -d e2e/node_modules/playwright-core ] || [ e2e/package.json -nt e2e/node_modules/.stamp ]; then
  log "npm ci in e2e/"
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.stamp)
fi

# --- PyPI: the SDK generator (SDK proof), schemathesis (hostile input), OAuth libraries ------
pip_want=()
command -v openapi-python-client >/dev/null 2>&1 && openapi-python-client --version | grep -q 0.29.1 \
  || pip_want+=(openapi-python-client==0.29.1)
command -v schemathesis >/dev/null 2>&1 && schemathesis --version | grep -q 4.32.5 \
  || pip_want+=(schemathesis==4.32.5)
# OAuth 2.0 libraries nobody here wrote, for e2e/sdk/oauth_libraries.py
python3 -c 'import authlib, requests_oauthlib, jwt, cryptography
assert authlib.__version__ == "1.9.10" and jwt.__version__ == "2.15.1"' 2>/dev/null \
  || pip_want+=(authlib==1.9.10 requests-oauthlib==2.0.0 "pyjwt[crypto]==2.15.1")
if ((${#pip_want[@]})); then
  log "pip install ${pip_want[*]}"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "${pip_want[@]}"
fi

# --- fetch crates so trunk's offline cargo build finds them ------------------------------------
cargo fetch -q
log "ready"
