# The processor's image: the build stage compiles the TypeScript in src/ to
# dist/, and the runtime stage holds dist/ and the production dependencies
# only. docker-compose.yml builds and runs it as the processor service.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Only dev dependencies have install scripts (esbuild, protobufjs, ssh2,
# cpu-features), and tsc needs none of them.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The files stay owned by root, so the processor cannot change its own code.
USER node
# GET /metrics, when METRICS_HOST is 0.0.0.0 (the default 127.0.0.1 is not
# reachable from outside the container).
EXPOSE 9464
# The processor shuts down cleanly on SIGTERM and SIGINT.
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.js", "run"]
