#!/usr/bin/env bash
# Build the Dockerfile and check the container offline (--network none): --version, predict on a mounted photo,
# serve's own HEALTHCHECK, /v1/health, /v1/predict with a photo and a word video, the web page, docker stop.
# Usage: bash scripts/check_docker.sh [IMAGE_TAG]     (needs Docker and ../shared/data beside the checkout)
# Where Docker Hub or download.pytorch.org cannot be reached, provide a local python:3.11-slim and a torch wheel
# that pip finds (README, "Docker", says how it was done on 2026-12-01).
set -euo pipefail
cd "$(dirname "$0")/.."
TAG="${1:-aslkit-check}"
DATA="$(cd ../shared/data && pwd)"
NAME="$TAG-serve-$$"
docker build --network host -t "$TAG" .
docker run --rm --network none "$TAG" --version
PHOTO="massey-letters/b/$(ls "$DATA/massey-letters/b" | head -1)"
docker run --rm --network none -v "$DATA:/data:ro" "$TAG" predict "/data/$PHOTO" --json
trap 'docker rm -f "$NAME" >/dev/null 2>&1 || true' EXIT
docker run -d --name "$NAME" --network none -v "$DATA:/data:ro" "$TAG" >/dev/null
for _ in $(seq 60); do
  [ "$(docker inspect --format '{{.State.Health.Status}}' "$NAME")" = healthy ] && break
  sleep 5
done
echo "health: $(docker inspect --format '{{.State.Health.Status}}' "$NAME")"
docker exec -i "$NAME" python - "/data/$PHOTO" /data/word-videos/yes/text2hand-yes.mp4 <<'PY'
import sys
import urllib.request
import uuid

base = "http://127.0.0.1:7860"


def post(route: str, field: str, path: str) -> str:
    b = uuid.uuid4().hex
    head = f'--{b}\r\nContent-Disposition: form-data; name="{field}"; filename="{path.rsplit("/", 1)[-1]}"\r\n\r\n'
    body = head.encode() + open(path, "rb").read() + f"\r\n--{b}--\r\n".encode()
    req = urllib.request.Request(base + route, body, {"Content-Type": f"multipart/form-data; boundary={b}"})
    return urllib.request.urlopen(req, timeout=300).read().decode()


print(urllib.request.urlopen(base + "/v1/health", timeout=10).read().decode())
print(post("/v1/predict", "image", sys.argv[1])[:200])
print(post("/v1/predict", "video", sys.argv[2])[:200])
print("web page:", urllib.request.urlopen(base + "/", timeout=10).status)
PY
docker stop -t 20 "$NAME" >/dev/null
echo "stopped: exit $(docker inspect --format '{{.State.ExitCode}}' "$NAME") (143 = ended by SIGTERM, 137 = killed)"
