# segsync: multi-stage build on Node 22, runs as a non-root user.
# Build stage: compile TypeScript and the better-sqlite3 native addon.
FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY connectors ./connectors
RUN npm run build && npm prune --omit=dev

# Runtime stage: only the compiled code, production dependencies and example configs.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
ENV SEGSYNC_CONFIG=/data/segsync.yaml
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["--help"]
