"""`artsig-distributed` as a user launches it: two CPU processes under `accelerate launch`, on the mini set.

`notebooks/11_distributed.ipynb` launches with `-m artsig.distributed` and lets `lr_find` choose the learning rate;
this launches the installed console script with a given learning rate, and checks the launches that must be refused."""
import json, os, shutil, socket, subprocess, sys
from pathlib import Path

import pytest

from artsig.learner import load_classifier
from artsig.data import read_collection, study_works, task_split

BIN = Path(sys.executable).parent
LAUNCH = [sys.executable, '-m', 'accelerate.commands.launch', '--num_machines', '1', '--mixed_precision', 'no',
          '--dynamo_backend', 'no']
QUICK = ['--task', 'artist', '--collection', 'wikiart100/mini', '--backbone', 'efficientnet_lite0', '--size', '64', '--bs', '16',
         '--frozen-epochs', '1', '--epochs', '1']


def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def run(args:list, timeout:int=300)->subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, 'OMP_NUM_THREADS': '1'})


@pytest.fixture(scope='module')
def two_processes(tmp_path_factory):
    "One launch of the console script on two CPU processes; its output folder and the finished process."
    script = shutil.which('artsig-distributed', path=str(BIN))
    assert script, f'artsig-distributed is not installed in {BIN}; run `pip install -e .`'
    out = tmp_path_factory.mktemp('two')
    done = run([*LAUNCH, '--multi_gpu', '--num_processes', '2', '--main_process_port', str(free_port()),
                script, '--cpu', *QUICK, '--lr', '1e-3', '--out', str(out)])
    assert done.returncode == 0, done.stderr[-4000:]
    return out, done


def test_both_processes_trained_their_half(two_processes):
    out, done = two_processes
    report = json.loads((out/'metrics.json').read_text())  # written by rank 0 alone
    assert (report['world_size'], report['backend'], report['bs_per_step']) == (2, 'gloo', 32)
    assert [r['rank'] for r in report['ranks']] == [0, 1]
    n_train = report['split']['train']
    single = n_train // 16                 # batches one process would train per epoch
    half = -(-n_train // 2) // 16          # each process's share: ceil(n/2) works, full batches only
    assert half <= single / 2 and report['batches_per_epoch'] == half
    assert all(r['batches'] == [half, half] and r['works'] == [16*half]*2 for r in report['ranks']), report['ranks']
    assert report['weights_agree'] and len({r['weights_sum'] for r in report['ranks']}) == 1
    assert (report['lr'], report['lr_found']) == (1e-3, False)
    assert report['command'].startswith('artsig-distributed --cpu')
    assert report['collection'] == read_collection('wikiart100/mini').record() and done.stdout.count('collection: ') == 1
    assert 'on 2 process(es)' in done.stdout and done.stdout.count('artist: accuracy') == 1  # only rank 0 reports


def test_saved_classifier_loads_and_predicts(two_processes):
    out, _ = two_processes
    assert sorted(p.name for p in out.iterdir()) == ['artist.pth', 'metrics.json']
    works = task_split(study_works('wikiart100/mini'), 'artist')
    clf = load_classifier(out/'artist.pth', vocab=sorted(works.artist.unique()))
    valid = works[works.is_valid]
    probs = clf.predict(valid.path.tolist())
    assert probs.shape == (len(valid), 19) and (abs(probs.sum(axis=1) - 1) < 1e-5).all()
    report = json.loads((out/'metrics.json').read_text())
    accuracy = (probs.idxmax(axis=1).values == valid.artist.values).mean()
    assert abs(accuracy - report['metrics']['accuracy']) < 1e-6  # the processes measured all validation works together


def test_cpu_flag_of_accelerate_is_refused(tmp_path):
    "`accelerate launch --cpu --num_processes 2` starts one process; the script says so instead of training alone."
    done = run([*LAUNCH, '--cpu', '--num_processes', '2', '--main_process_port', str(free_port()),
                '-m', 'artsig.distributed', *QUICK, '--out', str(tmp_path/'out')], timeout=120)
    assert done.returncode != 0
    assert '--multi_gpu --num_processes N -m artsig.distributed --cpu' in done.stderr, done.stderr[-2000:]
    assert not (tmp_path/'out').exists()


def test_unknown_task_is_refused():
    "The console script refuses an unknown task with argparse's message and exit status 2."
    done = run([shutil.which('artsig-distributed', path=str(BIN)), '--task', 'medium'], timeout=120)
    assert done.returncode == 2 and "invalid choice: 'medium'" in done.stderr, done.stderr[-2000:]


def test_refusal_exits_with_status_2_under_python_m(tmp_path):
    "Under `python -m`, where `call_parse` runs the command as the module loads, a refused run still exits with 2."
    done = run([sys.executable, '-m', 'artsig.distributed', *QUICK, '--bs', '300', '--out', str(tmp_path/'out')], timeout=120)
    assert done.returncode == 2 and 'fewer than one batch of 300' in done.stderr, done.stderr[-2000:]
    assert not (tmp_path/'out').exists()
