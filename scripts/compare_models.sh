#!/usr/bin/env bash
# The model comparison table in the README: every registered letter model trained on the Kaggle set
# (one signer, one wall; random 80/10/10 split) with a CPU-sized budget (aslkit.evaluation.compare.BUDGET),
# then scored end to end on Massey (5 other signers) and on asl-alphabet-photos (other people and rooms).
# About an hour on a 2-core CPU; rerun on the same OUT to continue: finished runs are reused, an interrupted one resumes.
# Usage: bash scripts/compare_models.sh [OUT_DIR] [--weights clip-vit-b32=/path/to/clip-vit-base-patch32]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/compare}"
shift || true
DATA=../shared/data
RESUME=()
[ -f "$OUT/compare.json" ] && RESUME=(--resume)
.venv/bin/aslkit compare "$DATA/asl-alphabet-kaggle" \
  --test massey="$DATA/massey-letters" --test photos="$DATA/asl-alphabet-photos" \
  --out "$OUT" "${RESUME[@]}" -q "$@"
