# syntax=docker/dockerfile:1
# users-items service image: build a virtualenv from the hash-pinned lock, then copy it into a
# slim runtime image that runs as an unprivileged user.
#   docker build -t users-items .
#   docker run --rm -p 8000:8000 users-items

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first (cached until the lock changes). The lock also carries the dev tools.
COPY requirements.lock ./
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --require-hashes -r requirements.lock
# Then the project itself, as a regular (non-editable) install.
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
RUN pip install --no-cache-dir --no-deps .

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="users-items" \
      org.opencontainers.image.description="Users who sign up, log in and own items"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --home-dir /app \
       --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0750 /app
COPY --from=builder /opt/venv /opt/venv
# The default SQLite database (./users-items.db) is created here, so the user must own it.
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]
ENTRYPOINT ["users-items"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
