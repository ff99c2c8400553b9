# The lab's Node services in one image: mcp-server (default command), authz-metadata, embedded-idp and the
# mcp-lab-client CLI. TypeScript runs as is (Node 22 type stripping), so there is no compile step.
#
#   docker build -f docker/node-app.Dockerfile -t mcp-lab/app .        # from the repository root
#   docker run mcp-lab/app                                             # node mcp-server/src/main.ts
#   docker run mcp-lab/app node authz-metadata/src/main.ts
#   docker run mcp-lab/app node mcp-client/bin.ts connect http://127.0.0.1:3000/mcp --json
#
# Two stages: `deps` installs the production dependencies with npm in an image that has npm (BUILD_IMAGE); the
# runtime stage (NODE_IMAGE) needs only a node binary, so it may be a FROM-scratch image without npm or a shell.
# No dependency has a native addon (SQLite is node:sqlite), so node_modules moves between the two as files.
# Where no registry is reachable, `bash scripts/build-local-images.sh app` builds the same image (mcp-lab/app:local)
# from docker/node-app.local.Dockerfile instead, with node_modules from the same `npm ci` run on the host.
ARG BUILD_IMAGE=node:22-bookworm-slim
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${BUILD_IMAGE} AS deps
WORKDIR /app
# Manifests first, so that a change to the sources alone reuses the installed layer.
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY mcp-server/package.json mcp-server/
COPY mcp-client/package.json mcp-client/
COPY embedded-idp/package.json embedded-idp/
COPY authz-metadata/package.json authz-metadata/
# Only the services' workspaces: npm ci leaves out those whose folders are absent (launcher, test-kit).
# Exactly the committed lockfile (scripts/lockfile.sh writes it from scratch, with every platform's optional packages).
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && mkdir -p /out/data

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
# /app from the deps stage: the manifests and node_modules (the root one and any a workspace nested). The
# workspaces sit there as relative symlinks (node_modules/@mcp-lab/protocol -> ../../protocol); COPY keeps them,
# and Node resolves them to /app/protocol/..., outside node_modules, where type stripping applies.
COPY --from=deps /app ./
# The workspaces whole (src/, mcp-client/bin.ts, authz-metadata/dex-metadata.json, ...); test/ and node_modules/
# stay out through node-app.Dockerfile.dockerignore (BuildKit, the default builder since Docker 23).
COPY protocol protocol
COPY mcp-server mcp-server
COPY authz-metadata authz-metadata
COPY embedded-idp embedded-idp
COPY mcp-client mcp-client
# A writable place for file-backed state (MCP_DB_PATH=/data/notes.db) and HOME (the CLI's token store goes to
# $HOME/.config/mcp-lab-client); uid 10001 has no passwd entry in the official image, where HOME would be /.
# The sources stay owned by root, read-only.
COPY --from=deps --chown=10001:10001 /out/data /data
ENV HOME=/data
# Numeric, so that Kubernetes' runAsNonRoot can check it without an /etc/passwd entry.
USER 10001:10001
EXPOSE 3000
CMD ["node", "mcp-server/src/main.ts"]
