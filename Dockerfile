# syntax=docker/dockerfile:1
# The production image of gymgraph: `docker build -t gymgraph .`; README, "Running in production".
#
# test/production-install.test.ts runs this file without Docker (test/support/dockerfile.ts): the
# build stage's COPY and RUN lines in order in a temporary folder, the runtime stage from its
# COPY --from lines, then CMD with the stage's ENV, probed with the HEALTHCHECK command. So RUN lines
# use paths relative to WORKDIR, and an instruction or flag that runner does not know fails the test.

# Both stages on the same Node and Debian release: better-sqlite3's native module is built in the first
# and loaded in the second.
ARG NODE_VERSION=20.20.2

# Build: every dependency, the production build, then the dev dependencies removed.
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts but the one production needs, named rather than left to the npm version's
# defaults (package.json allowScripts): better-sqlite3's native module, a prebuilt binary when one can
# be downloaded, else compiled with this image's toolchain. TypeScript needs none.
RUN npm ci --ignore-scripts --no-audit --no-fund
RUN npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY src ./src
# src/ and ormconfig.ts only (tsconfig.build.json): tests, benchmarks and tools are not shipped.
RUN npm run build:prod
# Keeps the compiled better-sqlite3; removes TypeScript, Jest and the other dev dependencies.
RUN npm prune --omit=dev --no-audit --no-fund
# The folder of the default SQLite file (DATABASE_URL unset), owned by the service's user below.
RUN mkdir data

# Runtime: no compiler, no dev dependencies, not root. The code belongs to root (the service cannot
# change it); only data/ is the service's.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Files the service serves (pages, scripts) are read from the sources at run time: projectRoot()
# in src/http/static-files.ts finds them next to package.json.
COPY --from=build /app/src ./src
COPY --from=build --chown=node:node /app/data ./data
USER node
VOLUME ["/app/data"]
EXPOSE 4000
# /readyz: 200 when the database answers, 503 while it does not or during shutdown. No curl in the
# image: Node asks. It asks 127.0.0.1, so HOST must include it (the default 0.0.0.0 does).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "require('node:http').get({host: '127.0.0.1', port: process.env.PORT || 4000, path: '/readyz', timeout: 4000}, (res) => process.exit(res.statusCode === 200 ? 0 : 1)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]
# Exec form, no shell or npm in between: node is PID 1 and gets SIGTERM itself, then drains
# (src/main.ts stop()); it starts no child processes, so it needs no init to reap them.
# Node's options as package.json's `serve` (the young generation: README, "Running in production").
CMD ["node", "--max-semi-space-size=64", "--min-semi-space-size=16", "dist/src/main.js"]
