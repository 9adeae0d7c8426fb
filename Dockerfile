# syntax=docker/dockerfile:1
# Build stage: all dependencies, compiled with the Swagger plugin.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ormconfig.ts ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
# The scripts' simulator (`npm run demo`, the simulator script) lives with the tests.
COPY test/support/anthropic-simulator.ts ./test/support/
RUN npm run build

# Runtime stage: production dependencies and compiled output only, as a non-root user.
# Migrations: `node dist/scripts/migrate.js` (no dev dependencies needed); see docs/deployment.md.
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
