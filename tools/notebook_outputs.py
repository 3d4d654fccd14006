#!/usr/bin/env python
"""Committed notebook outputs that cannot go stale.

Every chapter notebook is committed *executed*, so a reader on GitHub sees its tables, charts and numbers.
The outputs come from the quick path: cells flagged with one of `tst_flags` (`#| slow`, `#| gpu`) are skipped,
exactly as `nbdev-test` skips them, and keep the outputs they were committed with (those come from full runs).

    python tools/notebook_outputs.py run notebooks/06_errors.ipynb  # execute one or more notebooks, then clean and stamp them
    python tools/notebook_outputs.py run --stale                    # every notebook that `check` complains about
    python tools/notebook_outputs.py check                          # all notebooks, no execution: exit 1 when any is stale

`run` executes a notebook in its folder the way `nbdev.test.test_nb` does (`execnb`'s `CaptureShell`, `IN_TEST=1`,
the project root on `sys.path`), keeps the outputs of the cells it ran, and then, before writing the notebook back:

- clears thumbnails of artworks (they are not ours to publish): every output of a cell holding the marker line
  `# thumbnails: outputs cleared before committing` (any comment line starting `# thumbnails:` counts), and the image
  outputs of any cell that uses one of `THUMBNAIL_FUNCTIONS`, or a function or class the notebook defines on top of
  one of them. Charts (confusion matrices, learning curves, bar charts, maps) are kept; what was cleared is printed.
  A chart drawn in the same cell as a thumbnail grid is cleared with it: give it a cell of its own.
- drops widget state and widget views (their state would carry the images `YourArt` shows), then cleans the notebook
  with nbdev's own `clean_nb`, configured from pyproject.toml as `nbdev-clean` is (cell ids are kept);
- stamps it: notebook metadata `doc.artsig` gets `outputs_from`, a hash of its inputs, and `inputs`, a hash per input.
  The inputs are the source of every code cell (markdown is prose: editing it leaves the outputs current) and the
  text of every library module the notebook imports (`from artsig.x import`, `import artsig.x`,
  `from artsig import x`), with the modules those import in turn (`from .y import`, `from artsig.y import`).
  `artsig/__init__.py` counts only where its own names are imported, so a version bump leaves outputs current.

The stamp lives under `doc`, one of the notebook metadata keys `nbdev.clean.clean_nb` always keeps, so it survives
`nbdev-clean`, its git and Jupyter hooks, and Jupyter itself (a top-level `artsig` key would be stripped unless
pyproject.toml listed it in `allowed_metadata_keys`; the `nbdev` key only holds directives, as strings).

`check` recomputes every stamp and exits 1, naming each notebook and what changed ("artsig/heads.py changed"),
when a stamp is missing or out of date, when a thumbnail cell has an image output committed (or the notebook
widget state), or when outputs were cleared after the run (e.g. Jupyter's "Clear All Outputs"). It executes
nothing, so CI can run it first.

Only the inputs above are tracked: data files, `nbs_outputs/` records and installed packages are not.
"""
import ast, hashlib, json, os, re, subprocess, sys
from pathlib import Path
from fastcore.script import call_parse, CliError

# Functions (and classes) whose pictures show artworks. A cell naming one has its image outputs cleared.
THUMBNAIL_FUNCTIONS = (
    # fastai: batches, predictions and losses drawn as grids of the images themselves
    'show_batch', 'show_results', 'plot_top_losses', 'show_images', 'show_image',
    'show_works',    # artsig.errors: thumbnail grid of works, captioned true / predicted
    'show_nearest',  # artsig.similarity: a query and its nearest works as a thumbnail grid
    'plot_heatmap',  # artsig.explain: an occlusion map drawn over its painting
    'YourArt',       # artsig.your_art: the upload widget, with the upload, its heat map and the nearest works
    'imshow',        # matplotlib: a raster; here always a painting (matrices are drawn with seaborn's heatmap)
)
MARKER = re.compile(r'^\s*#\s*thumbnails:', re.I | re.M)
MARKER_LINE = '# thumbnails: outputs cleared before committing'
REFRESH = 'python tools/notebook_outputs.py run --stale'
STAMP_AT = ('doc', 'artsig')  # notebook metadata path of the stamp: `doc` is a key nbdev-clean keeps
CODE = 'code cells'           # the stamp's name for the notebook's own code
WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json'

def _hash(data:bytes, n:int=12)->str: return hashlib.sha256(data).hexdigest()[:n]

def _config(path=None):
    "The nbdev config of the project holding `path` (or the working directory)."
    from nbdev.config import get_config
    return get_config(path)

def _rel(p:Path, cfg)->str:
    p = Path(p).resolve()
    try: return p.relative_to(Path(cfg.config_path).resolve()).as_posix()
    except ValueError: return str(p)

def _read(fn)->dict: return json.loads(Path(fn).read_text(encoding='utf-8'))
def _src(cell)->str: s = cell.get('source', ''); return s if isinstance(s, str) else ''.join(s)
def _code(nb)->list: return [c for c in nb['cells'] if c.get('cell_type') == 'code']

def _parse(src:str):
    "The AST of a cell, magics (`%time`, `!pip`) turned into Python first; None when it still does not parse."
    try: return ast.parse(src)
    except SyntaxError: pass
    from IPython.core.inputtransformer2 import TransformerManager
    try: return ast.parse(TransformerManager().transform_cell(src))
    except SyntaxError: return None

## Dependencies: the library modules a notebook imports, transitively

class Library:
    "The project's package (`lib_path` in pyproject.toml): resolves imports of it to its module files."
    def __init__(self, cfg):
        self.cfg, self.dir = cfg, Path(cfg.lib_path).resolve()
        self.name = self.dir.name

    def file(self, dotted:str)->Path:
        "The file defining module `dotted` (`artsig.heads`): a `.py` file or a package's `__init__.py`."
        base = self.dir.parent.joinpath(*dotted.split('.'))
        pkg = base/'__init__.py'
        return pkg if pkg.exists() else base.with_suffix('.py')

    def is_module(self, dotted:str)->bool: return self.file(dotted).exists()

    def imports(self, tree, package:str=None)->set:
        "Library modules imported anywhere in `tree`; `package` resolves relative imports (inside the library)."
        mods, pre = set(), self.name + '.'
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods |= {a.name for a in node.names if a.name == self.name or a.name.startswith(pre)}
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ''
                if node.level:
                    if not package: continue
                    parts = package.split('.')
                    if node.level > 1: parts = parts[:-(node.level - 1)]
                    mod = '.'.join(parts + ([mod] if mod else []))
                if mod != self.name and not mod.startswith(pre): continue
                for a in node.names:  # `from artsig import heads` names a module; `from artsig import __version__` does not
                    mods.add(f'{mod}.{a.name}' if a.name != '*' and self.is_module(f'{mod}.{a.name}') else mod)
        return mods

    def closure(self, mods:set)->set:
        "`mods` and every library module they import in turn."
        todo, seen = list(mods), set()
        while todo:
            m = todo.pop()
            if m in seen: continue
            seen.add(m)
            f = self.file(m)
            if not f.exists(): continue
            tree = _parse(f.read_text(encoding='utf-8'))
            if tree is None: continue
            package = m if f.name == '__init__.py' else m.rpartition('.')[0]
            todo += self.imports(tree, package) - seen
        return seen

def dependencies(nb:dict, lib:Library)->list:
    "Library module files `nb`'s code cells import, directly or through other modules, as project-relative paths."
    mods = set()
    for c in _code(nb):
        tree = _parse(_src(c))
        if tree is not None: mods |= lib.imports(tree)
        else: mods |= {m for m in re.findall(rf'\b(?:from|import)\s+({lib.name}(?:\.\w+)*)', _src(c))}  # unparsable: a plain scan
    return sorted({_rel(lib.file(m), lib.cfg) for m in lib.closure(mods)})

## The stamp

def inputs(nb:dict, lib:Library)->dict:
    "{input: hash}: the notebook's code cells (with their metadata directives) and each library module it depends on."
    code = [[_src(c), c.get('metadata', {}).get('nbdev')] for c in _code(nb)] + [nb.get('metadata', {}).get('nbdev')]
    res = {CODE: _hash(json.dumps(code, sort_keys=True).encode())}
    root = Path(lib.cfg.config_path)
    for rel in dependencies(nb, lib):
        f = root/rel
        res[rel] = _hash(f.read_bytes()) if f.exists() else 'absent'
    return res

def outputs_from(ins:dict)->str: return _hash(json.dumps(ins, sort_keys=True).encode(), 16)

def get_stamp(nb:dict)->dict:
    d = nb.get('metadata', {})
    for k in STAMP_AT: d = d.get(k, {}) if isinstance(d, dict) else {}
    return d if isinstance(d, dict) else {}

def set_stamp(nb:dict, stamp:dict):
    d = nb.setdefault('metadata', {})
    for k in STAMP_AT[:-1]: d = d.setdefault(k, {})
    d[STAMP_AT[-1]] = stamp

def stale_inputs(stamp:dict, ins:dict)->list:
    "What changed since the stamp, in words: ['artsig/heads.py changed', ...]."
    old = stamp.get('inputs', {})
    if not old: return ['its stamp lists no inputs']
    name = lambda k: 'its code cells' if k == CODE else k
    res = [f'{name(k)} changed' for k in ins if k in old and old[k] != ins[k]]
    res += [f'it now imports {k}' for k in ins if k not in old]
    res += [f'it no longer imports {k}' for k in old if k not in ins]
    return res or ['its stamp does not match its inputs']

## Thumbnails

def _names(tree)->set:
    "Every name and attribute a piece of code refers to (`dls.show_batch` gives 'dls' and 'show_batch'), in magics too."
    res = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Name, ast.Attribute)): res.add(n.id if isinstance(n, ast.Name) else n.attr)
        if (isinstance(n, ast.Call) and getattr(n.func, 'attr', '') in ('run_line_magic', 'run_cell_magic') and n.args
            and isinstance(n.args[-1], ast.Constant) and isinstance(n.args[-1].value, str)
            and (inner := _parse(n.args[-1].value)) is not None): res |= _names(inner)  # `%time show_works(w)`
    return res

def thumbnail_names(nb:dict)->set:
    "`THUMBNAIL_FUNCTIONS`, plus the functions and classes `nb` defines (at top level) that use one of them, to any depth."
    defs = {}
    for c in _code(nb):
        tree = _parse(_src(c))
        if tree is None: continue
        for n in tree.body:  # not methods: `show` or `__init__` must not make every `plt.show()` a thumbnail
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): defs[n.name] = defs.get(n.name, set()) | _names(n)
    names = set(THUMBNAIL_FUNCTIONS)
    while (new := {d for d, used in defs.items() if d not in names and used & names}): names |= new
    return names

def thumbnail_cells(nb:dict)->dict:
    "{cell index: why}: 'marker' for cells with the marker line, else the thumbnail functions a cell uses."
    names, res = thumbnail_names(nb), {}
    for i, c in enumerate(nb['cells']):
        if c.get('cell_type') != 'code': continue
        src = _src(c)
        if MARKER.search(src): res[i] = 'marker'
        elif (tree := _parse(src)) is not None:
            if used := sorted(_names(tree) & names): res[i] = ', '.join(used)
        elif used := sorted(n for n in names if re.search(rf'\b{n}\b', src)): res[i] = ', '.join(used)
    return res

def is_image(out:dict)->bool:
    "An output showing a picture: an image, a widget view, or HTML with an embedded image."
    data = out.get('data', {})
    html = data.get('text/html', '')
    return any(k.startswith('image/') for k in data) or WIDGET_VIEW in data or 'data:image/' in ''.join(html)

def _where(nb, i)->str:
    cid = nb['cells'][i].get('id')
    return f'cell {i}' + (f' (id {cid})' if cid else '')

def clear_thumbnails(nb:dict)->list:
    "Clear marker cells' outputs and thumbnail cells' image outputs; a line per cell cleared."
    msgs = []
    for i, why in thumbnail_cells(nb).items():
        c = nb['cells'][i]
        outs = c.get('outputs', [])
        keep = [] if why == 'marker' else [o for o in outs if not is_image(o)]
        if len(keep) < len(outs):
            c['outputs'] = keep
            msgs.append(f'{_where(nb, i)}: cleared {len(outs) - len(keep)} output(s) '
                        + ('(thumbnail marker)' if why == 'marker' else f'with images ({why})'))
    return msgs

def strip_widgets(nb:dict):
    "Drop the notebook's widget state and widget views (their text fallback stays)."
    nb.get('metadata', {}).pop('widgets', None)
    for c in _code(nb):
        outs = []
        for o in c.get('outputs', []):
            data = o.get('data', {})
            data.pop(WIDGET_VIEW, None)
            if o.get('output_type') in ('display_data', 'execute_result') and not data: continue
            outs.append(o)
        c['outputs'] = outs

## Checking

def _skipper(fn, cfg, force:tuple=()):
    "The predicate `nbdev-test` skips cells with (flags from `tst_flags`, less `force`), and the notebook it read."
    from nbdev.process import NBProcessor
    from nbdev.test import _skip_cell
    nb = NBProcessor(fn, rm_directives=False, process=True).nb
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags or [])
    return _skip_cell(nb, flags, list(force)), nb

def _with_outputs(nb)->int: return sum(bool(c.get('outputs')) for c in _code(nb))

def problems(fn, lib:Library)->list:
    "Why `check` fails on notebook `fn`: an empty list when its committed outputs are current and clean."
    nb, res = _read(fn), []
    stamp = get_stamp(nb)
    ins = inputs(nb, lib)
    if not stamp.get('outputs_from'): res.append('no outputs stamp: never run by this tool')
    elif stamp['outputs_from'] != outputs_from(ins): res.append('stale outputs: ' + ', '.join(stale_inputs(stamp, ins)))
    for i, why in thumbnail_cells(nb).items():
        if n := sum(map(is_image, nb['cells'][i].get('outputs', []))):
            res.append(f'{_where(nb, i)} shows thumbnails ({why}) but has {n} image or widget output(s) committed')
    if 'widgets' in nb.get('metadata', {}): res.append('widget state committed (it can hold the images a widget shows)')
    skip, pnb = _skipper(fn, lib.cfg)
    ran = [c for c in pnb.cells if not skip(c)]
    have, had = _with_outputs(nb), stamp.get('cells_with_outputs')
    if ran and have == 0 and had != 0: res.append(f'no outputs at all, though {len(ran)} code cell(s) run on the quick path')
    elif had is not None and have < had: res.append(f'{had - have} cell(s) lost their outputs since the run (cleared?)')
    return res

def all_notebooks(cfg)->list:
    "The project's notebooks, as `nbdev-test` finds them."
    from nbdev.doclinks import nbglob
    return sorted(nbglob(cfg.nbs_path, as_path=True))

def check(nbs:list, cfg):
    "Print every problem of notebooks `nbs`; `CliError` (exit 1) when there is one."
    lib, bad = Library(cfg), 0
    for fn in nbs:
        if msgs := problems(fn, lib):
            bad += 1
            for m in msgs: print(f'{_rel(fn, cfg)}: {m}')
    if bad: raise CliError(f'\n{bad} of {len(nbs)} notebook(s) need fresh outputs. Refresh them with:\n    {REFRESH}')
    print(f'The committed outputs of all {len(nbs)} notebook(s) are current.')

## Running

def execute(fn:Path, cfg, force:tuple=())->dict:
    "Run `fn`'s quick-path cells (and those flagged `force`) as `nbdev.test.test_nb` does; the notebook as a dict."
    from fastcore.xtras import working_directory
    from fastcore.nbio import nb2dict
    from execnb.shell import CaptureShell
    skip, nb = _skipper(fn, cfg, force)
    sys.path.insert(0, str(cfg.config_path))
    os.environ['IN_TEST'] = '1'
    k = CaptureShell(fn, profile=bool(cfg.exec_profile))
    with working_directory(fn.parent):
        try: k.run_all(nb, exc_stop=True, preproc=skip, cell_timeout=cfg.cell_timeout or None)
        except Exception as e: raise RuntimeError(k.prettytb(fname=fn) or repr(e)) from None
    return nb2dict(nb)

def clean(nb:dict, cfg):
    "What `nbdev-clean` does to a notebook, with the project's settings."
    from nbdev.clean import clean_nb
    if cfg.clear_all: raise CliError('pyproject.toml sets clear_all: nbdev-clean would remove every output')
    get = lambda k: (v.split() if isinstance(v := cfg.get(k) or [], str) else v)
    clean_nb(nb, False, get('allowed_metadata_keys'), get('allowed_cell_metadata_keys'), cfg.clean_ids,
             get('allowed_out_metadata_keys'))

def run_one(fn:Path, force:tuple=()):
    "Execute, clear thumbnails, clean and stamp notebook `fn` in place; `CliError` when a cell fails."
    from fastcore.nbio import write_nb
    cfg = _config(fn.parent)
    print(f'{_rel(fn, cfg)}: running')
    try: nb = execute(fn, cfg, force)
    except RuntimeError as e: raise CliError(f'{e}\n{_rel(fn, cfg)}: a cell failed; the notebook was left as it was') from None
    for m in clear_thumbnails(nb): print(f'{_rel(fn, cfg)}: {m}')
    strip_widgets(nb)
    clean(nb, cfg)
    ins = inputs(nb, Library(cfg))
    set_stamp(nb, {'outputs_from': outputs_from(ins), 'inputs': ins, 'cells_with_outputs': _with_outputs(nb)})
    write_nb(nb, fn)
    print(f"{_rel(fn, cfg)}: outputs from {outputs_from(ins)} ({len(ins) - 1} library module(s) tracked)")

def run(nbs:list, force:tuple=()):
    "Run each notebook; several run one after another, each in a fresh Python, as `nbdev-test` isolates them."
    if len(nbs) == 1: return run_one(nbs[0], force)
    flags = ['--flags', ' '.join(force)] if force else []
    failed = [fn for fn in nbs if subprocess.call([sys.executable, __file__, 'run', str(fn), *flags])]
    if failed: raise CliError('failed, and left as they were: ' + ' '.join(map(str, failed)))

@call_parse
def main(command:str,       # `run`: execute, clean and stamp notebooks; `check`: are the committed outputs current?
         *notebooks:str,    # notebooks (default for `check`: all of the project's)
         stale:bool=False,  # `run` every notebook `check` complains about
         flags:str='',      # `run` also the cells with these flags, e.g. 'slow' for a full run's outputs
        ):
    "Keep the executed notebooks' committed outputs current and free of artwork thumbnails."
    cfg = _config()
    nbs = [Path(o).resolve() for o in notebooks]
    if missing := [str(o) for o in nbs if not o.is_file()]: raise CliError(f'no such notebook: {" ".join(missing)}')
    if command == 'check': return check(nbs or all_notebooks(cfg), cfg)
    if command != 'run': raise CliError(f'unknown command {command!r}: use `run` or `check`')
    if stale:
        lib = Library(cfg)
        nbs += [fn for fn in all_notebooks(cfg) if fn not in nbs and problems(fn, lib)]
        if not nbs: return print('No notebook is stale.')
    if not nbs: raise CliError('name the notebooks to run, or pass --stale')
    run(nbs, tuple(flags.split()))
