# The graph service API. Used by docker-compose.yml (with Neo4j); on its own it serves the
# embedded SQLite store unless GRAPH_SERVICE_STORE=neo4j and NEO4J_* are set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . /app
RUN pip install . \
    && rm -rf /app/build

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
USER app

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
# One server process; docker-compose.yml runs several (--workers, GRAPH_SERVICE_WORKERS), each with
# the graph in memory (about 0.5 GB for England), rebuilt only after a write.
CMD ["graph-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
