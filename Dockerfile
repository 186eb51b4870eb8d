# hubsync as a container image: the service and its CLI, without test tools. Two stages: the first builds the
# product's wheel, the second installs only that wheel (with its dependencies) and runs as an unprivileged user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --no-create-home hubsync
# The Connect descriptor template and the iframe front end live beside the package, found through
# HUBSYNC_RESOURCES_DIR (a source checkout finds them by itself).
COPY connect-descriptor ./connect-descriptor
COPY ui-templates ./ui-templates
ENV HUBSYNC_RESOURCES_DIR=/app
USER 10001

ENTRYPOINT ["hubsync"]
CMD ["--help"]
