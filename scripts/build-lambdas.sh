#!/usr/bin/env bash
# Builds the two Lambda functions (the macro's transform and the provider) for the
# provided.al2023 runtime with cargo-lambda, which comes from PyPI with its own zig
# toolchain, and zips each as bootstrap.zip under $CARGO_TARGET_DIR/lambda/<binary>/.
#
# Usage: scripts/build-lambdas.sh [--arm64|--x86-64]   (default: --arm64, as the support stack)
# arm64 also needs the Rust target: rustup target add aarch64-unknown-linux-gnu
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

arch="${1:---arm64}"
case "$arch" in
  --arm64 | --x86-64) ;;
  *)
    echo "usage: $0 [--arm64|--x86-64]" >&2
    exit 2
    ;;
esac

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cib/target}"
venv="${CIB_CARGO_LAMBDA_VENV:-$HOME/.cache/cib/venv-cargo-lambda}"
if [ ! -x "$venv/bin/cargo-lambda" ]; then
  echo "==> installing cargo-lambda into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'cargo-lambda==1.9.2'
fi
export PATH="$venv/bin:$PATH"

cargo lambda build --release --locked "$arch" --output-format zip \
  --package cib-transform --package cib-provider
for binary in bootstrap cib-provider; do
  ls -l "$CARGO_TARGET_DIR/lambda/$binary/bootstrap.zip"
done
