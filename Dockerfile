# One image for every Parallax app; the command picks the app (see docker-compose.yml and k8s/).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs libs
COPY apps apps
COPY prisma prisma
COPY contracts contracts
COPY scripts scripts
# patches/: fixes to dependencies, applied by `postinstall` (patch-package) during `npm ci`.
COPY patches patches
COPY tsconfig.base.json tsconfig.json nest-cli.json prisma.config.ts ./
# What `npm run db:migrate` needs offline (the prisma CLI, @prisma/schema-engine-wasm, driver-adapter-utils) is in
# `dependencies`, so the pruned image can run the migrations it ships (the migrate Job / compose service).
RUN npm ci --no-audit --no-fund && npm run generate && npx tsc -b \
  && rm -rf apps/risk/dist/testing apps/chain-watcher/dist/testing libs/risk/dist/testing apps/exchange/dist/testing apps/gateway/dist/testing apps/gateway/dist/bench apps/matching-engine/dist/testing apps/matching-engine/dist/bench apps/settlement/dist/testing apps/settlement/dist/bench libs/contracts/dist/testing libs/contracts/dist/bench libs/order-book/dist/bench libs/risk/dist/bench libs/transport/dist/bench \
  && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# kafkajs 2.2.4 arms a timer with a negative delay; Node 24 warns on stderr (once a process) where Node 20 was
# silent. Node clamps the delay to 1 ms on both, so the warning is only noise (measured: docs/benchmarks.md).
ENV NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning
COPY --from=build /app /app
# /deploy: the compose volume where the dev-chain deploy step hands the contract address to settlement (a
# fresh named volume takes this directory's owner, so the unprivileged user can write it).
RUN mkdir -p /deploy && chown node:node /deploy
USER node
CMD ["node", "--enable-source-maps", "apps/gateway/dist/main.js"]
