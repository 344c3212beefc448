# fleetd's image. Not built in CI (deploy/README.md); build it from the repository root:
#   docker build -f deploy/docker/fleetd.Dockerfile -t ghcr.io/fleetd/fleetd:0.1.0 \
#     --build-arg REVISION="$(git rev-parse --short=12 HEAD)" .
# It carries PostgreSQL 15 for the embedded mode (fleetd runs initdb and the server itself, as its own user, in
# the data directory). --build-arg EMBEDDED_POSTGRES=false leaves PostgreSQL out (about 200 MB less): such an image
# runs only with an external database (--database-url / FLEETD_DATABASE_URL).
#
# Build stage: the Debian 12 packages scripts/setup installs for building, a Release build of fleetd alone.
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev \
      libpqxx-dev libpq-dev nlohmann-json3-dev libssl-dev libcli11-dev libyaml-cpp-dev libhowardhinnant-date-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .dockerignore keeps build trees, .git and deploy/ (its git-ignored secret files) out of the context.
COPY . .
# BUILD_JOBS caps the parallel compile jobs (for a builder short of memory); empty: Ninja's default. Without .git
# in the context fleetd reports its commit as "unknown"; the image's revision label carries it instead.
ARG BUILD_JOBS=
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DFLEET_BUILD_TESTS=OFF -DFLEET_BUILD_BENCH=OFF -DFLEET_WITH_CUDA=OFF \
 && cmake --build /build --target fleetd ${BUILD_JOBS:+--parallel $BUILD_JOBS} \
 && strip /build/fleetd/fleetd \
 && /build/fleetd/fleetd --version

# Runtime: the shared libraries fleetd links (ldd: libpqxx-6.4 with libpq5, libssl3, libyaml-cpp0.7,
# libboost-url1.81.0, libdate-tz3 with the tzdata that maintenance windows read; Boost.JSON is compiled in),
# CA certificates for an external database's TLS, and PostgreSQL 15.
FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
ARG EMBEDDED_POSTGRES=true
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="fleetd" \
      org.opencontainers.image.description="fleetd: the fleet manager control plane (REST API on PostgreSQL)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:12-slim"
# Debian's postgresql-common would create and start a cluster on port 5432; fleetd runs its own, so none is
# created (as in scripts/setup). initdb needs a name for the server's user id, hence the fleetd account (65532).
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && packages="ca-certificates libpqxx-6.4 libpq5 libssl3 libyaml-cpp0.7 libboost-url1.81.0 libdate-tz3" \
 && if [ "$EMBEDDED_POSTGRES" = true ]; then packages="$packages postgresql-15"; fi \
 && apt-get update \
 && apt-get install -y --no-install-recommends $packages \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 fleetd \
 && useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/fleetd --no-create-home \
      --shell /usr/sbin/nologin fleetd \
 && install -d -o 65532 -g 65532 -m 0700 /var/lib/fleetd
COPY --from=build /build/fleetd/fleetd /usr/local/bin/fleetd
# Settings fleetd also reads from flags and --config (docs/operations.md); flags win. Off loopback fleetd serves
# HTTPS only: --tls auto keeps its own CA in DATA-DIR/tls, so the data directory must be a volume.
ENV FLEETD_LISTEN=0.0.0.0:8443 \
    FLEETD_DATA_DIR=/var/lib/fleetd
WORKDIR /var/lib/fleetd
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/fleetd"]
