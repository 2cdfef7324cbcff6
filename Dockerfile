# syntax=docker/dockerfile:1
# helpdesk-bot image.
#
#   docker build -t helpdesk-bot .
#   docker run -it -v helpdesk-data:/app/data helpdesk-bot run --console
#   docker run -d -v helpdesk-data:/app/data -p 3000:3000 \
#       -e SLACK_BOT_TOKEN=... -e SLACK_SIGNING_SECRET=... helpdesk-bot
#
# Settings come from the environment (see config/example.env); a .env file mounted at
# /app/.env is read too. `run` migrates the database at start (HELPDESK_AUTO_MIGRATE).

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
    HELPDESK_CONFIG_DIR=/app/config

# A fixed, non-root uid so volume ownership is predictable across rebuilds.
RUN groupadd --system --gid 10001 helpdesk \
 && useradd --system --uid 10001 --gid helpdesk --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin helpdesk

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# A non-editable install does not carry config/, hence HELPDESK_CONFIG_DIR above.
COPY config/ /app/config/
# Created and owned before VOLUME, so a new named volume starts writable by helpdesk.
RUN mkdir -p /app/data && chown helpdesk:helpdesk /app/data

USER helpdesk
VOLUME ["/app/data"]
EXPOSE 3000

# `check` exits non-zero when the configuration is broken or the database unreachable.
HEALTHCHECK --interval=30s --timeout=20s --start-period=30s --retries=3 \
    CMD ["helpdesk-bot", "check"]

ENTRYPOINT ["helpdesk-bot"]
CMD ["run"]
