"""Faults and trust: kills at random points, a damaged shard, two writers on one cache, a full disk, hostile model files.

Each test drives artsig's real code: `fault_driver.py` is a small run from images to a saved head, and the
checks below are what a later run relies on: every file it finds is whole, and its final answer is the one an
uninterrupted run gives, to the last bit.
"""
import json, os, random, shutil, signal, subprocess, sys, threading, time, warnings
from pathlib import Path
import numpy as np, pandas as pd, pyarrow.parquet as pq, pytest, torch
from artsig.core import settings
from artsig.data import wikiart100, cache_images, load_image
from artsig.features import BackboneStats, FeatureCache, compute_features, read_shard
from artsig.files import DiskFull, UnsafeModelFile
from artsig.heads import FeatureHead
from artsig.tasks import load_task_head

DRIVER = Path(__file__).with_name('fault_driver.py')
FIGURES = {}  # what the tests below tried and survived; written to nbs_outputs/faults/metrics.json with ARTSIG_RECORD=1

@pytest.fixture(scope='module', autouse=True)
def record_figures():
    start = time.time()
    yield
    if os.environ.get('ARTSIG_RECORD') and FIGURES:
        from artsig.records import save_run
        save_run(Path(__file__).parents[1]/'nbs_outputs'/'faults', FIGURES, command='ARTSIG_RECORD=1 pytest tests/test_faults.py',
                 data='wikiart100 mini (tests/fault_driver.py: got from local hub shards, 80 works, EfficientNet-Lite0 at 96 px, an artist head)',
                 seconds=round(time.time() - start))
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'default'}

def start(cache:Path, out:Path)->tuple:
    "Start the driver; a thread collects its output lines as they come."
    p = subprocess.Popen([sys.executable, str(DRIVER), str(cache), str(out)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=ENV)
    lines = []  # (seconds since start, line)
    t0 = time.time()
    reader = threading.Thread(target=lambda: lines.extend((time.time() - t0, l) for l in iter(p.stdout.readline, '')), daemon=True)
    reader.start()
    return p, lines, reader

def phase_seconds(lines:list)->dict:
    "How long each phase of a finished run lasted."
    marks = [(t, l.split()[1]) for t, l in lines if l.startswith('phase ')]
    return {name: round(t1 - t0, 3) for (t0, name), (t1, _) in zip(marks, marks[1:])}

def finish(cache:Path, out:Path)->dict:
    "Run the driver to the end and return its final answer (features digest and metrics)."
    r = subprocess.run([sys.executable, str(DRIVER), str(cache), str(out)], capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1]) | {'stderr': r.stderr}

def phases(lines:list)->list: return [l.split()[1] for _, l in lines if l.startswith('phase ')]

def kill_in(cache:Path, out:Path, target:str, delay:float)->str|None:
    "Start the driver, SIGKILL it `delay` seconds after it enters phase `target`; the phase it was in, or None if it ended first."
    p, lines, reader = start(cache, out)
    deadline = time.time() + 120
    while target not in phases(lines) and p.poll() is None and time.time() < deadline: time.sleep(0.005)
    time.sleep(delay)
    killed = p.poll() is None
    if killed: p.send_signal(signal.SIGKILL)
    p.wait(); reader.join(5); p.stderr.close()
    seen = phases(lines)
    return seen[-1] if killed and seen and seen[-1] != 'done' else None

def assert_trustworthy(cache:Path, out:Path):
    "Every file a later run would read is whole: images decode, shards pass their checks, heads and records load."
    for f in cache.rglob('*'):
        if not f.is_file() or f.name.startswith('.'): continue  # hidden: temporaries of killed writers, and the lock
        if f.suffix == '.jpg': load_image(f)
        elif f.suffix == '.npz': read_shard(f)
        elif f.suffix == '.safetensors': FeatureHead.load(f)
        elif f.suffix == '.csv': pd.read_csv(f)
        elif f.suffix == '.parquet': pq.read_metadata(f)     # a shard: the stand-in hub's, or a download made whole
        elif f.suffix == '.json': json.loads(f.read_text())  # a collection's recorded selection options
        elif f.suffix == '.part' or f.name == 'lock': pass   # a download cut short (resumed, never read), get's lock
        else: raise AssertionError(f'unexpected file {f}')
    if (out/'metrics.json').exists(): json.loads((out/'metrics.json').read_text())

@pytest.fixture(scope='module')
def reference(tmp_path_factory)->dict:
    "The answer of one uninterrupted run in a cache of its own, and how long each of its phases took on this machine."
    root = tmp_path_factory.mktemp('reference')
    p, lines, reader = start(root/'cache', root/'out')
    assert p.wait(300) == 0, p.stderr.read()[-3000:]
    reader.join(5); p.stderr.close()
    return json.loads(lines[-1][1]) | {'seconds': phase_seconds(lines)}


def test_killed_anywhere_rerun_gives_the_same_answer(reference, tmp_path):
    rng = random.Random(13)
    windows = {p: 0.9*reference['seconds'][p] for p in ('get', 'images', 'features', 'head')}  # kill inside each phase
    kills, rounds = [], 0
    enough = lambda: len(kills) > 20 and all(kills.count(p) >= 3 for p in windows)
    while not enough() and rounds < 10:  # a kill drawn after the run ended is no kill: go on until 21 have landed
        round, rounds = rounds, rounds + 1
        cache, out = tmp_path/f'cache{round}', tmp_path/f'out{round}'
        for target in windows:  # four runs killed one after another, each resuming what the last one left
            phase = kill_in(cache, out, target, rng.uniform(0, windows[target]))
            if phase: kills.append(phase)
            assert_trustworthy(cache, out)
        result = finish(cache, out)
        assert (result['features'], result['metrics']) == (reference['features'], reference['metrics']), round
    counts = {p: kills.count(p) for p in windows}
    print(f'{len(kills)} kills survived: {counts}')
    FIGURES['kills'] = {'survived': len(kills), 'by_phase': counts, 'reruns_identical_to_uninterrupted': rounds, 'seed': 13}
    assert enough(), counts


def test_damaged_shard_is_named_and_recomputed(reference, tmp_path):
    cache, out = tmp_path/'cache', tmp_path/'out'
    finish(cache, out)
    shards = sorted((cache/'features').rglob('shard-*.npz'))
    victim = shards[len(shards)//2]
    data = bytearray(victim.read_bytes()); data[len(data)//2] ^= 0x55; victim.write_bytes(bytes(data))
    result = finish(cache, out)
    assert str(victim) in result['stderr'] and 'computed again' in result['stderr']
    assert (victim.parent/'damaged'/victim.name).exists()
    assert (result['features'], result['metrics']) == (reference['features'], reference['metrics'])
    FIGURES['damaged_shards'] = {'damaged': 1, 'caught_and_recomputed': 1}


def test_two_processes_share_one_cache(reference, tmp_path):
    cache = tmp_path/'cache'
    runs = [start(cache, tmp_path/f'out{i}') for i in range(2)]
    answers = []
    for p, lines, reader in runs:
        assert p.wait(300) == 0, p.stderr.read()[-3000:]
        reader.join(5); p.stderr.close()
        answers.append(json.loads(lines[-1][1]))
    for a in answers: assert (a['features'], a['metrics']) == (reference['features'], reference['metrics'])
    assert_trustworthy(cache, tmp_path/'out0')
    for folder in {s.parent for s in (cache/'features').rglob('shard-*.npz')}:  # no batch was computed twice
        keys = [k for s in folder.glob('shard-*.npz') for k in read_shard(s)[0]]
        assert len(keys) == len(set(keys)), folder
    FIGURES['concurrent'] = {'processes_sharing_one_cache': 2, 'answers_identical_to_one_process': True, 'batches_computed_twice': 0}


# ---- a disk that fills up

@pytest.fixture
def small_disk(tmp_path):
    "A 512 KB filesystem (tmpfs), mounted for the test; root only, as CI runs."
    folder = tmp_path/'small'; folder.mkdir()
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', str(folder)], capture_output=True, text=True)
    if r.returncode:
        if os.environ.get('CI'): pytest.fail(f'CI must run the disk-full tests, but mounting a tmpfs failed: {r.stderr}')
        pytest.skip(f'mounting a tmpfs needs root: {r.stderr.strip()}')
    yield folder
    subprocess.run(['umount', str(folder)])

def test_full_disk_while_caching_images(small_disk):
    works = wikiart100('mini')
    with pytest.raises(DiskFull, match=str(small_disk)) as e: cache_images(works, size=256, dest=small_disk/'images', n_workers=2)
    assert 'MB more' in str(e.value)
    files = [f for f in small_disk.rglob('*') if f.is_file()]
    assert files and not [f for f in files if f.name.startswith('.')]  # no temporary file is left behind
    for f in files: load_image(f)                                       # and every cached image is whole
    FIGURES.setdefault('disk_full', []).append({'step': 'image caching', 'filesystem': 'tmpfs 512 KB', 'whole_files_left': len(files), 'partial_files_left': 0})

@pytest.mark.parametrize('caught', ['before writing', 'while writing'])
def test_full_disk_while_extracting_features(small_disk, caught, monkeypatch):
    import artsig.features
    if caught == 'while writing': monkeypatch.setattr(artsig.features, 'check_space', lambda *a: None)  # no early check
    paths = wikiart100('mini').path.tolist()[:120]
    lite0 = BackboneStats('efficientnet_lite0', bf16=False)
    with pytest.raises(DiskFull, match=str(small_disk)) as e: compute_features(paths, lite0, size=64, bs=8, cache_root=small_disk, progress=False)
    assert ('Not enough room' if caught == 'before writing' else 'MB more are needed') in str(e.value)
    shards = list(small_disk.rglob('shard-*.npz'))
    assert shards and not [f for f in small_disk.rglob('.*.tmp')]
    for s in shards: read_shard(s)
    assert 0 < len(FeatureCache(lite0.key, 'center', 64, small_disk)) < len(paths)
    FIGURES.setdefault('disk_full', []).append({'step': f'feature extraction, caught {caught}', 'filesystem': 'tmpfs 512 KB',
                                                'whole_shards_left': len(shards), 'partial_files_left': 0})


# ---- model files from somebody else

class Payload:
    "What a malicious pickle does when it is loaded: here, write a file."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (Path.write_text, (self.marker, 'the payload ran'))

def test_a_shared_model_folder_cannot_run_code(tmp_path, capsys):
    from artsig.cli import main
    models, marker = tmp_path/'models', tmp_path/'pwned.txt'
    models.mkdir()
    for task in ('genre', 'style', 'artist'):
        torch.save({'vocab': Payload(marker), 'state_dict': {}}, models/f'{task}_head.safetensors')  # named like a safe file
    with pytest.raises(UnsafeModelFile, match='does not load pickles'): load_task_head('artist', models)
    image = wikiart100('mini').path[0]
    assert main(['predict', image, '--collection', 'wikiart100/mini', '--models', str(models)]) == 2
    assert 'does not load pickles' in capsys.readouterr().err
    assert not marker.exists()
    FIGURES['pickled_model_files'] = {'payload_heads_refused': 3, 'payloads_that_ran': 0}

def test_an_old_pickled_head_gets_a_way_out(tmp_path):
    models = tmp_path/'models'; models.mkdir()
    torch.save({'vocab': ['a', 'b']}, models/'artist_head.pth')
    with pytest.raises(FileNotFoundError, match='convert_pickled_head'): load_task_head('artist', models)


# ---- nothing a user made is overwritten; the same machine gives the same numbers

def test_fastpath_runs_in_its_own_folder_and_repeats_itself_exactly():
    import hashlib
    repo = Path(__file__).parents[1]
    committed = lambda: {str(f): hashlib.blake2b(f.read_bytes()).hexdigest() for f in (repo/'nbs_outputs').rglob('*') if f.is_file()}
    before, runs = committed(), repo/'artsig-runs'
    existing = set(runs.glob('fastpath-*')) if runs.exists() else set()
    records = []
    try:
        for _ in range(2):
            r = subprocess.run(['artsig-fastpath', '--tasks', 'genre', '--collection', 'wikiart100/mini', '--views', 'center'], cwd=repo,
                               capture_output=True, text=True, env=ENV, timeout=900)
            assert r.returncode == 0, r.stderr[-3000:]
        new = sorted(set(runs.glob('fastpath-*')) - existing)
        assert len(new) == 2  # each run its own folder
        records = [json.loads((folder/'genre'/'metrics.json').read_text())['metrics'] for folder in new]
    finally:
        for folder in set(runs.glob('fastpath-*')) - existing if runs.exists() else []: shutil.rmtree(folder)
    assert committed() == before
    assert records[0] == records[1]
