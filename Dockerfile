# spend-alerts: the daemon image. Build: docker build -t spend-alerts .
# NODE_IMAGE lets a build use another Node 24 base (a mirror, or a local stand-in in the tests).
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts ./scripts/
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    SPEND_ALERTS_STATE_DIR=/data \
    PORT=9464 \
    NODE_COMPILE_CACHE=/app/.compile-cache
WORKDIR /app
COPY package.json package-lock.json ./
# one layer: production dependencies, the state volume owned by the runtime user, the command
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /data /app/.compile-cache \
 && chown 1000:1000 /data /app/.compile-cache \
 && ln -s /app/dist/cli/bin.js /usr/local/bin/spend-alerts
COPY --from=build /src/dist ./dist
COPY demo/alerts.yaml ./demo/alerts.yaml
# the digest chart's font: the image has no system fonts (src/render/chart-png.ts)
COPY assets/fonts ./assets/fonts
# uid 1000 is "node" in the official image; numeric, so runAsNonRoot can verify it
USER 1000:1000
# Node's compile cache (kept per user, hence after USER), filled by one demo run: the real pipeline
# against its in-process Langfuse. Every command then starts from compiled code; a read-only root
# file system just keeps it from adding to it.
RUN spend-alerts demo >/dev/null
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require('node:http').get('http://127.0.0.1:' + (process.env.PORT || 9464) + '/healthz', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
STOPSIGNAL SIGTERM
# V8 lets the young generation grow with the machine's memory (Node 24: up to 128 MB on a 24 GB
# host), which a worker that wakes every few minutes never needs. Held to 2 × 2 MB, evaluating
# 1,000 alerts peaks at ~117 MB and the idle daemon holds ~85–90 MB (with 8 MB: ~125 and ~90–95 MB),
# for ~10 ms more CPU per 1,000 alerts (npm run bench -- b d).
ENTRYPOINT ["node", "--max-semi-space-size=2", "/app/dist/cli/bin.js"]
CMD ["run"]
