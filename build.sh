#!/usr/bin/env bash
# Builds keywarden for Chrome and Firefox (`./build.sh`), runs every test tier (`./build.sh test`) or prints benchmark figures (`./build.sh bench`).
# Installs whatever is missing first; each install step is skipped when its tool is already there.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
TOOLS="$ROOT/.tools"
E2E="$ROOT/tests/e2e"
WASM_BINDGEN_VERSION=0.2.130
DEBIAN_PACKAGES=(chromium chromium-driver firefox-esr binaryen xvfb xauth xdotool age zip)
export PATH="$TOOLS/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"

say() { printf '\n==> [%s s] %s\n' "$SECONDS" "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

ensure_debian_packages() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})"
  fi
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_rust_tools() {
  command -v cargo >/dev/null || die "Rust is required (https://rustup.rs)"
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION into .tools (a few minutes, once)"
    # Without --locked: the CLI's own lockfile pins a crate release the registry no longer serves.
    # Built at opt-level 1 without LTO: it compiles in about half the time, and runs fast enough.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --root "$TOOLS" --quiet
  fi
}

ensure_npm_packages() {
  command -v npm >/dev/null || die "Node.js and npm are required"
  # Reinstall only when the lockfile's contents changed (file times mislead after a checkout).
  local stamp="$E2E/node_modules/.keywarden-lock-sha256" want
  want=$(sha256sum "$E2E/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing npm packages for the tests and the linter"
    (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

ensure_all() {
  ensure_debian_packages
  ensure_rust_tools
  ensure_npm_packages
}

# Clippy lints our own crates while they compile: cargo runs clippy-driver in place of rustc for
# the workspace's members only, so the dependencies are built once, for the extension and the
# tests, rather than a second time in check mode as `cargo clippy` would. A warning fails the
# build. Set for our own cargo commands only (never for `cargo install`).
lint_while_building() {
  local driver
  driver=$(command -v clippy-driver || true)
  [ -n "$driver" ] || driver="$(dirname "$(rustup which cargo)")/clippy-driver"
  [ -x "$driver" ] || die "clippy is required (rustup component add clippy)"
  export RUSTC_WORKSPACE_WRAPPER="$driver"
  # The arguments `cargo clippy -- -D warnings` hands the driver, in its own encoding.
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
}

# A file's size in KiB, and gzipped, for the build summary.
kib() { printf '%s KiB, %s KiB gzipped' "$(( $(wc -c < "$1") / 1024 ))" "$(( $(gzip -9c "$1" | wc -c) / 1024 ))"; }

version() { sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1; }

# One wasm module of the crate: built for release with the cargo arguments after the first two,
# bound by wasm-bindgen into directory $1 as $2.js and $2_bg.wasm, then shrunk by wasm-opt.
wasm_module() {
  local out="$1" name="$2"
  shift 2
  cargo build --quiet --release --lib --target wasm32-unknown-unknown "$@"
  rm -rf "$out"
  wasm-bindgen --target web --out-dir "$out" --out-name "$name" \
    "$ROOT/target/wasm32-unknown-unknown/release/keywarden.wasm"
  "$E2E/node_modules/.bin/wasm-opt" -Oz "$out/${name}_bg.wasm" -o "$out/${name}_bg.wasm"
}

build() {
  lint_while_building
  say "building the step panel's module (release; the panel alone, loaded in every vendor tab)"
  # The same crate with only the panel's entry point: no worker, vault or crypto in it. Built
  # first, so that target/…/keywarden.wasm is left holding the full core (the bench reads it).
  local panel="$ROOT/target/wasm-pkg-panel"
  wasm_module "$panel" keywarden_panel --features panel-frame
  say "building the extension pages' module (release; the popup and the options page, which ask the worker)"
  # The same crate with only the popup's and the options page's entry points: no worker, vault
  # crypto, age or Argon2 in it. Also built before the full core, for the same reason.
  local pages="$ROOT/target/wasm-pkg-pages"
  wasm_module "$pages" keywarden_pages --features pages-frame
  say "building the wasm core (release; the worker's module, built last so the bench's twiggy reads it)"
  local pkg="$ROOT/target/wasm-pkg"
  wasm_module "$pkg" keywarden
  say "building the passphrase strength check (release; loaded by the options page only)"
  cargo build --quiet --release --target wasm32-unknown-unknown -p keywarden-strength
  local strength="$ROOT/target/wasm-pkg-strength" built="$ROOT/target/wasm32-unknown-unknown/release/keywarden_strength.wasm"
  # wasm-opt takes a while over zxcvbn's dictionaries: redo it only when cargo rebuilt the module.
  if [ ! -f "$strength/strength_bg.wasm" ] || [ "$built" -nt "$strength/strength_bg.wasm" ]; then
    rm -rf "$strength"
    wasm-bindgen --target web --out-dir "$strength" --out-name strength "$built"
    "$E2E/node_modules/.bin/wasm-opt" -Oz "$strength/strength_bg.wasm" -o "$strength/strength_bg.wasm"
  fi
  # The dev profile: the native tests build this very binary (and its dependencies) again anyway.
  cargo build --quiet --bin keywarden-tool
  local tool="$ROOT/target/debug/keywarden-tool" v
  v=$(version)
  for browser in chrome firefox; do
    local out="$ROOT/dist/$browser"
    rm -rf "$out" "$ROOT/dist/keywarden-$browser.zip"
    mkdir -p "$out"
    cp extension/*.js extension/*.html extension/*.css "$out/"
    cp -r extension/_locales "$out/"
    mkdir -p "$out/icons"
    cp extension/icons/*.png "$out/icons/"
    cp "$pkg/keywarden.js" "$pkg/keywarden_bg.wasm" "$out/"
    cp -r "$pkg/snippets" "$out/"
    cp "$panel/keywarden_panel.js" "$panel/keywarden_panel_bg.wasm" "$out/"
    cp -r "$panel/snippets" "$out/"
    cp "$pages/keywarden_pages.js" "$pages/keywarden_pages_bg.wasm" "$out/"
    cp -r "$pages/snippets" "$out/"
    cp "$strength/strength.js" "$strength/strength_bg.wasm" "$out/"
    "$tool" manifest extension "$browser" "$v" > "$out/manifest.json"
    (cd "$out" && zip -qr "../keywarden-$browser.zip" .)
  done
  say "built dist/chrome, dist/firefox and their zips (wasm: keywarden_bg.wasm $(kib "$pkg/keywarden_bg.wasm"), keywarden_panel_bg.wasm $(kib "$panel/keywarden_panel_bg.wasm"), keywarden_pages_bg.wasm $(kib "$pages/keywarden_pages_bg.wasm"), strength_bg.wasm $(kib "$strength/strength_bg.wasm"))"
}

lint_firefox() {
  say "web-ext lint dist/firefox"
  local report
  report=$("$E2E/node_modules/.bin/web-ext" lint --source-dir "$ROOT/dist/firefox" --output json --no-config-discovery 2>/dev/null || true)
  node -e '
    const r = JSON.parse(process.argv[1]);
    const all = [...r.errors, ...r.warnings];
    for (const m of all) console.log(`${m._type}: ${m.code} ${m.file || ""} ${m.message}`);
    console.log(`web-ext lint: ${r.summary.errors} errors, ${r.summary.warnings} warnings, ${r.summary.notices} notices`);
    process.exit(all.length ? 1 : 0);
  ' "$report"
}

# The end-to-end suites in both browsers at once: one test run per browser, each with its own
# fixture servers, profiles and X display, its lines prefixed with the browser's name. Most of a
# suite's time is spent waiting on the browser, so the two share the machine well.
e2e_both() {
  local pids=() failed=()
  for browser in chromium firefox; do
    (cd "$E2E" && KEYWARDEN_BROWSERS=$browser npm test --silent 2>&1 | sed -u "s/^/[$browser] /"; exit "${PIPESTATUS[0]}") &
    pids+=("$!")
  done
  local i=0
  for browser in chromium firefox; do
    wait "${pids[$i]}" || failed+=("$browser")
    i=$((i + 1))
  done
  [ ${#failed[@]} -eq 0 ] || die "end-to-end tests failed in: ${failed[*]} (look for 'not ok' above)"
}

run_tests() {
  lint_while_building
  say "style: rustfmt (clippy already linted the wasm builds, and lints the tests as they compile)"
  cargo fmt --all --check
  say "tier 1: native core (cargo test)"
  # Every target compiles (and so is linted), benches included; then the tests run.
  cargo test --quiet --workspace --all-targets --no-run
  cargo test --quiet --workspace
  say "tier 2: wasm glue in headless Chromium (wasm-bindgen-test)"
  cargo test --target wasm32-unknown-unknown --test web --test web_vault
  lint_firefox
  say "tier 3: end to end, Chromium and Firefox side by side"
  e2e_both
  say "bench smoke: the collector with the payload figures (./build.sh bench runs them all)"
  node "$E2E/bench/collect.mjs" --only payload.bench.mjs --quick
}

# Every bench source (cargo benches, tests/e2e/bench/*.bench.mjs) into one table, also written as
# JSON under target/bench/. Arguments go to the collector (--only NAME,…; --quick).
run_benches() {
  say "benchmarks (tests/e2e/bench/collect.mjs)"
  node "$E2E/bench/collect.mjs" "$@"
}

case "${1:-build}" in
  build) ensure_all; build ;;
  test) ensure_all; build; run_tests ;;
  bench) shift; ensure_all; build; run_benches "$@" ;;
  *) die "usage: ./build.sh [build|test|bench [--only NAME,…] [--quick]]" ;;
esac
