"""The default recipe's features of wikiart100 (study_works) and wikiart_unseen, as .npy files for `same_artist_levers.py`.

    python bench/same_artist_features.py [FOLDER]   # FOLDER: where they go, a temporary folder by default
"""
import numpy as np, time, json, platform, sys, os
import tempfile
D = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), 'artsig-same-artist/'); os.makedirs(D, exist_ok=True)
from artsig.data import read_collection, study_works
from artsig.features import FeatureRecipe, readable_features
recipe = FeatureRecipe()
out = {}
for name, works in [('w100', study_works('wikiart100').reset_index(drop=True)), ('unseen', read_collection('wikiart_unseen').works.reset_index(drop=True))]:
    t = time.time()
    views, widths, ok = readable_features(works.path.tolist(), recipe)
    works = works[ok].reset_index(drop=True)
    np.save(f'{D}{name}_center.npy', views['center']); np.save(f'{D}{name}_flip.npy', views['flip'])
    works[['filename', 'artist', 'style', 'genre']].to_csv(f'{D}{name}.csv', index=False)
    out[name] = dict(n=len(works), artists=int(works.artist.nunique()), seconds=round(time.time()-t, 1))
    print(name, out[name], flush=True)
json.dump({'widths': widths, **out}, open(f'{D}meta.json', 'w'))
