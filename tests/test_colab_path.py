"""The Colab path, walked with the network cut: a stand-in `google.colab`, the hub replaced by local parquet shards
in its schema (only the step that lists and downloads shards), an empty disk, and then what a user does in the
notebooks: `setup()`, a trained head, and a prediction in the upload box."""
import json, sys
from datetime import datetime
from pathlib import Path
import ipywidgets as widgets
import artsig.hub
from artsig.core import settings
from artsig.data import filter_works, quick_collection, read_collection
from artsig.hub import local_shards, write_hub_shards
from artsig.colab import setup, stand_in_colab
from artsig.classify import ArtClassifier
from artsig.your_art import YourArt
from artsig.cli import main


def text(w)->str:
    return w.value if isinstance(w, widgets.HTML) else ' '.join(text(c) for c in getattr(w, 'children', []))


def run_chapter_cells(notebook:str, *keys)->dict:
    "Run the code cells of a chapter that hold each of `keys`, in order and in one namespace, as the notebook does."
    cells, ns = json.loads((Path(__file__).parents[1]/'notebooks'/notebook).read_text())['cells'], {}
    for key in keys:
        cell, = [c for c in cells if c['cell_type'] == 'code' and key in ''.join(c['source'])]
        exec(''.join(cell['source']), ns)
    return ns


def test_colab_from_an_empty_disk_to_a_prediction(tmp_path, monkeypatch):
    hub = tmp_path/'hub'
    mini = read_collection('wikiart100/mini').works
    write_hub_shards(mini, hub)                                            # before the data folder disappears
    study = filter_works(mini, centuries=None, verbose=False)              # what the study's selection keeps of it
    listed = []
    def hub_shards(repo_id='huggan/wikiart', endpoint=None): listed.append(repo_id); return local_shards(hub)
    monkeypatch.setattr(artsig.hub, 'hub_shards', hub_shards)
    asked = []
    monkeypatch.setitem(sys.modules, 'google.colab', stand_in_colab(asked))
    monkeypatch.setattr(settings, 'data', None)                           # a fresh runtime: no data folder ...
    monkeypatch.setattr(settings, 'cache', tmp_path/'cache')              # ... and nothing cached
    monkeypatch.setenv('ARTSIG_CACHE', str(tmp_path/'cache'))

    ready = setup()
    assert ready.colab and listed == ['huggan/wikiart'] and 'got from huggan/wikiart' in ready.said[-1]
    assert ready.collection.name == 'huggan/wikiart' and len(ready.collection.works) == len(study) == 275
    assert 'device:' in ready.said[0] and 'upload box' in ready.said[1]
    quick = quick_collection()                                             # the mini set the chapters' quick cells use
    assert quick.name == 'huggan/wikiart/mini' and set(quick.works.filename) <= set(ready.collection.works.filename)
    assert quick.works.artist.nunique() == min(20, ready.collection.works.artist.nunique())  # up to 20 artists, each fully labelled
    assert quick.works[['style', 'genre']].notna().all().all()
    genre = run_chapter_cells('03_genre.ipynb', 'from artsig.tasks import run_task', "quick = run_task('genre'")
    assert genre['quick'].metrics['n'] > 0                                 # 03_genre's quick twin ran on it, in "Colab"

    models = tmp_path/'models'
    for task in ('genre', 'style', 'artist'):
        assert main(['train', '--task', task, '--collection', 'huggan/wikiart', '--quick', '--epochs', '20', '--models', str(models)]) == 0
    art = ArtClassifier.from_saved('huggan/wikiart', models=models, progress=False)
    box = YourArt(art, heatmap=False)
    painting = Path(ready.collection.works.path.iloc[0]).read_bytes()
    box.upload.value = ({'name': 'mine.jpg', 'type': 'image/jpeg', 'size': len(painting), 'content': memoryview(painting),
                         'last_modified': datetime.now()},)
    assert len(box.results.children) == 1, box.status.value
    card, = box.results.children
    shown = text(card)
    assert all(w in shown for w in ('genre', 'style', 'artist', 'nearest known works')), shown
    assert '1 image(s) classified' in box.status.value
    assert setup().said[-1].endswith(f"found ({tmp_path/'cache'/'collections'/'huggan'/'wikiart'/'artworks.csv'})")
