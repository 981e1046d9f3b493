# vpp-emulator container image: build with the Rust toolchain, run on a slim Debian as non-root.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /build
# Dependencies first, in their own cached layer: a stub crate with the real manifest and lock.
# .cargo/config.toml holds the compile options of the bundled SQLite.
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY migrations migrations
COPY config config
COPY src src
# COPY keeps the sources' old mtimes; touch them so cargo rebuilds over the stub.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="vpp-emulator" \
      org.opencontainers.image.description="A persistent emulator of the Microsoft Graph Intune vppTokens API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/vpp-emulator/vpp-emulator" \
      org.opencontainers.image.licenses="MIT"
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home vpp \
    && mkdir -p /data /etc/vpp-emulator && chown vpp:vpp /data
COPY --from=build /build/target/release/vpp-emulator /usr/local/bin/vpp-emulator
# The defaults are embedded in the binary; this copy documents every key for mounted overrides.
COPY config/default.toml /etc/vpp-emulator/default.toml
ENV VPP_SERVER__HOST=0.0.0.0 \
    VPP_SERVER__PORT=8080 \
    VPP_DATABASE__PATH=/data/vpp-emulator.db \
    VPP_LOG__FORMAT=json
USER vpp
WORKDIR /data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["vpp-emulator", "healthcheck"]
ENTRYPOINT ["vpp-emulator"]
CMD ["serve"]
