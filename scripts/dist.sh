#!/usr/bin/env bash
# `just dist`: the release an operator gets — the optimised binary (the SPA inside), README,
# LICENSE, docs and deploy/, packed as target/package/NAME.tar.gz with NAME.tar.gz.sha256.
# `scripts/dist.sh check` unpacks that tarball into an empty directory and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(awk -F'"' '/^version = / {print $2; exit}' Cargo.toml)
name="vitesse-identity-$version-$(uname -m)-linux"
out=target/package
tarball="$out/$name.tar.gz"

if [ "${1:-}" = check ]; then
  dir=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
  (cd "$out" && sha256sum -c "$name.tar.gz.sha256" >/dev/null)
  tar -xzf "$tarball" -C "$dir"
  cd "$dir/$name"
  for f in vitesse-identity README.md LICENSE docs/operating.md docs/security.md docs/requesting-tokens.md \
           deploy/vitesse-identity.service deploy/vitesse-identity.env; do
    [ -e "$f" ] || { echo "dist: $f is missing from the tarball"; exit 1; }
  done
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  env -i PATH="$PATH" HOME="$dir" ./vitesse-identity serve --bind "127.0.0.1:$port" --demo >"$dir/log" 2>&1 &
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$port/" | grep -q '_bg.wasm' || { echo "dist: no web UI"; cat "$dir/log"; exit 1; }
  curl -sf "http://127.0.0.1:$port/.well-known/oauth-authorization-server" | grep -q '"issuer"'
  [ -s data/demo-admin.txt ] || { echo "dist: no demo admin"; exit 1; }
  echo "dist: $tarball unpacked into an empty directory serves the UI and the API"
  exit 0
fi

bin=target/dist/vitesse-identity
[ -x "$bin" ] || { echo "build it first: cargo build --profile dist -p vitesse-api"; exit 1; }
stage="$out/$name"
rm -rf "$stage" && mkdir -p "$stage/docs" "$stage/deploy"
cp "$bin" README.md LICENSE "$stage/"
cp docs/*.md "$stage/docs/"
cp -r docs/examples docs/screenshots "$stage/docs/"
cp deploy/* "$stage/deploy/"
tar -czf "$tarball" -C "$out" "$name"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "$tarball"
cat "$tarball.sha256"
