# fleet-agent's image (one per member cluster; deploy/kubernetes/deployment.yaml runs it). Not built in CI
# (deploy/README.md); build it from the repository root:
#   docker build -f deploy/docker/fleet-agent.Dockerfile -t ghcr.io/fleetd/fleet-agent:0.1.0 \
#     --build-arg REVISION="$(git rev-parse --short=12 HEAD)" .
#
# Build stage: the Debian 12 packages scripts/setup installs for building (the top-level configure wants all of
# them, libpqxx included, even for the agent), a Release build of fleet-agent alone, with the kubernetes backend.
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev \
      libpqxx-dev libpq-dev nlohmann-json3-dev libssl-dev libcli11-dev libyaml-cpp-dev libhowardhinnant-date-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG BUILD_JOBS=
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DFLEET_BUILD_TESTS=OFF -DFLEET_BUILD_BENCH=OFF -DFLEET_WITH_CUDA=OFF \
 && cmake --build /build --target fleet-agent ${BUILD_JOBS:+--parallel $BUILD_JOBS} \
 && strip /build/agents/fleet-agent \
 && /build/agents/fleet-agent --version

# Runtime: the shared libraries fleet-agent links (ldd: libssl3, libyaml-cpp0.7, libboost-url1.81.0) and CA
# certificates (fleetd behind a publicly trusted certificate needs no --ca-file).
FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="fleet-agent" \
      org.opencontainers.image.description="fleet-agent: runs on a member cluster, reports it to fleetd and carries out its commands" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:12-slim"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libyaml-cpp0.7 libboost-url1.81.0 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 fleet-agent \
 && useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/fleet-agent --no-create-home \
      --shell /usr/sbin/nologin fleet-agent \
 && install -d -o 65532 -g 65532 -m 0700 /var/lib/fleet-agent
COPY --from=build /build/agents/fleet-agent /usr/local/bin/fleet-agent
# The state file (the agent's credential) defaults to the working directory: mount a volume here.
WORKDIR /var/lib/fleet-agent
USER 65532:65532
# --health-listen 0.0.0.0:9400 (the Kubernetes manifest passes it): /healthz, /readyz, /metrics.
EXPOSE 9400
ENTRYPOINT ["/usr/local/bin/fleet-agent"]
