# Curio: `make run` serves the shop, `make test` runs every test. Both install what they
# need first (see scripts/install-tools.sh).

SHELL := /bin/bash
TOOLS_DIR ?= $(HOME)/.cache/curio-tools
export PATH := $(TOOLS_DIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
CURIO := $(TARGET_DIR)/release/curio

.PHONY: run test build tools test-tools rust-test e2e watch clean

## Build in release mode and serve http://127.0.0.1:3000 on the embedded SQLite database.
run: build
	$(CURIO) serve --site-root target/site

## Rust tests (SQLite, plus PostgreSQL when DATABASE_URL names one), then Playwright.
test: test-tools build rust-test e2e

tools:
	CURIO_TOOLS_DIR=$(TOOLS_DIR) scripts/install-tools.sh build

test-tools:
	CURIO_TOOLS_DIR=$(TOOLS_DIR) scripts/install-tools.sh test

## Release build: the server binary and the hydrating WASM bundle under target/site.
build: tools
	cargo leptos build --release --split

# LEPTOS_OUTPUT_NAME is read at compile time by leptos_config; cargo-leptos sets it, so
# the tests set it too, or every `make test` would recompile the Leptos crates twice.
# `app` is tested in the same invocation as `server`, so it builds with the same features.
rust-test:
	LEPTOS_OUTPUT_NAME=curio cargo test --release -p curio -p server -p app

## End-to-end tests in Debian's Chromium against the release server (started by Playwright).
e2e:
	cd end2end && CURIO_BIN=$(abspath $(CURIO)) CURIO_SITE_ROOT=$(abspath target/site) npx playwright test

## The hot-reloading development loop.
watch: tools
	cargo leptos watch --split

clean:
	cargo clean
