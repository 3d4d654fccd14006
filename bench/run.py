"""Reproduce artsig's benchmark table on this machine: the same as the `artsig-bench` command.

Writes a new `artsig-runs/bench-<time>/bench.json` (`--out nbs_outputs/bench/bench.json` renews the committed record) (accuracy and macro-F1 per task, seconds and peak memory per phase, images/s,
FLOPs/image and the share of the measured matmul peak, for the study's recipe, artsig's default and every backbone)
and prints the table. Run it on an otherwise idle machine:

    python bench/run.py                    # the full benchmark on wikiart100
    python bench/run.py --quick            # CI-sized check on the mini set, record in a temporary file
    python bench/run.py --skip-finetune    # without the fine-tuning row, even on a GPU
    python bench/run.py --collection DIR   # on a folder of your own with an artworks.csv (see `artsig.data.read_collection`)
"""
from artsig.bench import main

if __name__ == '__main__': main()
