"`tools/notebook_outputs.py` on a small temporary project: a fake package and a notebook, never the real ones."
import importlib.util, json, shutil, subprocess, sys
from pathlib import Path
import pytest
from fastcore.script import CliError

TOOL = Path(__file__).resolve().parents[1]/'tools'/'notebook_outputs.py'
spec = importlib.util.spec_from_file_location('notebook_outputs', TOOL)
no = importlib.util.module_from_spec(spec); spec.loader.exec_module(no)

PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
PYPROJECT = '[project]\nname = "fakepkg"\n\n[tool.nbdev]\nlib_path = "fakepkg"\nnbs_path = "nbs"\ntst_flags = "slow gpu"\n'
MODULES = {'__init__.py': '__version__ = "0.0.1"\n',
           'a.py': 'from .b import base\ndef answer(): return base() + 1\n',
           'b.py': 'def base(): return 41\n',
           'c.py': 'def unused(): pass\n'}  # imported by nothing: editing it leaves outputs current

def code(src, id=None, outputs=()): return dict(cell_type='code', source=src, metadata={}, outputs=list(outputs), execution_count=None, id=id)
def md(src, id=None): return dict(cell_type='markdown', source=src, metadata={}, id=id)
def stream(text): return dict(output_type='stream', name='stdout', text=[text])
def image(): return dict(output_type='display_data', data={'image/png': PNG, 'text/plain': ['<Image>']}, metadata={})

CELLS = [
    md('# Demo\n\nSome prose.', 'md0'),
    code('from fakepkg.a import answer\nfrom IPython.display import Image, display\nimport base64\n'
         f'PNG = base64.b64decode("{PNG}")\ndef show_image(b): display(Image(b))\nanswer()', 'imports'),
    code("#| slow\nprint('never runs on the quick path')", 'slow', [stream('from the full run\n')]),
    code(f"{no.MARKER_LINE}\nprint('a grid of works')\ndisplay(Image(PNG))", 'marker'),
    code('def grid(): show_image(PNG)  # a thumbnail function of the notebook, on top of `show_image`', 'griddef'),
    code("grid()\nprint('caption')", 'grid'),
    code('display(Image(PNG))  # a chart: kept', 'chart'),
]

def write_nb(path, cells, metadata=None):
    path.write_text(json.dumps(dict(cells=cells, metadata=metadata or {}, nbformat=4, nbformat_minor=5), indent=1))

def read_nb(path): return json.loads(path.read_text())
def cell(nb, id): return next(c for c in nb['cells'] if c['id'] == id)
def src(c): return ''.join(c['source'])

def cli(*args, cwd):
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=120)

@pytest.fixture(scope='module')
def executed(tmp_path_factory)->Path:
    "The fake project, its notebook run once by the command line (`run --stale` finds it, unstamped)."
    root = tmp_path_factory.mktemp('project')
    (root/'pyproject.toml').write_text(PYPROJECT)
    (root/'fakepkg').mkdir()
    for name, text in MODULES.items(): (root/'fakepkg'/name).write_text(text)
    (root/'nbs').mkdir()
    write_nb(root/'nbs'/'demo.ipynb', CELLS)
    r = cli('run', '--stale', cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'cell 3 (id marker): cleared 2 output(s) (thumbnail marker)' in r.stdout
    assert 'cell 5 (id grid): cleared 1 output(s) with images (grid)' in r.stdout
    return root

@pytest.fixture
def project(executed, tmp_path, monkeypatch)->Path:
    "A fresh copy of the executed project, as the working directory."
    root = tmp_path/'project'
    shutil.copytree(executed, root)
    monkeypatch.chdir(root)
    return root

def check(root):
    "Problems `check` prints, as text; '' when it passes."
    try: no.main('check')
    except CliError as e: return str(e)
    return ''

def test_run_keeps_outputs_clears_thumbnails_and_stamps(project, capsys):
    nb = read_nb(project/'nbs'/'demo.ipynb')
    assert [c['id'] for c in nb['cells']] == [c['id'] for c in CELLS]  # cell ids kept
    assert '42' in json.dumps(cell(nb, 'imports')['outputs'])  # ran, through fakepkg.a and fakepkg.b
    assert cell(nb, 'slow')['outputs'] == [stream('from the full run\n')]  # skipped: its committed output survives
    assert cell(nb, 'marker')['outputs'] == []
    assert [o['output_type'] for o in cell(nb, 'grid')['outputs']] == ['stream']  # the caption stays, the image goes
    assert 'image/png' in cell(nb, 'chart')['outputs'][0]['data']
    assert all(c['execution_count'] is None and c['metadata'] == {} for c in nb['cells'] if c['cell_type'] == 'code')
    stamp = nb['metadata']['doc']['artsig']
    assert set(stamp['inputs']) == {'code cells', 'fakepkg/a.py', 'fakepkg/b.py'}  # b through a; c and __init__ not
    assert stamp['outputs_from'] == no.outputs_from(stamp['inputs'])
    assert check(project) == ''
    assert 'current' in capsys.readouterr().out

def test_stamp_survives_nbdev_clean(project):
    from nbdev.clean import clean_nb
    fn = project/'nbs'/'demo.ipynb'
    nb = read_nb(fn); before = nb['metadata']['doc']['artsig']
    clean_nb(nb)
    assert nb['metadata']['doc']['artsig'] == before
    r = subprocess.run([Path(sys.executable).parent/'nbdev-clean', '--fname', str(fn)], cwd=project, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert read_nb(fn)['metadata']['doc']['artsig'] == before and check(project) == ''

def edit_cell(fn, id, new):
    nb = read_nb(fn); cell(nb, id)['source'] = new; write_nb(fn, nb['cells'], nb['metadata'])

def test_editing_code_makes_stale_markdown_does_not(project, capsys):
    fn = project/'nbs'/'demo.ipynb'
    edit_cell(fn, 'md0', '# Demo\n\nBetter prose.')
    assert check(project) == ''
    edit_cell(fn, 'chart', 'display(Image(PNG))  # a chart, redrawn')
    assert no.REFRESH in check(project)
    assert 'nbs/demo.ipynb: stale outputs: its code cells changed' in capsys.readouterr().out

@pytest.mark.parametrize('module,stale', [('a.py', True), ('b.py', True), ('c.py', False)])
def test_editing_a_module_makes_stale_when_imported(project, capsys, module, stale):
    (project/'fakepkg'/module).write_text(MODULES[module] + '# edited\n')
    if not stale: return no.main('check')
    with pytest.raises(CliError): no.main('check')
    assert f'nbs/demo.ipynb: stale outputs: fakepkg/{module} changed' in capsys.readouterr().out

def test_new_import_makes_stale(project, capsys):
    fn = project/'nbs'/'demo.ipynb'
    nb = read_nb(fn); cell(nb, 'imports')['source'] = src(cell(nb, 'imports')) + '\nfrom fakepkg import c'
    write_nb(fn, nb['cells'], nb['metadata'])
    with pytest.raises(CliError): no.main('check')
    out = capsys.readouterr().out
    assert 'its code cells changed' in out and 'it now imports fakepkg/c.py' in out

def test_check_fails_on_committed_thumbnails_and_lost_outputs(project, capsys):
    fn = project/'nbs'/'demo.ipynb'
    nb = read_nb(fn)
    cell(nb, 'grid')['outputs'].append(image())
    write_nb(fn, nb['cells'], nb['metadata'])
    with pytest.raises(CliError): no.main('check')
    assert 'cell 5 (id grid) shows thumbnails (grid) but has 1 image or widget output(s) committed' in capsys.readouterr().out
    cell(nb, 'grid')['outputs'].pop()
    nb['metadata']['widgets'] = {'application/vnd.jupyter.widget-state+json': {'state': {}}}
    write_nb(fn, nb['cells'], nb['metadata'])
    with pytest.raises(CliError): no.main('check')
    assert 'widget state committed' in capsys.readouterr().out
    del nb['metadata']['widgets']
    for c in no._code(nb): c['outputs'] = []  # e.g. Jupyter's "Clear All Outputs", then a save
    write_nb(fn, nb['cells'], nb['metadata'])
    with pytest.raises(CliError): no.main('check')
    assert 'no outputs at all, though 5 code cell(s) run on the quick path' in capsys.readouterr().out

def test_cli_check_names_every_stale_notebook(project):
    (project/'fakepkg'/'b.py').write_text('def base(): return 1\n')
    write_nb(project/'nbs'/'other.ipynb', [code('1 + 1', id='x')])
    r = cli('check', cwd=project)
    assert r.returncode == 1
    assert 'nbs/demo.ipynb: stale outputs: fakepkg/b.py changed' in r.stdout
    assert 'nbs/other.ipynb: no outputs stamp' in r.stdout
    assert '2 of 2 notebook(s) need fresh outputs' in r.stderr and no.REFRESH in r.stderr

def test_run_stale_refreshes_and_a_failing_notebook_is_left_as_it_was(project):
    (project/'fakepkg'/'b.py').write_text('def base(): return 99\n')
    write_nb(project/'nbs'/'bad.ipynb', [code('1/0', id='x', outputs=[stream('committed\n')])])
    before = (project/'nbs'/'bad.ipynb').read_bytes()
    r = cli('run', '--stale', cwd=project)
    assert r.returncode == 1 and 'ZeroDivisionError' in r.stderr and 'bad.ipynb' in r.stderr
    assert (project/'nbs'/'bad.ipynb').read_bytes() == before
    assert '100' in json.dumps(cell(read_nb(project/'nbs'/'demo.ipynb'), 'imports')['outputs'])  # refreshed
    (project/'nbs'/'bad.ipynb').unlink()
    assert check(project) == ''

def test_thumbnail_detection():
    nb = dict(cells=[code('def tiles(ws):\n    for w in ws: ax.imshow(w)'), code('def page(): tiles([])'),
                     code('class Viewer:\n    def show(self): page()'), code('plt.show()\nplot_confusion(cm)'),
                     code('dls.show_batch()'), code('v = Viewer()'), code('%time x = show_nearest(q, n)'),
                     code('# Thumbnails: outputs cleared before committing\nx')])
    assert no.thumbnail_cells(nb) == {0: 'imshow', 1: 'tiles', 2: 'page', 4: 'show_batch', 5: 'Viewer',
                                      6: 'show_nearest', 7: 'marker'}  # a method named `show` does not catch `plt.show()`
