# Two images from one file, built by docker-compose.yml:
#   --target rasa  Rasa 3.6 on Python 3.10 (requirements/rasa.lock), model trained at build time
#   --target app   bot, action server and web admin on Python 3.11 (requirements/app.lock)
# Building needs the internet (PyPI, and PyTorch's CPU wheel index); running does not.

FROM python:3.10-slim AS rasa
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH=/app RASA_CACHE_DIRECTORY=/tmp/rasa-cache
WORKDIR /app
COPY requirements/rasa.in requirements/rasa.lock requirements/
# pip 24.2 as in the Makefile; the lock keeps the resolver from backtracking through jaxlib.
RUN pip install --no-cache-dir pip==24.2 \
 && pip install --no-cache-dir -r requirements/rasa.in -c requirements/rasa.lock
COPY config.yml ./
COPY nlu nlu
# The model is part of the image: the same inputs `make model` trains from (≈1 minute).
RUN rasa train --config config.yml --domain nlu/domain --data nlu/data \
      --out /app/models --fixed-model-name nlu \
 && rm -rf /tmp/rasa-cache
RUN useradd --system --home /app rasa && chown -R rasa /app
USER rasa
EXPOSE 5005
CMD ["rasa", "run", "--enable-api", "-i", "0.0.0.0", "-p", "5005", "--model", "/app/models/nlu.tar.gz", \
     "--endpoints", "nlu/endpoints.yml", "--credentials", "nlu/credentials.yml"]

FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app OMP_NUM_THREADS=1 \
    TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /app
COPY requirements/app.in requirements/app.lock requirements/
# torch first and alone, from the CPU index (requirements/app.in): an unpinned torch from PyPI
# pulls a multi-GB CUDA build. app.lock pins torch==2.13.0+cpu, which this satisfies.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r requirements/app.in -c requirements/app.lock
COPY . .
RUN useradd --system --home /app helpdesk && mkdir -p /app/var && chown -R helpdesk /app/var
USER helpdesk
