# syntax=docker/dockerfile:1
# One Dockerfile, one target per service:
#   docker build --target gateway -t xiaoyue/gateway .
#   docker build --target agent-worker -t xiaoyue/agent-worker .
#   docker build --target tts-worker -t xiaoyue/tts-worker .
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: install from the lockfile, compile, and cut one production bundle per service ----------
# `pnpm deploy` copies a service's workspace dependencies as they would be published (their `files`):
# the gateway's node_modules gets @xiaoyue/client's built dist/, which it serves to the web page.
FROM ${NODE_IMAGE} AS build
ENV TURBO_TELEMETRY_DISABLED=1 CI=true
RUN npm install -g pnpm@12.4.2
WORKDIR /repo
COPY . .
RUN pnpm install --frozen-lockfile \
  && pnpm build \
  && for service in gateway agent-worker tts-worker; do \
       pnpm --filter "@xiaoyue/${service}" deploy --prod "/out/${service}"; \
     done

# --- runtime images: production dependencies and compiled code only, run as the non-root `node` ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
STOPSIGNAL SIGTERM

FROM runtime AS gateway
COPY --from=build --chown=node:node /out/gateway /app
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]

FROM runtime AS agent-worker
COPY --from=build --chown=node:node /out/agent-worker /app
USER node
ENV HEALTH_PORT=9090
EXPOSE 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9090/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]

FROM runtime AS tts-worker
# The offline voice (espeak-ng) and its mp3 encoder (lame), for TTS_PROVIDER=espeak and the fallback.
RUN apt-get update \
  && apt-get install -y --no-install-recommends espeak-ng lame \
  && rm -rf /var/lib/apt/lists/*
COPY --from=build --chown=node:node /out/tts-worker /app
USER node
ENV HEALTH_PORT=9090
EXPOSE 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9090/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
