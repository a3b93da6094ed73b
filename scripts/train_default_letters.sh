#!/usr/bin/env bash
# Retrain the shipped default letter model `letters` exactly as it was made, then install its
# weights into the package (src/aslkit/weights/letters.{safetensors,json}).
#
# Training data: every shared photo set except Massey (kept unseen for the cross-dataset figure)
# and except the detection set's valid split (kept unseen for detection evaluation).
# Usage: bash scripts/train_default_letters.sh [RUN_DIR]    (needs ../shared/data beside the checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${1:-runs/letters-default}"
DATA=../shared/data
.venv/bin/aslkit train \
  "$DATA/asl-alphabet-photos" "$DATA/asl-alphabet-kaggle" "$DATA/asl-letters-detection/train" \
  --model landmark-mlp --out "$RUN" --split 0.85,0.15 --seed 0
.venv/bin/python - "$RUN" <<'PY'
import sys
from aslkit.models.io import load_model
m = load_model(sys.argv[1])
m.meta["name"] = "letters"
print("installed:", m.save("src/aslkit/weights", "letters"))
PY
