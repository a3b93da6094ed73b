# aslkit serve in a container: the web app and the HTTP API on port 7860, offline once built.
# Everything is installed at build time (the Python packages, aslkit's shipped models, MediaPipe's models inside its
# wheel); the running container downloads nothing.
#
#   docker build -t aslkit .
#   docker run --rm -p 7860:7860 aslkit                       # then open http://127.0.0.1:7860
#   docker run --rm -p 7860:7860 -v "$PWD/runs/train:/home/aslkit/runs:ro" aslkit   # your runs, by name
#   docker run --rm -v "$PWD:/work:ro" aslkit predict /work/photo.jpg --json        # any other command
FROM python:3.11-slim

# OpenCV (pulled in by mediapipe) needs libGL and GLib, and OpenMP is loaded at run time: the libraries .ci/run
# installs on a bare Debian machine.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The CPU build of torch (pyproject.toml's pin), from PyTorch's CPU index: PyPI's Linux torch brings several GB of
# CUDA libraries. Its own layer, so a change to aslkit does not download it again.
RUN pip install --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple \
    torch==2.13.0+cpu

# aslkit with its exact pins, as the README installs it (not editable, and without the test extra).
COPY pyproject.toml README.md /tmp/aslkit-src/
COPY src /tmp/aslkit-src/src
RUN pip install /tmp/aslkit-src \
    && pip check \
    && rm -rf /tmp/aslkit-src

# Offline at run time: no Gradio analytics, no Hugging Face Hub lookups.
ENV GRADIO_ANALYTICS_ENABLED=False \
    HF_HUB_OFFLINE=1

RUN useradd --create-home --uid 1000 aslkit
USER aslkit
WORKDIR /home/aslkit

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/v1/health', timeout=4)"]

# Bound to every interface inside the container (the port is published with -p); SIGTERM (docker stop) ends it
# cleanly. `docker run IMAGE predict ...` runs any other aslkit command instead.
ENTRYPOINT ["aslkit"]
CMD ["serve", "--host", "0.0.0.0", "--port", "7860"]
