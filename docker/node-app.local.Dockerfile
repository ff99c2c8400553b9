# The same image as docker/node-app.Dockerfile, for machines where no registry (and so no node:22 image with npm)
# is reachable. Its context is not the repository: `bash scripts/build-local-images.sh app` stages a temp dir with
# rootfs.tar = /app (the workspaces without tests, plus node_modules from the same `npm ci --omit=dev` run on the
# host; owned by root) and /data (owned by 10001). ADD unpacks it with those owners in one layer: under vfs every
# layer is a full copy. NODE_IMAGE is the FROM-scratch mcp-lab/node-runtime:22 (no shell, no npm: nothing may RUN).
ARG NODE_IMAGE=mcp-lab/node-runtime:22
FROM ${NODE_IMAGE}
ADD rootfs.tar /
WORKDIR /app
# /data is writable: file-backed state (MCP_DB_PATH=/data/notes.db) and HOME (the CLI's token store).
ENV NODE_ENV=production HOME=/data
USER 10001:10001
EXPOSE 3000
CMD ["node", "mcp-server/src/main.ts"]
