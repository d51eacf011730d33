# Signet container image: `signet server` by default, and the whole CLI (proxy, admission, verify).
#   docker build -t signet .        (or: buildah bud -t signet .)
#   docker run -p 4443:4443 -v signet-data:/var/lib/signet signet
# NODE_IMAGE is the base of both stages; it must provide node and npm (and /bin/sh for RUN).
# Node 22.13+ brings node:sqlite for the default embedded SQLite; on Node 20 use --database postgres://.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/copy-dashboard-assets.mjs scripts/bundle-cli.mjs ./scripts/
# Install scripts are off: the optional better-sqlite3 (Node 20 only) is never compiled here.
# The steps of `npm run build`, each run by node itself, so the base needs no /usr/bin/env for the
# bin links' shebangs: tsc, the dashboard's static files, the bundled one-shot CLI (dist/bin).
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && node node_modules/typescript/bin/tsc -p tsconfig.build.json \
 && node scripts/copy-dashboard-assets.mjs \
 && node scripts/bundle-cli.mjs \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    SIGNET_DATA_DIR=/var/lib/signet \
    SIGNET_LISTEN=0.0.0.0:4443 \
    HOME=/var/lib/signet
WORKDIR /opt/signet
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY deploy/docker/healthcheck.mjs ./healthcheck.mjs
# The data dir belongs to the unprivileged user; node does it, so the base needs no coreutils.
# (mode 0700 on the data dir only: a recursive mkdir with a mode would give it to /var and /var/lib too)
RUN ["node", "-e", "const fs = require('fs'); fs.mkdirSync('/var/lib/signet', { recursive: true }); fs.chmodSync('/var/lib/signet', 0o700); fs.chownSync('/var/lib/signet', 10001, 10001)"]
USER 10001:10001
VOLUME ["/var/lib/signet"]
EXPOSE 4443
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/opt/signet/healthcheck.mjs", "https://127.0.0.1:4443/_notary_server/health"]
ENTRYPOINT ["node", "/opt/signet/dist/bin/signet.js"]
CMD ["server"]
