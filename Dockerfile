# syntax=docker/dockerfile:1
# helpdesk-bot image.
#
#   docker build -t helpdesk-bot .
#   docker run -it -v helpdesk-data:/app/data \
#       -e HELPDESK_DATABASE_URL=sqlite:////app/data/helpdesk-console.sqlite3 \
#       helpdesk-bot run --console   # its own database, not the platforms' one; its log
#                                    # goes to /app/data (/app is not the desk's to write)
#   docker run -d -v helpdesk-data:/app/data -p 3000:3000 \
#       -e SLACK_BOT_TOKEN=... -e SLACK_SIGNING_SECRET=... helpdesk-bot
#   docker compose up -d      # PostgreSQL and the desk: see compose.yaml and the README
#
# Settings come from the environment (see bot/config/example.env); a .env file mounted at
# /app/.env is read too. `run` migrates the database at start (HELPDESK_AUTO_MIGRATE).
# The default config (messages, policy, tips) is package data inside the install; to
# customise it, mount a folder that `helpdesk-bot init` wrote and set HELPDESK_CONFIG_DIR.

# --- build: install the project and its dependencies into a virtualenv ----------------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot/ ./bot/
RUN pip install --no-cache-dir .

# --- runtime --------------------------------------------------------------------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HELPDESK_DATABASE_URL=sqlite:////app/data/helpdesk.sqlite3 \
    HELPDESK_LOG_FORMAT=json

# A fixed, non-root uid so volume ownership is predictable across rebuilds.
RUN groupadd --system --gid 10001 helpdesk \
 && useradd --system --uid 10001 --gid helpdesk --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin helpdesk

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# Created and owned before VOLUME, so a new named volume starts writable by helpdesk.
RUN mkdir -p /app/data && chown helpdesk:helpdesk /app/data

USER helpdesk
VOLUME ["/app/data"]
EXPOSE 3000

# /readyz answers 200 when the database answers, every adapter is connected and the
# ticker is ticking, 503 (naming what is wrong) otherwise; urlopen raises on a 503 or a
# refused connection, so the probe exits 1. Python's urllib: slim images have no curl.
# The console serves HTTP only when HELPDESK_HTTP_PORT is set: a console container
# without it reports unhealthy (run it with -e HELPDESK_HTTP_PORT=3000, or
# --no-healthcheck); `docker stop` ends it cleanly either way (SIGTERM: exit 0).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + (os.environ.get('HELPDESK_HTTP_PORT') or '3000') + '/readyz', timeout=5)"]

ENTRYPOINT ["helpdesk-bot"]
CMD ["run"]
