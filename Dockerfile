# syntax=docker/dockerfile:1
#
# corslab in a container: one static binary on distroless, run as a non-root
# user. Build with `docker build -t corslab .`; run with
#   docker run --rm -p 8080-8084:8080-8084 corslab --listen 0.0.0.0 --public-host HOST
# deploy/README.md covers Kubernetes.

# The Go release named by go.mod's go line. Override with
# --build-arg GO_VERSION=... when go.mod moves on.
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, in a layer of their own: editing the code does not fetch
# them again.
COPY go.mod go.sum ./
RUN go mod download
# The generated templ files are committed, so there is no generate step.
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /corslab .

# distroless/static: no shell, no package manager, no libc; the :nonroot
# variant's user is 65532. corslab needs no CA certificates (it dials only
# itself, over plain HTTP on loopback) and writes no files, except that the
# fake S3 may spill a large form upload to /tmp.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /corslab /corslab
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 65532:65532
# ui, app, api, s3, evil. The browser sees them as five origins because the
# ports differ, so publish all five on the same host ports (-p 8080-8084:8080-8084);
# the sixth, yours (8085), only with --allow-targets.
EXPOSE 8080 8081 8082 8083 8084 8085
# No HEALTHCHECK: the image has no shell or HTTP client to run one.
# Orchestrators should probe GET /healthz on the ui port (8080) instead.
# Stop with SIGTERM (docker stop does): corslab closes its websockets and
# finishes requests in flight within about five seconds.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/corslab"]
# Listen on every interface so that the published ports reach it. Learners'
# browsers build origins from the host name they used, so also pass
# --public-host with the name or address they will type.
CMD ["--listen", "0.0.0.0"]
