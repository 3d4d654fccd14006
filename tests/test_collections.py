"""A collection of one's own, through the commands a user runs: a folder of images with an `artworks.csv`.

`artsig predict --collection FOLDER` compares with that folder's works using heads trained on another collection
(and says so), and `artsig-fastpath --collection FOLDER` trains on it; each names the collection it read."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest
from artsig.core import settings
from artsig.data import read_collection, study_works, task_split
from artsig.heads import FeatureHead

BIN = Path(sys.executable).parent
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg'}
ARTISTS = ('alfred-sisley', 'sam-francis', 'peter-paul-rubens')  # one style and (mostly) one genre each in the mini set


def script(name:str)->str:
    found = shutil.which(name, path=str(BIN))
    assert found, f'{name} is not installed in {BIN}; run `pip install -e .`'
    return found

def run(*args, env=ENV, timeout=600)->subprocess.CompletedProcess:
    return subprocess.run([*map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope='module')
def museum(tmp_path_factory)->Path:
    "36 mini-set paintings (12 by each of three artists) copied into a folder with an `artworks.csv`, as a user lays one out."
    folder = tmp_path_factory.mktemp('collections')/'my_museum'
    (folder/'img').mkdir(parents=True)
    mini = study_works('wikiart100/mini')
    picked = mini[mini.artist.isin(ARTISTS)].groupby('artist').head(12)
    for p in picked.path: shutil.copy(p, folder/'img'/Path(p).name)
    picked.assign(filename=[f'img/{Path(p).name}' for p in picked.path])[['filename', 'artist', 'style', 'genre']].to_csv(
        folder/'artworks.csv', index=False)
    return folder

@pytest.fixture(scope='module')
def mini_heads(tmp_path_factory)->Path:
    "Quick heads trained on wikiart100/mini by `artsig train`, in a folder of their own."
    models = tmp_path_factory.mktemp('heads')/'models'
    done = run(script('artsig'), 'train', '--task', 'all', '--collection', 'wikiart100/mini', '--quick', '--epochs', '20',
               '--models', models)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"collection: {read_collection('wikiart100/mini')!r}" in done.stderr
    return models


def test_museum_folder_is_a_collection(museum):
    c = read_collection(museum)
    assert (c.name, len(c.works), sorted(c.works.artist.unique())) == ('my_museum', 36, sorted(ARTISTS))
    assert c.digest != read_collection('wikiart100/mini').digest


def test_predict_against_a_folder_of_ones_own(museum, mini_heads, tmp_path):
    collection = read_collection(museum)
    image, out = collection.works.path.iloc[0], tmp_path/'pred.json'
    done = run(script('artsig'), 'predict', image, '--collection', museum, '--models', mini_heads, '--json', out)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f'collection: {collection!r}' in done.stderr                        # which collection, on stderr
    assert 'collection:' not in done.stdout                                   # the table stays clean
    assert (f"trained on wikiart100/mini (digest {read_collection('wikiart100/mini').digest}); the gallery is "
            f"my_museum ({collection.digest})") in done.stderr                 # heads from elsewhere: said once
    assert done.stderr.count('the gallery is my_museum') == 1
    record = json.loads(out.read_text())
    assert record['collection'] == collection.record()
    nearest = record['predictions'][0]['nearest_works']
    assert nearest[0]['path'] == image and all(Path(w['path']).parent == museum/'img' for w in nearest)


def test_fastpath_on_a_folder_names_it_in_its_records(museum, tmp_path):
    "The default recipe's features of these copies are in the shared feature cache (it is keyed by content); the heads go to a temporary cache."
    cache = tmp_path/'cache'; cache.mkdir()
    for shared in ('features', 'weights'):  # made first: on a cold cache a link to nothing cannot be written through
        (settings.cache/shared).mkdir(parents=True, exist_ok=True); (cache/shared).symlink_to(settings.cache/shared)
    out = tmp_path/'run'
    done = run(script('artsig-fastpath'), '--collection', museum, '--tasks', 'artist', '--views', 'center', '--out', out,
               env={**ENV, 'ARTSIG_CACHE': str(cache)})
    assert done.returncode == 0, done.stderr[-3000:]
    collection = read_collection(museum)
    assert done.stdout.splitlines()[0] == f'collection: {collection!r}'
    assert json.loads((out/'fastpath'/'metrics.json').read_text())['collection'] == collection.record()
    record = json.loads((out/'artist'/'metrics.json').read_text())
    assert record['collection'] == collection.record() and record['classes'] == 3
    assert record['n_train'] + record['n_valid'] == len(task_split(study_works(collection), 'artist'))
    kept = FeatureHead.load(cache/'models'/'artist_head.safetensors')
    assert kept.meta['collection'] == collection.record()  # the kept head names what it learned from
