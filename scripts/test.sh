#!/usr/bin/env bash
# The project's one test command: tools, formatting, lints and every test.
#
# Warm runs are fast: the Python venv and the cargo target dir live outside the
# checkout and are reused; nothing is installed when it is already there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CIB_VENV="${CIB_VENV:-$HOME/.cache/cib/venv}"
export CIB_PYTHON="$CIB_VENV/bin/python"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cib/target}"
# No incremental caches: CI builds each crate once per change, and they only take disk.
export CARGO_INCREMENTAL=0

# A shared target dir grows with every dependency change (cargo never removes old
# artifacts). When the disk under it runs low, start it afresh rather than fail a link
# half way (a linker writing to a full disk dies with SIGBUS).
free_gib() { df -P -k "$1" | awk 'NR == 2 { print int($4 / 1048576) }'; }
mkdir -p "$CARGO_TARGET_DIR"
min_free_gib="${CIB_MIN_FREE_GIB:-12}"
if [ "$(free_gib "$CARGO_TARGET_DIR")" -lt "$min_free_gib" ]; then
  echo "==> under ${min_free_gib} GiB free: removing the cargo target dirs to start afresh"
  rm -rf "$CARGO_TARGET_DIR" "${CIB_FUZZ_TARGET_DIR:-$HOME/.cache/cib/fuzz-target}"
  mkdir -p "$CARGO_TARGET_DIR"
fi
echo "==> disk: $(free_gib "$CARGO_TARGET_DIR") GiB free under $CARGO_TARGET_DIR"

# Python tools used by the tests: cfn-lint, moto's server, PyYAML, parliament (the IAM
# policy linter built on AWS's IAM reference), at the versions the tests were written
# against (a new cfn-lint rule or moto behaviour is a deliberate upgrade).
if [ ! -x "$CIB_PYTHON" ]; then
  echo "==> creating Python venv at $CIB_VENV"
  python3 -m venv "$CIB_VENV"
fi
if ! "$CIB_PYTHON" -c 'import cfnlint, moto.server, flask, yaml, parliament' >/dev/null 2>&1 \
  || [ ! -x "$CIB_VENV/bin/cfn-lint" ] || [ ! -x "$CIB_VENV/bin/parliament" ]; then
  echo "==> installing cfn-lint, moto[server], PyYAML, parliament into $CIB_VENV"
  "$CIB_PYTHON" -m pip install --quiet --disable-pip-version-check \
    'cfn-lint==1.58.0' 'moto[server]==5.2.5' 'PyYAML==6.0.4' 'parliament==1.6.4'
fi

# cfn-lint releases after 1.42 map every `Custom::` type to the generic custom resource even
# when a registry schema for it is given, so our schema would not be applied at all. The
# un-expanded samples are linted against schemas/ with the last release that applies it.
export CIB_REGISTRY_LINT_VENV="${CIB_REGISTRY_LINT_VENV:-$HOME/.cache/cib/venv-cfn-lint-1.42}"
if [ ! -x "$CIB_REGISTRY_LINT_VENV/bin/cfn-lint" ]; then
  echo "==> installing cfn-lint 1.42.0 into $CIB_REGISTRY_LINT_VENV"
  python3 -m venv "$CIB_REGISTRY_LINT_VENV"
  "$CIB_REGISTRY_LINT_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    'cfn-lint==1.42.0'
fi

# Debian packages: shellcheck lints our scripts and the generated buildspecs; skopeo writes
# the registry tests' oci-archive and docker-archive tarballs; docker-registry (the reference
# registry) is the source of the registry-to-ECR copy tests.
missing_packages=()
command -v shellcheck >/dev/null 2>&1 || missing_packages+=(shellcheck)
command -v skopeo >/dev/null 2>&1 || missing_packages+=(skopeo)
command -v docker-registry >/dev/null 2>&1 || missing_packages+=(docker-registry)
if [ "${#missing_packages[@]}" -gt 0 ]; then
  echo "==> installing ${missing_packages[*]}"
  apt-get update
  apt-get install -y --no-install-recommends "${missing_packages[@]}"
fi

echo "==> shellcheck"
shellcheck scripts/*.sh .ci/run

echo "==> cargo fmt"
cargo fmt --all --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

# The whole path on generated input (fuzz/ is a workspace of its own): a fixed number of
# inputs from a fixed seed, so every run of the test command fuzzes the same inputs and a
# failure is reproducible; bounded in time as well. Longer, random runs: scripts/fuzz.sh.
echo "==> fuzz"
CIB_FUZZ_SECONDS="${CIB_FUZZ_SECONDS:-240}" CIB_FUZZ_RUNS="${CIB_FUZZ_RUNS:-60000}" \
  CIB_FUZZ_SEED="${CIB_FUZZ_SEED:-1}" scripts/fuzz.sh

# The pass-through corpus: the repository's own always; another one (CIB_EXTRA_CORPUS, by
# default ../shared/corpus beside the checkout when it exists) as well.
count_templates() {
  find "$1" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' -o -name '*.template' \) | wc -l
}
echo "==> pass-through corpus tests/corpus: $(count_templates tests/corpus) templates"
if [ -z "${CIB_EXTRA_CORPUS:-}" ] && [ -d ../shared/corpus ]; then
  CIB_EXTRA_CORPUS="$(cd ../shared/corpus && pwd)"
fi
if [ -n "${CIB_EXTRA_CORPUS:-}" ]; then
  export CIB_EXTRA_CORPUS
  echo "==> extra pass-through corpus $CIB_EXTRA_CORPUS: $(count_templates "$CIB_EXTRA_CORPUS") templates"
fi

echo "==> cargo test"
cargo test --workspace --locked
