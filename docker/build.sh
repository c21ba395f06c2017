#!/usr/bin/env bash
# Build the kernel image the Docker runner uses:  bash docker/build.sh [cpu|gpu]
#
# cpu (the default) needs no registry: the base is Debian made with debootstrap from the
# distribution's mirror and imported as dlgrader/base:bookworm (once, about a minute),
# and the wheels are downloaded by the host's pip into docker/build/wheels, so the
# image gets the same CPU torch wheel the host uses. gpu needs a registry (see
# Dockerfile.gpu). Both tag dlgrader/kernel-KIND:VERSION, the tag the runner looks for,
# and label the image with a digest of the grader's kernel-side code, which the runner
# compares with its own so that a stale image is an error, not a silent mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
KIND=${1:-cpu}
PY=${PYTHON:-.venv/bin/python}
BASE=dlgrader/base:bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CTX=docker/build/$KIND
TAG=$("$PY" -c "from grader.runners.docker_image import image_tag; print(image_tag('$KIND'))")
DIGEST=$("$PY" -c "from grader.runners.docker_image import kernel_digest; print(kernel_digest())")

case "$KIND" in cpu|gpu) ;; *) echo "usage: bash docker/build.sh [cpu|gpu]" >&2; exit 2 ;; esac
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || {
  echo "build: no Docker engine answers; start one with: bash scripts/docker-engine.sh" >&2
  exit 1
}

if [ "$KIND" = cpu ] && ! docker image inspect "$BASE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || {
    [ "$(id -u)" = 0 ] || { echo "build: install debootstrap (root needed)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  ROOTFS=$(mktemp -d /tmp/dlgrader-rootfs.XXXXXX)
  echo "build: debootstrap Debian bookworm with python3 into $ROOTFS (about a minute)"
  debootstrap --variant=minbase --include=python3,python3-venv bookworm "$ROOTFS" "$MIRROR" \
    >/tmp/dlgrader-debootstrap.log 2>&1 || {
      tail -n 20 /tmp/dlgrader-debootstrap.log >&2; exit 1; }
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  tar -C "$ROOTFS" -c . | docker import - "$BASE" >/dev/null
  rm -rf "$ROOTFS"
  echo "build: imported $BASE"
fi

mkdir -p "$CTX/wheels"
rm -rf "$CTX/grader-wheel"
cp docker/Dockerfile."$KIND" docker/requirements-kernel-"$KIND".txt "$CTX"/
if [ "$KIND" = cpu ]; then
  echo "build: fetching the pinned wheels into $CTX/wheels"
  "$PY" -m pip download -q --disable-pip-version-check --only-binary=:all: \
    -r docker/requirements-kernel-cpu.txt -d "$CTX/wheels" 2>&1 | grep -v "is ignored" || true
fi
"$PY" -m pip wheel -q --disable-pip-version-check --no-deps -w "$CTX/grader-wheel" . \
  2>&1 | grep -v "is ignored" || true
echo "build: building $TAG"
DOCKER_BUILDKIT=0 docker build -q -f "$CTX/Dockerfile.$KIND" --build-arg KERNEL_DIGEST="$DIGEST" \
  -t "$TAG" "$CTX" >/dev/null
echo "build: $TAG ready ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.1f GB", $1/1e9}'))"
