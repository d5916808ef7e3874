# syntax=docker/dockerfile:1
# One image with the four service binaries; the Deployment (or `docker run`) picks the service:
#
#   docker build -t jilaf/backoffice:dev .
#   docker run --rm jilaf/backoffice:dev --help                        # invitations (default)
#   docker build --build-arg SERVICE=projects -t jilaf/projects:dev .   # another default
#   docker build --build-arg JILAF_COMMIT=$(git rev-parse HEAD) ...     # jilaf_build_info's commit
#
# deploy/k8s runs it with command: ["/usr/local/bin/jilaf-<service>"]. See docs/deploy.md.

# ---- build: the same Debian 12 toolchain and CMake preset as development machines ------------
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/build-packages.txt /tmp/build-packages.txt
RUN apt-get update -q \
 && grep -v '^#' /tmp/build-packages.txt | xargs apt-get install -y -q --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# .git is not copied (.dockerignore): the commit reported by jilaf_build_info comes from here,
# "unknown" when not given.
ARG JILAF_COMMIT=
# No fail points in the image: a production process cannot be told to crash itself.
RUN cmake --preset release -DJILAF_BUILD_COMMIT="${JILAF_COMMIT}" -DJILAF_FAIL_POINTS=OFF \
 && cmake --build --preset release --target \
      jilaf-invitations jilaf-projects jilaf-missions jilaf-notifications \
 && mkdir -p /out \
 && cp build/release/services/*/jilaf-* /out/ \
 && strip --strip-unneeded /out/jilaf-*

# ---- runtime: slim Debian, only the shared libraries the binaries load, non-root ------------
FROM debian:12-slim AS runtime
ARG SERVICE=invitations
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update -q \
 && grep -v '^#' /tmp/runtime-packages.txt | xargs apt-get install -y -q --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 jilaf \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/jilaf --no-create-home \
      --shell /usr/sbin/nologin jilaf \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/jilaf
COPY --from=build /out/ /usr/local/bin/
# Numeric, so that Kubernetes can verify runAsNonRoot without resolving names.
USER 10001:10001
WORKDIR /var/lib/jilaf
ENV JILAF_SERVICE=${SERVICE} \
    JILAF_DB=/var/lib/jilaf/${SERVICE}.db
EXPOSE 8081 8082 8083 8084 9081 9082 9083 9084
# exec: the service is PID 1 and gets SIGTERM directly (it drains, then exits 0).
ENTRYPOINT ["/bin/sh", "-c", "exec /usr/local/bin/jilaf-\"$JILAF_SERVICE\" \"$@\"", "jilaf"]
