"""What `notebooks/02f_learner.ipynb` cannot show on its own machine: offline weights anywhere, GPU precision choices,
ViT parameter groups, images of odd modes at prediction time, and the `artsig-finetune` command line."""
import json, os, shutil, subprocess, sys, urllib.error
from pathlib import Path

import numpy as np, pandas as pd, pytest, torch
from PIL import Image
from fastai.vision.all import create_head, DataLoaders

from artsig.core import load_backbone, MissingWeights
from artsig.data import read_collection, wikiart100, split_random
from artsig.learner import (task_dataloaders, task_learner, task_splitter, check_classes, export_classifier,
                            load_classifier, open_work, _precision)



@pytest.fixture(scope='module')
def by_artist():
    mini = wikiart100('mini')
    return split_random(mini, 'artist', groups=np.arange(len(mini)))  # every work its own group: no hashing needed


@pytest.fixture(scope='module')
def tiny_learner(by_artist):
    "An untrained, randomly initialised artist learner at 32 px: enough to test export and load."
    dls = task_dataloaders(by_artist, 'artist', backbone='efficientnet_lite0', size=32, bs=8)
    return task_learner(dls, pretrained=False)


def test_missing_resnet_weights_surface_even_where_a_download_would_work(by_artist, monkeypatch, tmp_path):
    "With an empty torch hub cache and a failed download, the learner raises `MissingWeights`, never trains at random."
    from torchvision.models import ResNet50_Weights
    def offline(*args, **kwargs): raise urllib.error.URLError('no network (simulated)')
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    monkeypatch.setattr(ResNet50_Weights, 'get_state_dict', offline)
    dls = task_dataloaders(by_artist, 'artist', backbone='resnet50', size=32, bs=8)  # needs no weights
    with pytest.raises(MissingWeights, match='resnet50-11ad3fa6.pth'): task_learner(dls)


def test_precision_follows_the_device(monkeypatch):
    cpu, cuda = torch.device('cpu'), torch.device('cuda')
    assert _precision(cpu, None) == 'fp32' and _precision(cpu, 'bf16') == 'fp32'
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda *a, **k: True)
    assert _precision(cuda, None) == 'bf16' and _precision(cuda, 'fp16') == 'fp16' and _precision(cuda, False) == 'fp32'
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda *a, **k: False)
    assert _precision(cuda, True) == 'fp16'
    with pytest.raises(ValueError, match="not 'fp8'"): _precision(cuda, 'fp8')


def test_vit_parameters_outside_layer_groups_are_trained():
    "DINOv2's class token and position embedding sit outside its layer groups; they must still get a learning rate."
    body = load_backbone('dinov2_vits14', pretrained=False)
    model = torch.nn.Sequential(body, create_head(body.n_features, 5, pool=False))
    groups = task_splitter(model)
    ids = [{id(p) for p in g} for g in groups]
    assert id(body.vit.cls_token) in ids[0] and id(body.vit.pos_embed) in ids[0]
    assert sum(len(g) for g in groups) == len(list(model.parameters()))  # ViT has no unused classifier
    assert len(set().union(*ids)) == sum(len(g) for g in groups)


def test_a_class_only_in_validation_is_refused(by_artist):
    split = by_artist.copy()
    split.loc[split.artist == 'rembrandt', 'is_valid'] = True
    with pytest.raises(ValueError, match=r"only in the validation split: \['rembrandt'\]"): check_classes(split, 'artist')


def test_dataloaders_need_paths_and_a_split(by_artist):
    with pytest.raises(ValueError, match="'is_valid'"): task_dataloaders(by_artist.drop(columns='is_valid'), 'artist')


def test_learner_needs_artsig_dataloaders(tiny_learner):
    plain = DataLoaders(tiny_learner.dls.train, tiny_learner.dls.valid)
    with pytest.raises(ValueError, match='task_dataloaders'): task_learner(plain, pretrained=False)


def test_classifier_reads_odd_images_as_files_are_read(tiny_learner, by_artist, tmp_path):
    "A PIL image given directly (RGBA, greyscale) is preprocessed exactly like the same image read from a file."
    clf = load_classifier(export_classifier(tiny_learner, tmp_path/'artist.pth'))
    rgb = Image.open(by_artist.path.iloc[0]).convert('RGB')
    rgba = rgb.convert('RGBA'); rgba.putalpha(Image.linear_gradient('L').resize(rgb.size))
    grey = rgb.convert('L')
    rgba.save(tmp_path/'rgba.png'); grey.save(tmp_path/'grey.png')
    from_files = clf.probs([tmp_path/'rgba.png', tmp_path/'grey.png'])
    from_pil = clf.probs([rgba, grey])
    assert torch.allclose(from_files, from_pil, atol=1e-6)
    pixels = np.asarray(open_work(rgba))
    assert np.array_equal(pixels, np.asarray(open_work(tmp_path/'rgba.png')))
    assert (pixels[0] == 255).all()  # the fully transparent top row is white paper, not black
    assert not np.array_equal(pixels, np.asarray(open_work(grey)))
    frame = clf.predict([str(tmp_path/'grey.png'), grey])
    assert list(frame.index) == [str(tmp_path/'grey.png'), 'image 1'] and list(frame.columns) == clf.vocab
    assert clf.probs([]).shape == (0, len(clf.vocab))


def test_exported_file_is_plain_data(tiny_learner, tmp_path):
    path = export_classifier(tiny_learner, tmp_path/'sub'/'artist.pth')
    saved = torch.load(path, weights_only=True)  # no pickled code: the safe loader accepts it
    assert saved['meta']['task'] == 'artist' and saved['meta']['backbone'] == 'efficientnet_lite0'
    assert saved['meta']['size'] == 32 and saved['meta']['presize'] == 37 and len(saved['meta']['vocab']) == 20
    assert all(v.device.type == 'cpu' for v in saved['state_dict'].values())


def test_vocab_mismatch_names_the_classes(tiny_learner, tmp_path):
    path = export_classifier(tiny_learner, tmp_path/'artist.pth')
    vocab = list(tiny_learner.dls.vocab)
    with pytest.raises(ValueError, match=r"lacks \['hokusai'\] and has \['rembrandt'\]"):
        load_classifier(path, vocab=[c if c != 'rembrandt' else 'hokusai' for c in vocab])
    assert load_classifier(path, vocab=vocab).vocab == vocab


def test_finetune_command_line(tmp_path):
    "`artsig-finetune`, the installed console script, as a user runs it: its options, and a quick run's record."
    script = shutil.which('artsig-finetune', path=str(Path(sys.executable).parent))
    assert script, 'artsig-finetune is not installed; run `pip install -e .`'
    helped = subprocess.run([script, '--help'], capture_output=True, text=True)
    assert helped.returncode == 0, helped.stderr
    assert all(o in helped.stdout for o in ('--quick', '--tasks', '--head-epochs', '--lr-find-iters', '--export', '--out'))
    done = subprocess.run([script, '--quick', '--tasks', 'genre', '--lr', '1e-3', '--export', '--out', str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['genre.pth', 'metrics.json']  # no lr_find plot: lr was given
    record = json.loads((tmp_path/'metrics.json').read_text())
    assert record['command'] == f'artsig-finetune --quick --tasks genre --lr 1e-3 --export --out {tmp_path}'
    assert (record['backbone']['name'], record['collection']['name'], list(record['metrics'])) == ('efficientnet_lite0', 'wikiart100/mini', ['genre'])
    assert record['collection'] == read_collection('wikiart100/mini').record() and 'collection: Collection(' in done.stdout
    assert record['tasks']['genre']['lr'] == 1e-3 and not record['tasks']['genre']['lr_found']
    assert [h['phase'] for h in record['tasks']['genre']['history']] == ['head', 'unfrozen']
    assert 'genre: accuracy' in done.stdout
    clf = load_classifier(tmp_path/'genre.pth')
    assert clf.task == 'genre' and len(clf.vocab) == record['tasks']['genre']['split']['classes']
