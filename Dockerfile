# syntax=docker/dockerfile:1
#
# Préau in one static binary on a small Debian base.
#   docker build -t preau .
#   docker run -p 8080:8080 -v preau-data:/data preau --demo
# Not built on the development machines (they have no Docker engine); the
# docker-compose.yml next to it runs the scale-out set.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that a change of code does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# CGO_ENABLED=0: every dependency is pure Go (modernc.org/sqlite, pgx), so the
# binary needs no C library and runs on any base image.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/preau ./cmd/preau

# debian-slim rather than distroless: curl is there for the health checks of
# docker-compose.yml, and a shell helps an operator look inside.
FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates curl tzdata \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --home-dir /data --no-create-home preau \
	&& mkdir /data && chown preau:preau /data
COPY --from=build /out/preau /preau
USER preau
ENV PREAU_ADDR=:8080 \
	PREAU_DATA=/data \
	PREAU_LOG_FORMAT=json \
	TZ=Europe/Paris
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
	CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/preau", "serve"]
