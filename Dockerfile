# Stub until the container issue: runs `python app.py` on SQLite in /data, or on the
# PostgreSQL given by DATABASE_URL (then SECRET_KEY is required).
# TODO(container issue): install the CPU build of the pinned torch and bake the model in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    GRADIO_ANALYTICS_ENABLED=False

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home --uid 10001 sentiscope && mkdir -p /data && chown sentiscope /data
USER sentiscope

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/healthz')"
CMD ["python", "app.py"]
