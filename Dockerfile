# syntax=docker/dockerfile:1
# EERO-serve: build with dev dependencies, run with production ones only.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node ships its CPU runtime; its install step would fetch CUDA files. package.json's allowScripts
# denies that step, but the npm of node:20 (10.x) ignores allowScripts: the variable stops it there.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.client.json ./
COPY scripts/build-status-page.ts ./scripts/
COPY src ./src
# tsc, then esbuild bundles the status page's browser code into dist/status-page/client.js.
RUN npm run build && npm prune --omit=dev && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
# malloc keeps freed batch buffers instead of returning them to the kernel page by page: fewer page faults
# (0.64x and 0.80x in two e2e runs, benchmarks/results/e2e.md); images/s 1.07x and 1.14x in those runs, 0.81x
# in a third, so a small, noisy gain.
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    GLIBC_TUNABLES=glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=33554432
# Files stay owned by root (read-only to the service); it runs as the image's `node` user.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY models/resnet18-fmnist ./models/resnet18-fmnist
COPY models/convnext-fmnist ./models/convnext-fmnist
COPY budgets ./budgets
# The gRPC server loads the protocol's .proto files at start-up.
COPY proto ./proto
USER node
EXPOSE 8080
# gRPC, when GRPC_PORT, --grpc-port or the config's grpc.port asks for it (docker-compose.yml: 8081).
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# EERO_CONFIG (optional): path of a serve config YAML inside the container, e.g. a mounted file.
# The service binds 127.0.0.1 unless told otherwise; in a container it must listen on every interface.
CMD ["sh", "-c", "exec node dist/src/cli/main.js serve --host 0.0.0.0 --port 8080 ${EERO_CONFIG:+--config \"$EERO_CONFIG\"}"]
