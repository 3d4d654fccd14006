#!/usr/bin/env bash
# Fine-tune genre, style and artist as the study did, on a machine with a CUDA GPU: the `#| gpu` cells of
# notebooks/03_genre, 04_style and 05_artist (ResNet-50 with torchvision's ImageNet weights, 224 px, 3 frozen +
# 12 unfrozen epochs, mixed precision, through `artsig.learner.finetune_tasks`). CI skips those cells; this runs them.
#
#     bench/gpu_finetune.sh                       # all three chapters
#     bench/gpu_finetune.sh 05_artist             # one of them (05 trains style, then artist from its body)
#
# Each chapter writes nbs_outputs/<task>/finetune/ (metrics.json, learning_curve.png, confusion.png, per_class.csv).
# The weights must be in torch's cache (~/.cache/torch/hub/checkpoints/resnet50-11ad3fa6.pth) or downloadable.
# A cell may train for longer than nbdev-test's default 10-minute cell limit, hence --cell-timeout 0.
# After a run, commit the records and move each gpu cell's accuracy floor to 1.5 points under its number.
set -euo pipefail
cd "$(dirname "$0")/.."
python -c "import torch, sys; torch.cuda.is_available() or sys.exit('No CUDA GPU here: these cells fine-tune ResNet-50 for 15 epochs per task.')"
python -c "from artsig.core import load_backbone; load_backbone('resnet50')"  # MissingWeights names the file to copy
chapters="${*:-03_genre 04_style 05_artist}"
for nb in $chapters; do
    echo "== notebooks/$nb.ipynb (#| gpu cells)"
    time nbdev-test --flags gpu --cell-timeout 0 --do-print "notebooks/$nb.ipynb"
done
