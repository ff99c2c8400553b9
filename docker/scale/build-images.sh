#!/usr/bin/env bash
# Builds the scale profile's two extra images from Debian's packages on this machine, the way
# scripts/build-local-images.sh builds the others (no registry is reachable here): FROM scratch, the binary from
# the Debian package plus the libraries `ldd` lists and the dynamic loader, minimal /etc/passwd and /etc/group,
# /tmp (1777), one layer (vfs stores every layer as a full copy).
#   mcp-lab/haproxy:2.6   /usr/sbin/haproxy (Debian's haproxy), user 10002; config mounted at /etc/haproxy/haproxy.cfg
#   mcp-lab/redis:7       /usr/bin/redis-server (Debian's redis-server), user 10003, /data writable
# Installs the packages with apt-get when missing (as root). Skips an image whose staged input is unchanged
# (label org.mcp-lab.input-hash). Prints "<tag> <built|cached>" per image.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LABEL=org.mcp-lab.input-hash
bash "$ROOT/scripts/ensure-docker.sh" >/dev/null
bash "$ROOT/scripts/ensure-haproxy.sh" >/dev/null

command -v redis-server >/dev/null 2>&1 || { apt-get install -y -q redis-server >&2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# stage <dir> <binary> <uid> <name> [writable dir]: binary + libraries + loader + users into <dir>/rootfs.
stage() {
  local ctx="$1" bin="$2" uid="$3" name="$4" data="${5:-}" lib
  mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/etc" "$ctx/rootfs/tmp"
  cp -L "$bin" "$ctx/rootfs/usr/local/bin/$(basename "$bin")"
  ldd "$bin" | awk '/=> \// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | while read -r lib; do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
  done
  printf 'root:x:0:0:root:/root:/sbin/nologin\n%s:x:%s:%s:%s:/tmp:/sbin/nologin\n' "$name" "$uid" "$uid" "$name" > "$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\n%s:x:%s:\n' "$name" "$uid" > "$ctx/rootfs/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$ctx/rootfs/etc/nsswitch.conf"
  chmod 1777 "$ctx/rootfs/tmp"
  local tarflags=(--sort=name --mtime=@0 --numeric-owner --format=gnu --owner=0 --group=0)
  if [ -n "$data" ]; then mkdir -p "$ctx/rootfs$data" && chmod 1777 "$ctx/rootfs$data"; fi
  tar -C "$ctx/rootfs" "${tarflags[@]}" -cf "$ctx/rootfs.tar" .
  rm -rf "$ctx/rootfs"
}

build() {
  local tag="$1" ctx="$2" hash have
  hash="$(cd "$ctx" && sha256sum Dockerfile rootfs.tar | sha256sum | cut -d' ' -f1)"
  have="$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$tag" 2>/dev/null || true)"
  if [ "$have" = "$hash" ]; then echo "$tag cached"; return; fi
  DOCKER_BUILDKIT=0 docker build -q --label "$LABEL=$hash" -t "$tag" "$ctx" >/dev/null 2>"$work/build.err" \
    || { cat "$work/build.err" >&2; exit 1; }
  echo "$tag built"
}

stage "$work/haproxy" "$(command -v haproxy)" 10002 haproxy
cat > "$work/haproxy/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin
USER 10002:10002
# HAProxy 2.6 (no master-worker) leaves SIGTERM to its default action, which the kernel does not apply to a
# container's PID 1: `docker stop` would wait out the grace period and SIGKILL it. SIGUSR1 is its soft stop (stop listening, finish what is in flight), as in
# the official haproxy image.
STOPSIGNAL SIGUSR1
# -db: foreground, no daemon. The lab's config (docker/scale/haproxy.cfg) is mounted here.
CMD ["haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
DOCKERFILE
build mcp-lab/haproxy:2.6 "$work/haproxy"

stage "$work/redis" "$(command -v redis-server)" 10003 redis /data
cat > "$work/redis/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin
WORKDIR /data
USER 10003:10003
# Loopback of the lab's network namespace only; no persistence (sessions are short-lived, a restart ends them).
CMD ["redis-server", "--bind", "127.0.0.1", "--port", "6379", "--protected-mode", "yes", "--save", "", "--appendonly", "no"]
DOCKERFILE
build mcp-lab/redis:7 "$work/redis"
