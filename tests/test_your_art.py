"Classify your own art, headless: the upload widget fed as a browser would feed it, and the `artsig` command on real images."
import io, json, os, subprocess, sys
from datetime import datetime
from pathlib import Path
import numpy as np, pytest
from PIL import Image
import ipywidgets as widgets
from artsig.core import settings
from artsig.data import UnreadableImage
from artsig.tasks import load_task_head
from artsig.features import ExtractorSpec
from artsig.your_art import ArtClassifier, YourArt, read_upload, outside_images
from artsig.cli import main

DATA = Path(settings.data)


def encoded(im:Image.Image, fmt:str, **kw)->bytes:
    buf = io.BytesIO(); im.save(buf, fmt, **kw); return buf.getvalue()

def item(name:str, content:bytes)->dict:
    "One file of an ipywidgets 8 `FileUpload.value`."
    return {'name': name, 'type': '', 'size': len(content), 'content': memoryview(content), 'last_modified': datetime.now()}

def text(w)->str:
    "All HTML shown inside a widget tree."
    return w.value if isinstance(w, widgets.HTML) else ' '.join(text(c) for c in getattr(w, 'children', []))


@pytest.fixture(scope='session')
def models(tmp_path_factory)->Path:
    "Quick heads (EfficientNet-Lite0 features, mini set) trained once, through the command line's own `train`."
    folder = tmp_path_factory.mktemp('artsig')/'models'
    assert main(['train', '--task', 'all', '--collection', 'wikiart100/mini', '--quick', '--epochs', '20', '--models', str(folder)]) == 0
    return folder

@pytest.fixture(scope='session')
def art(models)->ArtClassifier:
    return ArtClassifier.from_saved('wikiart100/mini', models=models, progress=False)

@pytest.fixture(scope='session')
def painting(art)->Path:
    return Path(art.gallery.works.path[art.gallery.works.is_valid.to_numpy()].iloc[0])

@pytest.fixture(scope='session')
def photo()->Path:
    return DATA/'outside'/'skimage_gravel.jpg'


# ---- bad and unusual uploads

@pytest.mark.parametrize('name,content,says', [
    ('catalogue.pdf', b'%PDF-1.7\n%binary', 'catalogue.pdf is a PDF'),
    ('notes.txt', b'a text file, not a picture', 'notes.txt is not an image'),
    ('empty.jpg', b'', 'empty.jpg is empty'),
    ('broken.jpg', b'\xff\xd8\xff\xe0' + bytes(range(256))*4, 'broken.jpg'),
])
def test_unreadable_uploads_say_what_and_which(name, content, says):
    with pytest.raises(UnreadableImage, match=says) as e: read_upload(name, content)
    assert '/tmp' not in str(e.value)  # the message names the upload, not our temporary copy

def test_unusual_but_valid_images_are_read():
    cmyk = read_upload('cmyk.jpg', encoded(Image.new('CMYK', (120, 80), (0, 160, 200, 20)), 'JPEG'))
    deep = read_upload('deep.png', encoded(Image.fromarray((np.arange(100*80).reshape(80, 100)*8).astype(np.uint16)), 'PNG'))
    alpha = read_upload('alpha.png', encoded(Image.new('RGBA', (50, 50), (255, 0, 0, 0)), 'PNG'))
    big = read_upload('big.jpg', encoded(Image.new('RGB', (7000, 5000), (120, 80, 40)), 'JPEG'))
    assert [i.mode for i in (cmyk, deep, alpha, big)] == ['RGB']*4
    assert max(big.size) <= 1024 and min(big.size) >= 512 and alpha.getpixel((0, 0)) == (255, 255, 255)

def test_image_over_the_pixel_limit_is_refused_clearly(monkeypatch):
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 100_000)
    with pytest.raises(UnreadableImage, match='huge.png .*(limit|Downscale)'):
        read_upload('huge.png', encoded(Image.new('RGB', (800, 600)), 'PNG'))


# ---- the widget, fed as a browser feeds it

def test_widget_shows_predictions_neighbours_and_heatmap(art, painting):
    box = YourArt(art, k=4, heatmap_kwargs={'patch': 0.5})
    box.upload.value = (item('mine.jpg', painting.read_bytes()),)
    card, = box.results.children
    shown = text(card)
    for word in ('genre', 'style', 'artist', 'most similar artists', 'nearest known works', 'what the artist model looked at',
                 'With 90% confidence the painter is', 'Painted around'):
        assert word in shown, word
    assert '%' in shown and 'does not look like a painting' not in shown
    tiles = [w for w in card.children if isinstance(w, widgets.HBox) and all(isinstance(c, widgets.VBox) for c in w.children)]
    assert len(tiles[-1].children) == 4  # k nearest works, each a thumbnail with a caption
    assert any(isinstance(w, widgets.Image) and w.format == 'png' for w in card.children)  # the heat map
    assert '1 image(s) classified' in box.status.value

def test_widget_says_plainly_when_it_is_not_a_painting(art, photo):
    box = YourArt(art, heatmap=False)
    box.upload.value = (item(photo.name, photo.read_bytes()),)
    shown = text(box.results.children[0])
    assert 'does not look like a painting' in shown
    assert 'artist</b>' not in shown  # no artist named with false confidence

def test_widget_handles_several_files_and_bad_ones_at_once(art, painting, photo):
    box = YourArt(art, heatmap=False, max_files=3)
    box.upload.value = (item('a.jpg', painting.read_bytes()), item('doc.pdf', b'%PDF-1.4'), item('empty.png', b''),
                        item('b.jpg', photo.read_bytes()))
    assert len(box.results.children) == 1  # a.jpg; doc.pdf and empty.png refused; b.jpg beyond max_files
    for says in ('4 files uploaded; showing the first 3', 'doc.pdf is a PDF', 'empty.png is empty'):
        assert says in box.status.value, box.status.value

def files_under(*folders)->set:
    return {str(f) for folder in folders for f in Path(folder).rglob('*')}

def test_hostile_uploads_get_answers_and_write_nothing(art, painting, tmp_path, monkeypatch):
    import tempfile
    monkeypatch.chdir(tmp_path)
    before = files_under(tmp_path, settings.cache), set(os.listdir(tempfile.gettempdir()))
    box = YourArt(art, heatmap=False, max_files=6)
    art_bytes = painting.read_bytes()
    names = ['../../x.jpg', '/etc/passwd.jpg', 'a\x00b.jpg', 'caf\udce9.jpg', '..\\..\\win.jpg', 'x'*300 + '.jpg']
    box.upload.value = tuple(item(n, art_bytes) for n in names)
    assert len(box.results.children) == 6
    import re
    titles = [re.search(r'<h4[^>]*>(.*?)</h4>', c.children[0].value).group(1) for c in box.results.children]
    assert sorted(titles)[:5] == sorted(['x.jpg', 'passwd.jpg', 'a?b.jpg', 'caf?.jpg', 'win.jpg']), titles
    assert max(len(t) for t in titles) == 120  # the 304-character name, cut to what a card can show
    box.upload.value = tuple(item(f'{i}.jpg', art_bytes) for i in range(200))
    assert '200 files uploaded; showing the first 6' in box.status.value and len(box.results.children) == 6
    box.upload.value = (item('huge.jpg', b'\xff\xd8\xff' + bytes(100 * 2**20)),)
    assert 'huge.jpg is 100 MB' in box.status.value and 'Save it smaller' in box.status.value
    assert (files_under(tmp_path, settings.cache), set(os.listdir(tempfile.gettempdir()))) == before

def test_widget_reads_colab_ipywidgets7_values(art, painting):
    box = YourArt(art, heatmap=False)
    box.show([(n, c) for n, c in [('a.jpg', painting.read_bytes())]])
    from artsig.your_art import uploaded_files
    assert uploaded_files({'a.jpg': {'content': b'xy', 'metadata': {}}}) == [('a.jpg', b'xy')]
    assert len(box.results.children) == 1

def test_a_failing_model_becomes_a_message_not_a_crash(art, painting, monkeypatch):
    box = YourArt(art, heatmap=False)
    monkeypatch.setattr(art, 'predict', lambda *a, **k: 1/0)
    box.upload.value = (item('a.jpg', painting.read_bytes()),)
    assert 'Something went wrong' in box.status.value and 'ZeroDivisionError' in box.status.value


# ---- the command line

def run_cli(*args)->subprocess.CompletedProcess:
    code = 'import sys; from artsig.cli import main; sys.exit(main(sys.argv[1:]))'
    return subprocess.run([sys.executable, '-c', code, *map(str, args)], capture_output=True, text=True, timeout=600,
                          env={'OMP_NUM_THREADS': '1', **__import__('os').environ})

def test_cli_predict_on_paintings_and_outside_images(models, art, tmp_path):
    works = art.gallery.works
    paintings = works.path[works.is_valid.to_numpy()].iloc[:4].tolist()
    outside = outside_images().path.tolist()
    out = tmp_path/'pred.json'
    r = run_cli('predict', *paintings, *outside, '--collection', 'wikiart100/mini', '--models', models, '--json', out, '--confidence', '0.8')
    assert r.returncode == 0, r.stderr
    assert 'painting?' in r.stdout and f'wrote {out}' in r.stdout
    preds = json.loads(out.read_text())['predictions']
    assert len(preds) == 4 + 25
    painted = [p['looks_like_a_painting'] for p in preds]
    assert sum(painted[:4]) >= 3                # validation paintings pass (95% by calibration)
    assert sum(painted[4:]) <= 25 * 0.25        # most non-artworks are flagged
    flagged = [p for p in preds[4:] if not p['looks_like_a_painting']]
    assert all(p['message'].startswith('This does not look like a painting') for p in flagged)
    assert all(len(p['top']['artist']) == 5 and p['nearest_works'] for p in preds)
    for p in preds:  # calibrated sets at the asked confidence, led by the top class
        sets = p['prediction_sets']
        assert sets['artist']['confidence'] == 0.8 and sets['artist']['classes'][0] == p['top']['artist'][0][0]
    assert 'artists (80% set)' in r.stdout and 'painted' in r.stdout
    assert all(p['date']['low'] <= p['date']['year'] <= p['date']['high'] and p['date']['confidence'] == 0.8 for p in preds)
    assert run_cli('predict', paintings[0], '--collection', 'wikiart100/mini', '--models', models, '--confidence', '90').returncode == 2

def test_cli_similar_and_bad_inputs(models, painting, tmp_path):
    out = tmp_path/'near.json'
    bad = tmp_path/'notes.jpg'; bad.write_text('not an image')
    assert main(['similar', str(painting), str(bad), '--k', '3', '--collection', 'wikiart100/mini', '--models', str(models), '--json', str(out)]) == 1
    record = json.loads(out.read_text())
    assert len(record['nearest_works']) == 3 and record['nearest_works'][0]['path'] == str(painting)
    assert 'notes.jpg is not an image' in record['skipped'][0]

def test_cli_without_trained_heads_says_how_to_train(tmp_path, capsys):
    assert main(['predict', 'x.jpg', '--collection', 'wikiart100/mini', '--models', str(tmp_path/'none')]) == 2
    assert 'artsig train --task' in capsys.readouterr().err

def test_cli_help_loads_no_model_library():
    "`artsig --help` and each command's help read only the command's signature: torch, timm, faiss and pandas stay unloaded."
    code = ('import sys\nfrom artsig.cli import main\ntry: main(sys.argv[1:])\nexcept SystemExit: pass\n'
            'print("loaded:", sorted({"torch", "timm", "faiss", "pandas", "artsig.classify"} & set(sys.modules)))')
    for args in (['--help'], ['predict', '--help'], ['similar', '--help'], ['train', '--help']):
        r = subprocess.run([sys.executable, '-c', code, *args], capture_output=True, text=True, timeout=120)
        assert 'usage: artsig' in r.stdout and 'loaded: []' in r.stdout, r.stdout + r.stderr

def test_saved_heads_round_trip(models, art, painting):
    head, recipe = load_task_head('artist', models)
    assert recipe.extractors == (ExtractorSpec('efficientnet_lite0'),) and head.vocab == art.heads['artist'][0].vocab
