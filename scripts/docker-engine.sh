#!/usr/bin/env bash
# Make sure a Docker engine answers on /var/run/docker.sock: install docker.io from the
# distribution's packages if dockerd is missing, and start dockerd by hand if none runs
# (machines without systemd, like CI). Safe to run again. Needs root for both steps.
#
# The daemon is started without iptables and IP forwarding: graded containers run with
# network "none", so nothing needs the bridge network, and the host's firewall is untouched.
set -euo pipefail
DATA_ROOT=${DLGRADER_DOCKER_DATA:-/var/lib/dlgrader-docker}
LOG=${DLGRADER_DOCKER_LOG:-/tmp/dlgrader-dockerd.log}

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if answers; then
  echo "docker-engine: the engine answers ($(docker version --format '{{.Server.Version}}'))"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "docker-engine: no Docker engine answers, and starting one needs root" >&2
  exit 1
fi
if ! command -v dockerd >/dev/null; then
  echo "docker-engine: installing docker.io (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq docker.io >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq docker.io >/dev/null; }
fi
echo "docker-engine: starting dockerd (data in $DATA_ROOT, log in $LOG)"
mkdir -p "$DATA_ROOT"
nohup dockerd --iptables=false --ip-forward=false --data-root "$DATA_ROOT" \
  -H unix:///var/run/docker.sock >"$LOG" 2>&1 &
for _ in $(seq 1 60); do
  if answers; then
    echo "docker-engine: ready ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 0.5
done
echo "docker-engine: dockerd did not answer within 30 s; the end of $LOG:" >&2
tail -n 20 "$LOG" >&2
exit 1
