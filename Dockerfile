# hubsync as a container image: the service and its CLI, without the sandbox or test tools.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip install --no-cache-dir . && useradd --system --uid 10001 hubsync
USER hubsync

ENTRYPOINT ["hubsync"]
CMD ["--help"]
