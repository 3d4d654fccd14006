"""What issue 12 asks of every chapter, checked: export cells of at most 40 lines, `show_doc` for every public name,
docments on every public parameter, functions of about 30 lines at most, imports at module top.

`python tools/book_check.py [notebooks/X.ipynb ...]` prints one line per finding and exits 1 if there is any."""
import ast, importlib, inspect, json, re, sys
from pathlib import Path
from fastcore.docments import docments

ROOT = Path(__file__).resolve().parents[1]
MAX_CELL, MAX_FUNC = 40, 30
LAZY_OK = {'artsig.cli'}  # the command line imports a command's module only when that command runs (see 09c_cli)

def _cells(nb:Path)->list: return json.loads(nb.read_text())['cells']
def _src(c)->str: return ''.join(c['source'])
def _module(nb:Path)->str:
    for c in _cells(nb):
        m = re.search(r'^#\|\s*default_exp\s+(\S+)', _src(c), re.M)
        if m: return m[1]

def cell_findings(nb:Path)->list:
    "Export cells longer than `MAX_CELL` lines."
    return [f'{nb.name}: export cell {c.get("id")} has {len(_src(c).splitlines())} lines (at most {MAX_CELL})'
            for c in _cells(nb) if c['cell_type'] == 'code' and re.match(r'#\|\s*export', _src(c))
            and len(_src(c).splitlines()) > MAX_CELL]

def _public(mod)->list: return [n for n in getattr(mod, '__all__', []) if not n.startswith('_')]

def show_doc_findings(nb:Path, mod)->list:
    "Public names of the module without a `show_doc` in its notebook."
    shown = set(re.findall(r'show_doc\(\s*([\w.]+)', '\n'.join(_src(c) for c in _cells(nb))))
    return [f'{nb.name}: no show_doc({n})' for n in _public(mod)
            if n not in shown and callable(getattr(mod, n, None))]

def _undocumented(f)->list:
    "Named parameters of `f` without a docment (`*args` and `**kwargs` are read by the reader from the code)."
    try: d, sig = docments(f, full=True), inspect.signature(f)
    except Exception: return []
    named = [p for p, v in sig.parameters.items() if v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD) and p not in ('self', 'cls')]
    return [p for p in named if not d.get(p, {}).get('docment')]

def docment_findings(nb:Path, mod)->list:
    "Public functions and methods with two or more parameters, some of them without a docment."
    out = []
    for n in _public(mod):
        obj = getattr(mod, n, None)
        targets = [(n, obj)] if not isinstance(obj, type) else [(f'{n}.{m}', getattr(obj, m)) for m in
                   ['__init__', *[k for k, v in vars(obj).items() if callable(v) and not k.startswith('_')]]
                   if m in vars(obj)]
        for name, f in targets:
            if not callable(f) or getattr(f, '__module__', mod.__name__) != mod.__name__: continue
            missing = _undocumented(f)
            if missing and len([p for p in inspect.signature(f).parameters if p not in ('self', 'cls')]) >= 2:
                out.append(f'{nb.name}: {name} lacks docments for {", ".join(missing)}')
    return out

def _catches_import_error(t:ast.Try)->bool:
    return any('ImportError' in ast.unparse(h.type) for h in t.handlers if h.type is not None)

def code_findings(nb:Path, mod)->list:
    "Functions longer than `MAX_FUNC` lines, and imports inside functions."
    path = Path(mod.__file__); tree = ast.parse(path.read_text()); out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.end_lineno - node.lineno + 1 - (len(node.decorator_list))
            if body > MAX_FUNC: out.append(f'{nb.name}: {path.name}:{node.lineno} {node.name} has {body} lines (about {MAX_FUNC} at most)')
            if mod.__name__ not in LAZY_OK:
                optional = {id(i) for t in ast.walk(node) if isinstance(t, ast.Try) and _catches_import_error(t)
                            for i in ast.walk(t)}  # `try: import x` for an optional dependency is fine
                out += [f'{nb.name}: {path.name}:{i.lineno} imports inside {node.name}' for i in ast.walk(node)
                        if isinstance(i, (ast.Import, ast.ImportFrom)) and id(i) not in optional]
    return out

def findings(nb:Path)->list:
    name = _module(nb)
    if not name: return []
    mod = importlib.import_module(f'artsig.{name}')
    return cell_findings(nb) + show_doc_findings(nb, mod) + docment_findings(nb, mod) + code_findings(nb, mod)

if __name__ == '__main__':
    nbs = [Path(a) for a in sys.argv[1:]] or sorted((ROOT/'notebooks').glob('[0-9]*.ipynb'))
    found = [f for nb in nbs for f in findings(nb)]
    print('\n'.join(found) or 'every chapter passes')
    sys.exit(1 if found else 0)
