#!/usr/bin/env bash
# Installs what building and testing Curio needs, skipping whatever is already there.
#   scripts/install-tools.sh build   the wasm32 target, cargo-leptos, wasm-bindgen, wasm-opt
#   scripts/install-tools.sh test    the above, plus Debian's chromium and the end2end npm packages
# Tools that cargo-leptos would otherwise download at run time (wasm-bindgen, wasm-opt)
# come from crates.io and npm instead, because nothing else is reachable here.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=123.0.0
TOOLS_DIR="${CURIO_TOOLS_DIR:-$HOME/.cache/curio-tools}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
what="${1:-build}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'install-tools: %s\n' "$*" >&2; exit 1; }
# Debian packages: directly as root, else through sudo.
apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

command -v cargo >/dev/null && command -v rustup >/dev/null \
  || die "Rust is missing: install rustup (https://rustup.rs), then run this again."
if ! command -v npm >/dev/null; then
  say "installing Node.js and npm (Debian)"
  apt_install nodejs npm
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The tools' own release profiles build with fat LTO in one codegen unit, which took
# 16-25 minutes for cargo-leptos on 2 cores; these tools only drive builds, so they are
# built with the usual parallel codegen instead (in cargo's own temporary directory).
fast_install() {
  env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$@"
}

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (several minutes on 2 cores, once)"
  # --ignore-rust-version: one locked dependency declares a newer rustc than it needs.
  fast_install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --ignore-rust-version
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
wb_version="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock")"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version"
  fast_install wasm-bindgen-cli --version "$wb_version" --force
fi

# wasm-opt from npm's binaryen (Debian's older binaryen produces a WASM that fails to hydrate).
if [ "$("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
fi

if [ "$what" = test ]; then
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's chromium"
    apt_install chromium
  fi
  stamp="$ROOT/end2end/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$ROOT/end2end/package-lock.json" -nt "$stamp" ]; then
    say "installing the end2end npm packages"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
fi
