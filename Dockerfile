# Switchboard: `switchboard run` (Slack, Discord, the digest scheduler, /metrics and /healthz).
#   docker build -t switchboard .
#   docker run --env-file .env switchboard            # or: compose.yaml (with PostgreSQL 16)
#   docker run --env-file .env switchboard doctor     # any other command: `switchboard <it>`
# Settings come from the environment (see .env.example); no .env file is baked in.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY adapters adapters
COPY bot bot
COPY routing routing
COPY storage storage
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SWITCHBOARD_HOME=/app \
    DATA_DIR=/data \
    METRICS_PORT=9100
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /app --create-home switchboard \
    && mkdir /data && chown switchboard:switchboard /data
USER switchboard
WORKDIR /app
# SQLite (when DATABASE_URL is empty) and the demo live here; with PostgreSQL it stays empty.
VOLUME /data
# 3000: Slack HTTP mode (SLACK_SIGNING_SECRET); 9100: /metrics and /healthz.
EXPOSE 3000 9100
# /healthz answers 200 once the database answers. The check runs inside the container, so it
# reaches the metrics server on 127.0.0.1 even where that server binds only the loopback
# interface (the metrics server may bind only that by default; other interfaces need a token).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:9100/healthz', timeout=4).status != 200)"]
# SIGTERM (docker stop) stops taking events and lets answers finish (SHUTDOWN_GRACE_S, 30 s):
# give `docker stop -t` / stop_grace_period a little more than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["switchboard"]
CMD ["run"]
