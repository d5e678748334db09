# newstap, two stages: build on Debian 12, run on Debian 12 slim with only
# the runtime libraries. One image for every command: the entrypoint is
# `newstap`, the command picks the subcommand (produce, classify, tail).
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      librdkafka-dev libjansson-dev libcurl4-openssl-dev libexpat1-dev \
      libutf8proc-dev libmicrohttpd-dev zlib1g-dev libxxhash-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY common/ common/
COPY producer/ producer/
COPY consumer/ consumer/
COPY cli/ cli/
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DNT_TESTS=OFF -DNT_BENCH=OFF \
 && cmake --build /build -j"$(nproc)" \
 && strip /build/newstap

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libjansson4 libcurl4 libexpat1 libutf8proc2 \
      libmicrohttpd12 zlib1g libxxhash0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/newstap --create-home newstap \
 && install -d -o newstap -g newstap /var/lib/newstap/state
COPY --from=build /build/newstap /usr/local/bin/newstap
COPY config/newstap.json /etc/newstap/newstap.json
COPY config/rules/ /etc/newstap/rules/
# Configuration: the mounted or default file, then the environment
# (NEWSTAP_KAFKA_BOOTSTRAP_SERVERS=kafka:19092 and the like).
ENV NEWSTAP_CONFIG=/etc/newstap/newstap.json \
    NEWSTAP_PRODUCER_STATE_DIR=/var/lib/newstap/state \
    NEWSTAP_CONSUMER_RULES=/etc/newstap/rules \
    NEWSTAP_METRICS_LISTEN=0.0.0.0:9464
USER newstap
WORKDIR /var/lib/newstap
EXPOSE 9464
# Liveness of the daemons (produce, classify); readiness is /readyz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD curl -fsS http://127.0.0.1:9464/healthz || exit 1
ENTRYPOINT ["newstap"]
CMD ["--help"]
