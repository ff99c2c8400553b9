#!/usr/bin/env bash
# Builds the lab's base images from binaries already on this machine, with no registry (none is reachable here):
#   mcp-lab/node-runtime:22  FROM scratch: node 22 (from scripts/ensure-node.sh) + the libraries `ldd` lists + the
#                            dynamic loader, minimal /etc/passwd and /etc/group, /tmp (1777); user 10001; node at
#                            /usr/local/bin/node; no shell, no npm.
#   mcp-lab/dex:v2.45.1      FROM scratch: the static Dex binary (scripts/ensure-dex.sh) at /usr/local/bin/dex,
#                            /tmp, /var/dex; user 1001 (as the official image). Web assets are embedded in the binary.
#   mcp-lab/app:local        docker/node-app.local.Dockerfile on mcp-lab/node-runtime:22: every workspace but
#                            its test/ and node_modules/, plus the root node_modules from
#                            `npm ci --omit=dev` run on the host (cached per lockfile in the cache dir).
#                            The official-image route is docker/node-app.Dockerfile (needs a registry).
# Each build context is a temp dir holding only the image's files, packed as one tar with the right owners, so each
# image adds one layer (vfs stores every layer as a full copy of the image's files). An image is skipped when it
# exists with the same input hash (label org.mcp-lab.input-hash: the staged context's sha256 and the base image's
# id), so a machine builds each once per change.
#
# Usage: bash scripts/build-local-images.sh [--force] [node-runtime] [dex] [app]   (default: all three)
# Env:   MCP_LAB_CACHE (default ~/.cache/mcp-auth-lab), MCP_LAB_APP_IMAGE (default mcp-lab/app:local).
# Prints one line per image: "<tag> <built|cached> <seconds>s <size>".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_TAG="mcp-lab/node-runtime:22"
DEX_TAG="mcp-lab/dex:v2.45.1"
APP_TAG="${MCP_LAB_APP_IMAGE:-mcp-lab/app:local}"
CACHE="${MCP_LAB_CACHE:-$HOME/.cache/mcp-auth-lab}"
LABEL=org.mcp-lab.input-hash

say() { echo "build-local-images: $*" >&2; }
die() { say "$*"; exit 1; }

force=0; want=()
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    node-runtime|dex|app) want+=("$a") ;;
    *) die "unknown argument '$a' (expected --force, node-runtime, dex, app)" ;;
  esac
done
[ "${#want[@]}" -gt 0 ] || want=(node-runtime dex app)

bash "$ROOT/scripts/ensure-docker.sh" >/dev/null || die "no Docker engine (see scripts/ensure-docker.sh)"

NODE_BIN_DIR="$(bash "$ROOT/scripts/ensure-node.sh")" || die "no Node 22 (scripts/ensure-node.sh failed)"
export PATH="$NODE_BIN_DIR:$PATH"
NODE="$NODE_BIN_DIR/node"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Copies a binary, stripped when binutils' strip is present (node: 125 MB -> 107 MB, dex: 51 MB -> 36 MB; only
# symbols and debug info go, which a container never uses).
put_binary() {
  if command -v strip >/dev/null 2>&1; then strip --strip-all -o "$2" "$1"; else cp "$1" "$2"; fi
  chmod 755 "$2"
}

# sha256 over every path, mode, link target and file content of a staged context, and of the base image's id ($2).
context_hash() {
  (cd "$1" && { echo "base ${2:-}"; find . -printf '%p %m %l\n' | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; }) \
    | sha256sum | cut -d' ' -f1
}

# Picks the client for `docker build` into BUILD (an array). BuildKit is several times faster here than the
# classic builder, which under vfs copies the whole root file system for every step, ENV and USER included.
# A client >= 23 uses BuildKit only through the buildx plugin, which Debian's docker.io does not ship; a 20.x
# client (Debian's /usr/bin/docker) has it built in. The classic builder is the last resort.
BUILD=()
builder_cmd() {
  [ "${#BUILD[@]}" -eq 0 ] || return 0
  local c major
  if docker buildx version >/dev/null 2>&1; then BUILD=(env DOCKER_BUILDKIT=1 docker); return; fi
  for c in $(type -ap docker); do
    major="$("$c" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)"
    if [ -n "$major" ] && [ "$major" -lt 23 ] 2>/dev/null; then BUILD=(env DOCKER_BUILDKIT=1 "$c"); return; fi
  done
  say "no BuildKit-capable docker client (buildx plugin or a 20.x client); using the slow classic builder"
  BUILD=(env DOCKER_BUILDKIT=0 docker)
}

# Turns a staged context's rootfs/ (owned by root) and owned-<uid>/ trees (owned by uid:uid) into rootfs.tar, which
# the Dockerfile ADDs: one layer with the right owners. (COPY sets one owner per instruction, and under vfs every
# extra layer is another full copy of the image's files, on disk and at each container start.)
pack_context() {
  local ctx="$1" d uid
  local tarflags=(--sort=name --mtime=@0 --numeric-owner --format=gnu)
  tar -C "$ctx/rootfs" "${tarflags[@]}" --owner=0 --group=0 -cf "$ctx/rootfs.tar" .
  for d in "$ctx"/owned-*; do
    [ -d "$d" ] || continue
    uid="${d##*/owned-}"
    # Parents that rootfs/ has too (/home, /var) stay root's; only what lies below them changes owner.
    (cd "$d" && find . -mindepth 1 -print0 | LC_ALL=C sort -z) | while IFS= read -r -d '' p; do
      [ -d "$ctx/rootfs/$p" ] || printf '%s\0' "$p"
    done > "$ctx/owned.list"
    tar -C "$d" "${tarflags[@]}" --owner="$uid" --group="$uid" --no-recursion --null -T "$ctx/owned.list" \
      -rf "$ctx/rootfs.tar"
  done
  rm -rf "$ctx/rootfs" "$ctx"/owned-* "$ctx/owned.list"
}

# build <tag> <context dir> [base image]: docker build unless the tag already carries the context's hash.
build() {
  local tag="$1" ctx="$2" base="${3:-}" hash have start secs size state baseid=""
  if [ -n "$base" ]; then
    baseid="$(docker image inspect -f '{{.Id}}' "$base" 2>/dev/null)" || die "base image $base is missing"
  fi
  hash="$(context_hash "$ctx" "$baseid")"
  have="$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$tag" 2>/dev/null || true)"
  start=$(date +%s.%N)
  if [ "$force" = 0 ] && [ "$have" = "$hash" ]; then
    state=cached
  else
    say "building $tag (context $(du -sh "$ctx" | cut -f1))"
    local old; old="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
    pack_context "$ctx"
    builder_cmd
    "${BUILD[@]}" build -q --label "$LABEL=$hash" -t "$tag" "$ctx" >/dev/null 2>"$work/build.err" \
      || { cat "$work/build.err" >&2; die "docker build $tag failed"; }
    # The replaced image is dangling now; under vfs it holds a full copy of its files. A container still using it
    # keeps it (rmi refuses), which is fine.
    if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
      docker rmi "$old" >/dev/null 2>&1 || true
    fi
    state=built
  fi
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  size=$(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0fMB", $1 / 1000000 }')
  echo "$tag $state ${secs}s $size"
}

stage_node_runtime() {
  local ctx="$work/node-runtime" node="$NODE" lib
  [ -x "$node" ] || die "ensure-node.sh gave no node binary"
  "$node" -e 'process.exit(+process.versions.node.split(".")[0] === 22 ? 0 : 1)' \
    || die "$node is not Node 22 (MCP_LAB_NODE_VERSION?)"
  mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/etc" "$ctx/rootfs/tmp" "$ctx/rootfs/home" \
    "$ctx/owned-10001/home/node"
  put_binary "$node" "$ctx/rootfs/usr/local/bin/node"
  # Every resolved library at the path the loader will look for it, plus the loader itself (PT_INTERP).
  ldd "$node" | awk '/=> \// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' > "$work/libs"
  grep -q ld-linux "$work/libs" || die "ldd listed no dynamic loader for $node"
  while read -r lib; do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
  done < "$work/libs"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:10001:10001:node:/home/node:/sbin/nologin\n' > "$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\nnode:x:10001:\n' > "$ctx/rootfs/etc/group"
  # glibc (2.34+) has files and dns built in; say so, so that /etc/hosts is read before DNS.
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$ctx/rootfs/etc/nsswitch.conf"
  chmod 1777 "$ctx/rootfs/tmp"
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
# No WORKDIR (cwd /, as in the official node image): under vfs even an empty layer is a full copy.
ENV PATH=/usr/local/bin HOME=/home/node
USER 10001:10001
CMD ["node"]
DOCKERFILE
}

stage_dex() {
  local ctx="$work/dex" dex
  dex="$(bash "$ROOT/scripts/ensure-dex.sh")"
  [ -x "$dex" ] || die "ensure-dex.sh gave no dex binary"
  file "$dex" 2>/dev/null | grep -q 'statically linked' || say "warning: $dex does not look static; it may not run FROM scratch"
  mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/etc/dex" "$ctx/rootfs/tmp" "$ctx/rootfs/var" \
    "$ctx/owned-1001/var/dex"
  put_binary "$dex" "$ctx/rootfs/usr/local/bin/dex"
  printf 'root:x:0:0:root:/root:/sbin/nologin\ndex:x:1001:1001:dex:/var/dex:/sbin/nologin\n' > "$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\ndex:x:1001:\n' > "$ctx/rootfs/etc/group"
  chmod 1777 "$ctx/rootfs/tmp"
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin
USER 1001:1001
# Same command shape as the official image (its entrypoint passes `dex serve <file>` through), so compose files
# can name either image with `command: ["dex", "serve", "/etc/dex/config.yaml"]`.
CMD ["dex", "serve", "/etc/dex/config.yaml"]
DOCKERFILE
}

stage_app() {
  local ctx="$work/app" ws key deps npm_log
  local app="$ctx/rootfs/app"
  mkdir -p "$app" "$ctx/owned-10001/data"
  cp "$ROOT/docker/node-app.local.Dockerfile" "$ctx/Dockerfile"
  cp "$ROOT/package.json" "$ROOT/package-lock.json" "$app/"
  # The workspaces named in the root package.json, whole (src/, bin.ts, data files such as
  # authz-metadata/dex-metadata.json) but without tests, node_modules and dotfiles: what
  # docker/node-app.Dockerfile.dockerignore lets through.
  for ws in $(cd "$ROOT" && "$NODE" -p 'require("./package.json").workspaces.join(" ")'); do
    # The launcher and the test kit run on the host only (npm ci leaves out absent workspaces).
    case "$ws" in launcher|test-kit) continue ;; esac
    [ -f "$ROOT/$ws/package.json" ] || die "workspace $ws has no package.json"
    tar -C "$ROOT" --exclude="$ws/test" --exclude="$ws/node_modules" --exclude='*.test.ts' --exclude="$ws/.*" \
      -cf - "$ws" | tar -C "$app" -xf -
  done
  # Production dependencies, installed once per set of manifests; the same command as the official Dockerfile.
  key="$(cd "$app" && find . -name package.json -o -name package-lock.json | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
  deps="$CACHE/docker-app-deps/$key"
  if [ ! -d "$deps/node_modules" ]; then
    say "npm ci --omit=dev for the app image (cached as $deps)"
    npm_log="$work/npm.log"
    (cd "$app" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts --prefer-offline >"$npm_log" 2>&1) \
      || { tail -n 20 "$npm_log" >&2; die "npm ci --omit=dev failed (is package-lock.json current? bash scripts/lockfile.sh)"; }
    # The root node_modules and any workspace-level ones npm nested (version conflicts), in their layout.
    rm -rf "$deps.tmp" && mkdir -p "$deps.tmp"
    (cd "$app" && find . -maxdepth 2 -name node_modules -type d -prune -print0 | tar --null -T - -cf - | tar -C "$deps.tmp" -xf -)
    (cd "$app" && find . -maxdepth 2 -name node_modules -type d -prune -exec rm -rf {} +)
    rm -rf "$deps" && mv "$deps.tmp" "$deps"
    # Keep the three newest dependency sets (a lockfile changes often while the lab is being written).
    ls -1dt "$CACHE/docker-app-deps"/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
  fi
  cp -a "$deps/." "$app/"
  # Sources readable by the non-root user whatever the host's umask was.
  chmod -R a+rX,go-w "$app"
}

# Staged outside command substitutions, so that a failure stops the script.
for w in "${want[@]}"; do
  case "$w" in
    node-runtime) stage_node_runtime; build "$NODE_TAG" "$work/node-runtime" ;;
    dex) stage_dex; build "$DEX_TAG" "$work/dex" ;;
    app)
      if ! docker image inspect "$NODE_TAG" >/dev/null 2>&1; then stage_node_runtime; build "$NODE_TAG" "$work/node-runtime"; fi
      stage_app; build "$APP_TAG" "$work/app" "$NODE_TAG" ;;
  esac
done

# BuildKit keeps every context and step it saw, and under vfs each is a full copy (4.8 GB on disk for a few app
# rebuilds, reported as 0.4 GB). The input-hash labels already skip unchanged images, so the cache buys nothing.
if [ "${#BUILD[@]}" -gt 0 ] && [ "${BUILD[1]}" = DOCKER_BUILDKIT=1 ]; then
  "${BUILD[@]}" builder prune -af >/dev/null 2>&1 || say "warning: docker builder prune failed (build cache kept)"
fi
