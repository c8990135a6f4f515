# syntax=docker/dockerfile:1
# ChannelPulse: the workers (`channelpulse worker`), the retrainer (`channelpulse retrainer`) and the
# one-shot tasks of docker-compose.yml. Build context: the repository root
#   docker build -f infra/docker/channelpulse.Dockerfile -t channelpulse .                    # worker
#   docker build -f infra/docker/channelpulse.Dockerfile --build-arg EXTRAS=train -t channelpulse-train .
# EXTRAS picks the role (pyproject.toml): none = the worker (no torch, no transformers); `train` =
# the retrainer (and a worker whose recommender learns from the stream).
# (infra/docker/channelpulse.Dockerfile.dockerignore keeps .venv, state and caches out of the context).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    CHANNELPULSE_STATE_DIR=/var/lib/channelpulse

ARG EXTRAS=""
# CPU-only torch when EXTRAS brings torch: inference runs in the Triton image.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

WORKDIR /opt/channelpulse

# 1. The dependencies, in a layer that is rebuilt only when pyproject.toml changes (the package is an
#    empty placeholder here and is replaced in step 2).
COPY pyproject.toml README.md ./
RUN mkdir -p channelpulse && touch channelpulse/__init__.py \
 && pip install --extra-index-url "$TORCH_INDEX_URL" ".${EXTRAS:+[$EXTRAS]}" \
 && pip uninstall -y channelpulse \
 && rm -rf channelpulse build ./*.egg-info

# 2. The project itself: channelpulse/ (its symlinks channelpulse/streams -> ../streams, ...) and the
#    folders they point at; not the model repository (compose mounts ./models/repository).
COPY channelpulse ./channelpulse
COPY streams ./streams
COPY models ./models
COPY schemas ./schemas
COPY infra ./infra
COPY bench ./bench
RUN pip install --no-deps . && rm -rf build ./*.egg-info

RUN useradd --create-home --uid 10001 channelpulse \
 && mkdir -p /var/lib/channelpulse/model_repository \
 && chown -R channelpulse:channelpulse /var/lib/channelpulse
USER channelpulse
WORKDIR /var/lib/channelpulse

ENTRYPOINT ["channelpulse"]
CMD ["worker"]
