# syntax=docker/dockerfile:1
# Triton Inference Server with this project installed into the image's Python (3.10), so the
# Python-backend adapters (models/repository/<model>/<version>/model.py) can import
# `channelpulse.models.*` and its dependencies (numpy, torch, transformers, the packaged text
# encoder). Build context: the root
#   docker build -f infra/docker/triton.Dockerfile -t channelpulse-triton .
# EXTRAS (pyproject.toml): `serving` is what the adapters need; the default `train` (serving + the
# ONNX export) lets the Helm chart's retrainer run on this image too (values.yaml, retrainer.image).
#
# CHANNELPULSE_TRITON_SITE_DIRS is not needed here: the backend stub runs the image's own Python,
# whose site-packages (/usr/local/lib/python3.10/dist-packages) pip installs into. It is only
# needed by the local stack, whose tritonserver comes from the pytriton wheel outside the venv.
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:24.10-py3
FROM ${TRITON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

ARG EXTRAS=train

WORKDIR /opt/channelpulse

# 1. The dependencies (CUDA torch from PyPI), cached until pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p channelpulse && touch channelpulse/__init__.py \
 && python3 -m pip install ".[$EXTRAS]" \
 && python3 -m pip uninstall -y channelpulse \
 && rm -rf channelpulse build ./*.egg-info

# 2. The project (the model repository itself is a volume, see docker-compose.yml).
COPY channelpulse ./channelpulse
COPY streams ./streams
COPY models ./models
COPY schemas ./schemas
COPY infra ./infra
COPY bench ./bench
RUN python3 -m pip install --no-deps . && rm -rf build ./*.egg-info

WORKDIR /opt/tritonserver
CMD ["tritonserver", "--model-repository=/models", "--model-control-mode=explicit", "--load-model=*"]
