# One image for every worker kind and the traffic producer (docker-compose.yml, infra/k8s/).
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 STREAMSENSE_CACHE_DIR=/var/cache/streamsense
COPY pyproject.toml setup.py README.md ./
COPY . .
RUN pip install .
EXPOSE 6066
ENTRYPOINT ["streamsense"]
