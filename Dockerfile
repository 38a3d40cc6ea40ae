# AgentHub: one image for every process of the stack (`agenthub serve`, `agenthub worker`,
# `agenthub migrate`, and the `agenthub runner`s the gateway starts). See README, "Deployment".
#
#   docker build -t agenthub .
#   docker run -p 8001:8001 -v agenthub-data:/data agenthub     # embedded: SQLite and keys in /data
#   docker compose up -d                                         # the whole stack (compose.yaml)
#
# No secret is baked in: every setting comes from the environment at run time.

# --- build: the project and its pinned dependencies (pyproject.toml) in a virtualenv -------
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# A compiler in case a pinned dependency has no wheel for this platform; it stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && pip check

# --- run ------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

# tini reaps the `agenthub runner` processes the gateway starts and passes SIGTERM on;
# libseccomp2 and bubblewrap are layers of the code sandbox (docs/sandbox.md).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini libseccomp2 bubblewrap \
    && rm -rf /var/lib/apt/lists/*

# A user of its own, no login shell, and /data (DATA_DIR) that it owns: a named volume
# mounted there takes that ownership.
RUN groupadd --system --gid 10001 agenthub \
    && useradd --system --uid 10001 --gid agenthub --home-dir /home/agenthub --create-home \
        --shell /usr/sbin/nologin agenthub \
    && mkdir -p /data \
    && chown agenthub:agenthub /data

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data \
    MANAGER_HOST=0.0.0.0 \
    MANAGER_PORT=8001

USER agenthub
WORKDIR /home/agenthub
VOLUME ["/data"]
EXPOSE 8001

# `agenthub health` asks the gateway's /health on 127.0.0.1:MANAGER_PORT (a worker's
# container overrides it with `agenthub health --worker`, see compose.yaml).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["agenthub", "health"]

ENTRYPOINT ["tini", "--", "agenthub"]
CMD ["serve"]
