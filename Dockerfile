# The controller's image: ghcr.io/gantry-dev/gantry:<release> (`make image`; deploy/deployment.yaml names the same).
#   docker build -t ghcr.io/gantry-dev/gantry:0.1.0 .
# Build stage: the Swift toolchain. The binary links the Swift runtime and Foundation statically, so the runtime
# stage needs only the C libraries the shims use (libcurl, libyaml, OpenSSL) and CA certificates.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcurl4-openssl-dev libyaml-dev libssl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change reuses the resolved packages' layer.
COPY Package.* ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# Package.swift names the fuzzing entry points' folder (target FuzzEntries): it must exist for the manifest to load.
COPY Fuzz ./Fuzz
RUN swift build -c release --product gantry --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/gantry" /out/gantry

FROM ${RUNTIME_IMAGE}
# Exactly the shared libraries the binary needs beyond the C runtime (Tests/EndToEndTests/ImageTests.swift checks
# this list against the binary's NEEDED entries).
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcurl4 libyaml-0-2 libssl3 ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/gantry /usr/local/bin/gantry
# Numeric, so the kubelet can check runAsNonRoot without reading /etc/passwd; the same as deploy/deployment.yaml's
# runAsUser. Nothing is written at run time: readOnlyRootFilesystem: true works.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/gantry"]
CMD ["controller"]
