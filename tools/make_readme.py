"""Write README.md from notebooks/index.ipynb.

`nbdev-readme` does this through Quarto, which cannot be installed on machines without internet access
(its PyPI package downloads the binary at build time). This renders the same notebook to GitHub markdown
without it: markdown cells as they are, code cells as fenced Python, tables as HTML, text outputs as fenced text.
Cells flagged `#| hide` are left out, as nbdev does; cells flagged `#| echo: false` show only their outputs, as Quarto does.
"""
import json, sys
from pathlib import Path

def cell_source(cell): return ''.join(cell['source']).rstrip()

def render_cell(cell):
    src = cell_source(cell)
    if cell['cell_type'] == 'markdown': return src
    if src.startswith('#| hide') or not src: return ''
    code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))
    shown = [] if '#| echo: false' in src.splitlines() else [f'```python\n{code}\n```']  # Quarto's `echo: false`: outputs only
    return '\n\n'.join(shown + [o for o in map(render_output, cell.get('outputs', [])) if o])

def render_output(out):
    "Markdown or HTML (tables) as they are, GitHub renders both; anything else as fenced text."
    data = out.get('data', {})
    for kind in ('text/markdown', 'text/html'):
        if kind in data: return ''.join(data[kind]).strip()
    text = (''.join(out.get('text', '')) or ''.join(data.get('text/plain', ''))).rstrip()
    return f'```\n{text}\n```' if text.strip() else ''

def make_readme(nb_path='notebooks/index.ipynb', out='README.md'):
    cells = json.loads(Path(nb_path).read_text())['cells']
    text = '\n\n'.join(r for r in map(render_cell, cells) if r)
    Path(out).write_text(text + '\n')

if __name__ == '__main__': make_readme(*sys.argv[1:])
