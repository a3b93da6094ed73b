#!/usr/bin/env bash
# Retrain the shipped default letter model `letters` exactly as it was made, then install its
# weights into the package (src/aslkit/weights/letters.{safetensors,json}).
#
# Training data: every shared letter set except Massey (kept unseen for the cross-dataset figure)
# and except the detection set's valid split (kept unseen for detection evaluation). The five
# letters-more-people sets joined on 2026-12-01: leaving each person out in turn (/tmp/lopo), the
# held-out person scored 84.6% on average (worst 78.1%) against 82.2% for the model without them,
# with Massey 94.5-96.1% over the five folds. The landmark
# frames are consecutive video frames of one signer: every 4th is kept, and their unstated image
# aspect is 16:9 (the aspect under which a photo-trained model agrees with them best: 82% vs 81% at 4:3,
# measured while the file was still read as the wrong hand). Since the .npz loader infers the file's
# hand side (its rows are the other hand), leaving each person out gives a mean of 85.24% (worst 78.27%);
# see docs/letters-on-other-people.md for what else was tried.
# --views auto: the model also looks at the mirror image of a photo when the photo alone is uncertain
# (top probability < 0.8) and averages the two (Massey, 3 seeds: 95.1-95.3% with two views against
# 94.4-94.9% with one; auto keeps the two-view figure while about 18% of photos need the mirror).
# Usage: bash scripts/train_default_letters.sh [RUN_DIR]    (needs ../shared/data beside the checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${1:-runs/letters-default}"
DATA=../shared/data
.venv/bin/aslkit train \
  "$DATA/asl-alphabet-photos" "$DATA/asl-alphabet-kaggle" "$DATA/asl-letters-detection/train" \
  "$DATA/hand-landmarks-letters/frames.npz" "$DATA"/letters-more-people/*/ --landmark-stride 4 --landmark-aspect 1.7778 \
  --model landmark-mlp --out "$RUN" --split 0.85,0.15 --seed 0 --views auto
.venv/bin/python - "$RUN" <<'PY'
import sys
from aslkit.models.io import load_model
m = load_model(sys.argv[1])
m.meta["name"] = "letters"
print("installed:", m.save("src/aslkit/weights", "letters"))
PY
echo "model cards: measure the new weights again, update their figures in scripts/write_model_cards.py, then run it"
