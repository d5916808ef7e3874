# syntax=docker/dockerfile:1
# The staff console (web/console/) on an unprivileged nginx (docs/console.md):
#
#   docker build -f deploy/docker/console.Dockerfile -t jilaf/console:dev .
#
# deploy/k8s/base/console mounts nginx's server block, the Content-Security-Policy and the
# runtime config.json from a ConfigMap; the image holds only the built files.

# ---- build: npm ci from the lock file, type check, Vite build --------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src/web/console
COPY web/console/package.json web/console/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
# The country → region table is read from the services' own source at build time.
COPY common/util/m49.cpp /src/common/util/m49.cpp
COPY web/console/ ./
RUN node node_modules/typescript/bin/tsc --noEmit -p tsconfig.json \
 && JILAF_CONSOLE_OUT=/out node node_modules/vite/bin/vite.js build \
 && rm /out/config.json

# ---- runtime: nginx as user 101, listening on 8080 -------------------------------------------
FROM nginxinc/nginx-unprivileged:1.27-alpine
COPY --from=build /out/ /usr/share/nginx/html/
USER 101
EXPOSE 8080
