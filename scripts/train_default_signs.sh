#!/usr/bin/env bash
# Retrain the shipped sign models exactly as they were made, then install their weights into the
# package (src/aslkit/weights/{words,letters-motion,sign-encoder}.{safetensors,json}).
#
# words: seq-tcn on every signer: words-many-signers.npz (65 signers) and words-pose-hands.npz (3).
# Vocabulary: the signs that at least two signers made and that held-out signers confirmed (70% or
# more in the leave-signers-out cross-validation over all 44 word labels, runs/cv/base), and `-` (no
# sign). Left out: single-signer signs (nobody else to confirm them), `i` (0%: dmohazab's and the two
# other signers' `i` are different signs), `hungry` (35%), `sorry` (its two signers fell in one fold).
# No confidence threshold (--seq-min-confidence 0): with 18 classes it cost more signs than it saved
# idle clips in the cross-validation; in videos the rests are cut off by the signing spans instead.
# Since 2026-12-02 it also learns fingerspelling as `-`: 750 letters-hands.npz clips (every 4th of each letter but
# A, Space and idle; scripts/fingerspelling_idle.py), so that live, with word_model=words, spelled letters are left to
# the letter model instead of being read as the nearest sign.
# Its figures: `aslkit train ... --cv signer --folds 5 --out runs/cv/fsidle` (the same options and sources).
# sign-encoder: the encoder of `train --model sign-dictionary` (signs by example). seq-tcn on every label of both
# word sets (44 words and signed letters, `-`), all 68 signers, 40 epochs: what it learns to tell apart is what
# a dictionary can tell apart. Its figure (held-out signs and signers) is in the README.
# words and sign-encoder record --seq-camera-aspect 1.3333: 65 of their 68 signers (words-many-signers.npz) read as
# about 4:3 frames. Their nose sits a median 0.71 shoulder widths above the shoulders' line in the set's width/height
# fractions, against 0.51-0.61 in the pixels of the real word videos: (0.71 / 0.56) ~ 4:3. (words-pose-hands.npz's 3
# signers read 1.05: 16:9.) So a 16:9 or upright phone video is shown to these models as a 4:3 camera would show the
# body. The option changes no weight (landmark files are taken to be in that shape); only videos are converted.
# letters-motion: seq-tcn on letters-hands.npz (a-z with the moving J and Z, space, idle `-`).
# All three: 15% of the clips (stratified) for validation and early stopping; seed 0.
# Usage: bash scripts/train_default_signs.sh [RUN_ROOT]    (needs ../shared/data beside the checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${1:-runs/signs-default}"
DATA=../shared/data/sign-sequences
WORDS="-,a,can,coffee,fine,get,hello,help,iloveyou,medium,muffin,no,please,small,tea,thank-you,water,yes"
mkdir -p "$ROOT"
.venv/bin/python scripts/fingerspelling_idle.py "$ROOT/fingerspelling-idle.npz" --data "$DATA"
.venv/bin/aslkit train "$DATA/words-many-signers.npz" "$DATA/words-pose-hands.npz" "$ROOT/fingerspelling-idle.npz" \
  --model seq-tcn --classes "$WORDS" --seq-min-confidence 0 --seq-camera-aspect 1.3333 --split 0.85,0.15 --seed 0 \
  --out "$ROOT/words"
.venv/bin/aslkit train "$DATA/words-many-signers.npz" "$DATA/words-pose-hands.npz" --model seq-tcn \
  --seq-min-confidence 0 --seq-camera-aspect 1.3333 --epochs 40 --split 0.85,0.15 --seed 0 --out "$ROOT/sign-encoder"
.venv/bin/aslkit train "$DATA/letters-hands.npz" --model seq-tcn --split 0.85,0.15 --seed 0 --out "$ROOT/letters-motion"
.venv/bin/python - "$ROOT" <<'PY'
import sys
from aslkit.models.io import load_model
for name in ("words", "letters-motion", "sign-encoder"):
    m = load_model(f"{sys.argv[1]}/{name}")
    m.meta["name"] = name
    print("installed:", m.save("src/aslkit/weights", name))
PY
echo "model cards: measure the new weights again, update their figures in scripts/write_model_cards.py, then run it"
