"""How fast DINOv2 and the whole default recipe run here in each backend, and how far int8 moves the features.

    python bench/cpu_backends.py [--out nbs_outputs/bench/cpu_backends.json] [--images 256]

Times, in one run on this machine: DINOv2 ViT-S/14 at 224 px in torch float32, torch bfloat16 and ONNX Runtime int8
(`artsig.features.DinoV2Int8`), each through `compute_features` on the bench's speed sample (file read, hash, decode,
resize and network, fresh temporary cache); then the default recipe's images/s with DINOv2 in torch and in int8
(`artsig.bench.recipe_speed`); then the mean cosine of each backend's rows with float32's over the same images, after
standardising every feature by float32's mean and spread. The decision `dinov2_cpu_backend` took here goes beside them.
"""
import argparse, tempfile, time
from pathlib import Path
import numpy as np
from artsig.bench import extractor_speed, machine_peaks, recipe_speed, speed_sample
from artsig.data import study_works
from artsig.features import FeatureRecipe, ExtractorSpec, compute_features, dinov2_cpu_backend
from artsig.records import save_run

def agreement(rows:dict, reference:str='fp32')->dict:
    "Mean cosine of each backend's standardised rows with the reference's."
    ref = rows[reference]; mean, sd = ref.mean(0), ref.std(0) + 1e-6
    z = lambda r: (r - mean) / sd
    return {k: float(np.mean((z(r)*z(ref)).sum(1) / np.linalg.norm(z(r), axis=1) / np.linalg.norm(z(ref), axis=1))) for k, r in rows.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='nbs_outputs/bench/cpu_backends.json'); p.add_argument('--images', type=int, default=256)
    a = p.parse_args()
    start = time.time()
    paths, peaks = speed_sample(study_works(), a.images), {'cpu': machine_peaks('cpu', repeats=3)}
    dino = ExtractorSpec('dinov2_vits14')
    built = {'fp32': dino.build(bf16=False), 'bf16': dino.build(bf16=True), 'int8': dino.build(int8=True)}
    speeds = {k: extractor_speed(dino, paths, peaks, ex=ex) for k, ex in built.items()}
    with tempfile.TemporaryDirectory() as tmp:
        rows = {k: compute_features(paths, ex, 'center', 224, cache_root=Path(tmp)/k, progress=False) for k, ex in built.items()}
    recipe, whole, others = FeatureRecipe(), {}, {}
    for k in ('bf16', 'int8'):  # the recipe with its DINOv2 in each backend; the other extractors timed once
        known = others | {'dinov2_vits14@224': speeds[k]}
        whole[k] = recipe_speed(recipe, paths, peaks, speeds=known)
        others = {name: v for name, v in known.items() if name != 'dinov2_vits14@224'}
    metrics = {'dinov2_vits14@224': speeds, 'cosine_with_fp32': agreement(rows), 'recipe': whole,
               'recipe_int8_over_bf16': whole['int8']['images_per_s'] / whole['bf16']['images_per_s'],
               'dinov2_int8_over_bf16': speeds['int8']['images_per_s'] / speeds['bf16']['images_per_s'],
               'decision_here': dinov2_cpu_backend(), 'peaks': peaks}
    out = Path(a.out)
    save_run(out.parent, metrics, out.name, command=f'python bench/cpu_backends.py --out {a.out} --images {a.images}',
             data=f'wikiart100 (all): speed_sample of {len(paths)} images (seed 0)', backbone='dinov2_vits14@224',
             duration_s=round(time.time() - start, 1))
    print({k: round(v['images_per_s'], 1) for k, v in speeds.items()}, {k: round(v['images_per_s'], 1) for k, v in whole.items()}, metrics['cosine_with_fp32'])

if __name__ == '__main__': main()
