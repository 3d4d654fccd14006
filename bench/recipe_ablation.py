"""Which cached features and which head: the ablation behind artsig's defaults.

Trains heads on a collection's seeded split (`artsig.data.task_split`; wikiart100 by default, `--collection` for
another) from feature caches that `artsig-fastpath` fills, for several feature recipes and head settings, and writes
`nbs_outputs/bench/recipe_ablation/metrics.json`.
Every block is computed if missing (run `artsig-fastpath` first to fill most of the cache): `python bench/recipe_ablation.py`.
"""
import time
from fastcore.script import call_parse
from artsig.data import read_collection
from artsig.heads import HeadConfig
from artsig.records import outputs_folder, save_run
from artsig.features import FeatureRecipe
from artsig.tasks import run_task

DINO, LITE2, MAGENTA = ('dinov2_vits14', 224), ('efficientnet_lite2', 224), ('magenta_style', 256)
TEXTURE = ('efficientnet_lite2+gram123', 224)          # Lite2 stats plus channel correlations of stages 1-3
LITE0_TEXTURE = ('efficientnet_lite0+gram123', 224)
OLD_HEAD = HeadConfig(hidden=0, epochs=30, lr=2e-3, weight_decay=1e-2, dropout=0.3)  # the first guess
TUNED_HEAD = HeadConfig(lr=1e-2, weight_decay=1e-4, dropout=0.2)                   # the default before texture features
ALL_MIRRORED = ()                                     # every extractor is run on the mirror image for the flip view
RUNS = [  # (name, recipe, head)
    ('dinov2 stats, center, head lr 2e-3', FeatureRecipe((DINO,), ('center',)), OLD_HEAD),
    ('lite2 stats, center, head lr 2e-3', FeatureRecipe((LITE2,), ('center',)), OLD_HEAD),
    ('dinov2 + lite2, center, head lr 2e-3', FeatureRecipe((DINO, LITE2), ('center',)), OLD_HEAD),
    ('dinov2 + lite2 + magenta, center, head lr 2e-3', FeatureRecipe((DINO, LITE2, MAGENTA), ('center',)), OLD_HEAD),
    ('dinov2 + lite2 + magenta, center, tuned head', FeatureRecipe((DINO, LITE2, MAGENTA), ('center',)), TUNED_HEAD),
    ('dinov2 + lite2 + magenta, center + flip, tuned head', FeatureRecipe((DINO, LITE2, MAGENTA), mirror_invariant=ALL_MIRRORED), TUNED_HEAD),
    ('... + MLP 256', FeatureRecipe((DINO, LITE2, MAGENTA), mirror_invariant=ALL_MIRRORED), HeadConfig(hidden=256, lr=3e-3, dropout=0.5)),
    ('dinov2 + lite2 gram123 + magenta, center, tuned head', FeatureRecipe((DINO, TEXTURE, MAGENTA), ('center',)), TUNED_HEAD),
    ('dinov2 + lite2 gram123 + magenta, center + flip, tuned head', FeatureRecipe((DINO, TEXTURE, MAGENTA), mirror_invariant=ALL_MIRRORED), TUNED_HEAD),
    ('... flip reuses center for dinov2 and magenta, tuned head', FeatureRecipe(), TUNED_HEAD),
    ('... flip reuses center for dinov2 and magenta, default head (dropout 0, weight decay 0.05)', FeatureRecipe(), HeadConfig()),
    ('dinov2 + lite0 gram123 + magenta, default head', FeatureRecipe((DINO, LITE0_TEXTURE, MAGENTA)), HeadConfig()),
    ('dinov2 + lite2 gram123 + lite0 gram123 + magenta, default head', FeatureRecipe((DINO, TEXTURE, LITE0_TEXTURE, MAGENTA)), HeadConfig()),
]

@call_parse
def main(tasks:str='artist style genre', # tasks to score
         collection:str=None):           # a collection for `read_collection`: a name in the data folder, a path, or a hub id; wikiart100 by default
    "Score every recipe/head pair on each task and save the table."
    rows, collection = [], read_collection(collection)
    print(f'collection: {collection!r}', flush=True)
    for name, recipe, head in RUNS:
        row, start = {'run': name, 'recipe': recipe.describe(), 'head': vars(head)}, time.time()
        for task in tasks.split():
            row[task] = run_task(task, collection, recipe, head).metrics['accuracy']
        row['seconds'] = round(time.time() - start)
        print(row, flush=True); rows.append(row)
    save_run(outputs_folder('bench')/'recipe_ablation', {'runs': rows}, command=f'python bench/recipe_ablation.py --tasks "{tasks}" --collection {collection.name}',
             collection=collection.record(), data='study_works: filter_works(centuries=None)', split='task_split: seeded stratified 80/20, near-duplicates grouped')
