# hubsync as a container image: the service and its CLI, without the sandbox or test tools.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
# The Connect descriptor template and the iframe front end live beside the package, found through
# HUBSYNC_RESOURCES_DIR (a source checkout finds them by itself).
COPY connect-descriptor ./connect-descriptor
COPY ui-templates ./ui-templates
ENV HUBSYNC_RESOURCES_DIR=/app
RUN pip install --no-cache-dir . && useradd --system --uid 10001 hubsync
USER hubsync

ENTRYPOINT ["hubsync"]
CMD ["--help"]
