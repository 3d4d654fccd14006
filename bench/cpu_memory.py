"""What `artsig.core.keep_freed_memory` buys: the default recipe's feature extraction with freed memory kept for the
next batch (today's default on a CPU) and with glibc's own behaviour (freed blocks handed back to the system).

    python bench/cpu_memory.py [--out nbs_outputs/bench/cpu_memory.json] [--images 640] [--rounds 2]

Each variant runs in its own process, since the setting holds for a whole process; the two take turns `--rounds` times
and each one's best round is kept (another process on the machine slows whichever round it overlaps). A round builds
the recipe's extractors, warms them up on one batch, then times `recipe_features` on the bench's speed sample
(read, hash, decode, cut, networks) into a fresh temporary cache.
"""
import argparse, json, subprocess, sys, tempfile, time
from pathlib import Path

def one_round(variant:str, n:int)->dict:
    "Images/s and peak memory of one extraction in this process, with freed memory kept ('kept') or returned ('returned')."
    import artsig.features as features
    from artsig.bench import peak_rss_mb, speed_sample
    from artsig.core import settings
    from artsig.data import study_works
    if variant == 'returned': features.keep_freed_memory = lambda *a, **k: False  # before any extractor is built
    recipe, paths = features.FeatureRecipe(), speed_sample(study_works(), n + 32)
    for e in recipe.extractors: features.extractor(e)  # built (and any weights converted) in the real cache
    with tempfile.TemporaryDirectory() as tmp:
        settings.cache = Path(tmp)  # an empty feature cache for this round; the first 32 images warm up
        features.recipe_features(paths[:32], recipe, progress=False)
        start = time.perf_counter()
        features.recipe_features(paths[32:], recipe, progress=False)
        seconds = time.perf_counter() - start
    return {'variant': variant, 'images': len(paths) - 32, 'seconds': round(seconds, 2),
            'images_per_s': round((len(paths) - 32) / seconds, 2), 'peak_rss_mb': round(peak_rss_mb()), 'recipe': recipe.describe()}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='nbs_outputs/bench/cpu_memory.json'); p.add_argument('--images', type=int, default=640)
    p.add_argument('--rounds', type=int, default=2); p.add_argument('--round', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.round: return print(json.dumps(one_round(a.round, a.images)))
    from artsig.records import save_run
    start, rounds = time.time(), []
    for _ in range(a.rounds):
        for variant in ('kept', 'returned'):
            out = subprocess.run([sys.executable, __file__, '--round', variant, '--images', str(a.images)],
                                 capture_output=True, text=True, check=True).stdout
            rounds.append(json.loads(out.strip().splitlines()[-1])); print(rounds[-1], flush=True)
    best = {v: max((r for r in rounds if r['variant'] == v), key=lambda r: r['images_per_s']) for v in ('kept', 'returned')}
    metrics = {'best': best, 'rounds': rounds, 'kept_over_returned': round(best['kept']['images_per_s'] / best['returned']['images_per_s'], 3)}
    out = Path(a.out)
    save_run(out.parent, metrics, out.name, command=f'python bench/cpu_memory.py --out {a.out} --images {a.images} --rounds {a.rounds}',
             data=f'wikiart100 (all): speed_sample of {a.images + 32} images (seed 0), the first 32 to warm up',
             backbone=best['kept']['recipe'], duration_s=round(time.time() - start, 1))
    print('kept / returned:', metrics['kept_over_returned'])

if __name__ == '__main__': main()
