"""Calibrate the default detector's box margins on a box set's train split and print them for
defaults.toml [detect]. Usage: .venv/bin/python scripts/calibrate_detector.py [TRAIN_SET]
(default: ../shared/data/asl-letters-detection/train, its YOLO labels)."""

import json
import sys

from aslkit.data.boxes import load_boxes
from aslkit.evaluation.detection import fit_margins, hands_for


def main() -> None:
    src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/asl-letters-detection/train"
    bs = load_boxes(src)
    margins = fit_margins(bs, hands_for(bs))
    print(json.dumps({k: round(v, 4) for k, v in margins.items()}))


if __name__ == "__main__":  # MediaPipe worker processes re-import this file
    main()
