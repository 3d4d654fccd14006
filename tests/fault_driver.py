"""One small artsig run, from images to a saved head, for the fault tests: `python fault_driver.py CACHE OUT [N]`.

It gets a collection from the mini works written as parquet shards in the hub's schema (the `artsig get` path,
with a local folder as the hub), caches N of its images, extracts EfficientNet-Lite0 features for two views, trains
an artist head and writes its metrics, printing `phase <name>` as each step starts, so that a test can kill it inside a chosen step.
Everything it writes goes through the same code as `artsig-fastpath`; what it prints last is a digest of the
features and the metrics, which two runs must agree on to the last bit.
"""
import hashlib, json, sys
from pathlib import Path
import numpy as np

def phase(name:str): print(f'phase {name}', flush=True)

def main(cache:Path, out:Path, n:int=96):
    from artsig.core import settings
    settings.cache = cache
    from artsig.data import wikiart100, cache_images
    from artsig.hub import get_collection, write_hub_shards
    from artsig.features import BackboneStats, compute_feature_sets
    from artsig.heads import FeatureHead, HeadConfig, classification_metrics
    from artsig.records import save_run
    write_hub_shards(wikiart100('mini'), cache/'hub')  # the stand-in hub, rewritten whole each run
    phase('get')
    got = get_collection(str(cache/'hub'), dest=cache/'collections'/'mini')
    works = got.works.sort_values('filename').groupby('artist').head(max(2, n // 20)).head(n).reset_index(drop=True)
    phase('images')
    works = cache_images(works, size=128, dest=cache/'images128', n_workers=2)
    phase('features')
    lite0 = BackboneStats('efficientnet_lite0', bf16=False)
    center, flip = compute_feature_sets(works.path.tolist(), [(lite0, 'center', 96), (lite0, 'flip', 96)], bs=4, progress=False)
    phase('head')
    valid = np.arange(len(works)) % 4 == 0
    head = FeatureHead(sorted(set(works.artist)), lite0.widths, HeadConfig(epochs=150, bs=8)).fit(
        [center[~valid], flip[~valid]], works.artist[~valid].tolist())
    probs = head.predict_proba([center[valid], flip[valid]])
    metrics = classification_metrics(works.artist[valid].tolist(), probs, head.vocab)
    head.save(cache/'models'/'artist_head.safetensors', task='artist')
    save_run(out, metrics, command='tests/fault_driver.py', data=f'wikiart100 mini got through artsig.hub, {len(works)} works')
    digest = hashlib.blake2b(np.concatenate([center, flip], 1).tobytes(), digest_size=16).hexdigest()
    phase('done')
    print(json.dumps({'features': digest, 'metrics': metrics}), flush=True)

if __name__ == '__main__': main(Path(sys.argv[1]), Path(sys.argv[2]), *map(int, sys.argv[3:4]))
