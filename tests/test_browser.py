"""The upload box in a real browser: JupyterLab on a local port, `09b_your_art` opened and run in headless Chromium,
a picture uploaded through the page's own file input, and the answer read off the page.

Needs Debian's `chromium` (`apt-get install chromium`; `.ci/run` installs it) and the `dev` extra (JupyterLab and
Playwright, which drives that Chromium: Playwright's own browser download is not needed). If any is missing the
test fails and says what to install; it never passes without a browser. With `ARTSIG_SCREENSHOT=1` the screenshot
is also written to `nbs_outputs/your_art/upload_box.png` with a record beside it.
"""
import io, json, os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest
from PIL import Image, ImageFilter, ImageOps
from artsig.core import settings
from artsig.data import wikiart100

REPO = Path(__file__).parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')

def painted_astronaut(path:Path)->Path:
    "A picture that is no WikiArt work: the public-domain NASA astronaut photo (scikit-image), mode-filtered and posterized like a print."
    photo = Image.open(settings.data/'outside'/'skimage_astronaut.jpg').convert('RGB')
    ImageOps.posterize(photo.filter(ImageFilter.ModeFilter(7)), 3).save(path)
    return path

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture
def lab(tmp_path):
    "A JupyterLab server on a free loopback port, serving this checkout, with its app exposed to the page's scripts."
    if CHROMIUM is None: pytest.fail("No Chromium found: the browser test needs Debian's `chromium` package (apt-get install chromium).")
    try: import playwright, jupyterlab  # noqa: F401
    except ImportError as e: pytest.fail(f"The browser test needs the dev extra (pip install -e '.[dev]'): {e}")
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg', 'JUPYTER_CONFIG_DIR': str(tmp_path/'jupyter'),
           'JUPYTER_RUNTIME_DIR': str(tmp_path/'runtime')}
    server = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--allow-root', '--ip=127.0.0.1', f'--port={port}',
                               f'--ServerApp.token={token}', f'--ServerApp.root_dir={REPO}', '--LabApp.expose_app_in_browser=True',
                               '--LabApp.news_url=None', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path/'lab.log', 'w'))
    url = f'http://127.0.0.1:{port}'
    for _ in range(120):
        if server.poll() is not None: break
        try: urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=1); break
        except OSError: time.sleep(0.5)
    else: pytest.fail(f'JupyterLab did not start: {(tmp_path/"lab.log").read_text()[-2000:]}')
    yield url, token
    server.terminate(); server.wait(30)

RUN_UP_TO_THE_BOX = """async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  // nbdev-clean leaves no kernel name in the notebook, so pick the Python kernel instead of asking
  if (!panel.sessionContext.session?.kernel) await panel.sessionContext.changeKernel({name: 'python3'});
  await panel.sessionContext.ready;
  const cells = panel.content.widgets;
  const box = cells.findIndex(c => c.model.sharedModel.getSource().startsWith('box = YourArt('));
  if (box < 0) throw new Error('no cell starting with box = YourArt( in 09b_your_art');
  panel.content.activeCellIndex = box;
  await app.commands.execute('notebook:run-all-above');
  await app.commands.execute('notebook:run-cell');
  return box;
}"""

CARD_TEXT = """name => [...document.querySelectorAll('.jp-OutputArea h4')].find(h => h.textContent === name).closest('.widget-vbox').innerText"""

CARD_TOP = """name => {
  const title = [...document.querySelectorAll('.jp-OutputArea h4')].find(h => h.textContent === name);
  title.scrollIntoView();
  const card = title.closest('.widget-vbox');
  const parts = [...card.children].slice(0, 2).map(e => e.getBoundingClientRect());
  const top = Math.min(...parts.map(r => r.top)), bottom = Math.max(...parts.map(r => r.bottom));
  const r = card.getBoundingClientRect();
  return {x: r.left, y: top, width: r.width, height: bottom - top};
}"""

ERRORS = """() => [...document.querySelectorAll('[data-mime-type="application/vnd.jupyter.error"], [data-mime-type="application/vnd.jupyter.stderr"]')]
                .map(e => e.innerText.slice(-1500))"""

def test_upload_box_answers_in_a_real_browser(lab, tmp_path):
    from playwright.sync_api import sync_playwright
    url, token = lab
    works = wikiart100('mini')
    painting, ours = Path(works.path[3]), painted_astronaut(tmp_path/'painted_astronaut.png')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync'])
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.set_default_timeout(60_000)
        page.goto(f'{url}/lab/tree/notebooks/09b_your_art.ipynb?token={token}')
        page.wait_for_function('window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.content', timeout=120_000)
        page.wait_for_timeout(2000)
        if page.locator('.jp-Dialog').count(): page.keyboard.press('Escape')  # the kernel chooser: chosen below
        page.evaluate(RUN_UP_TO_THE_BOX)
        button = page.locator('.jp-OutputArea button:has-text("Upload art")').last
        try: button.wait_for(timeout=120_000)
        except Exception:
            page.screenshot(path=str(tmp_path/'no_box.png'), full_page=True)
            pytest.fail(f"The upload box did not appear (page in {tmp_path/'no_box.png'}); the notebook said: {page.evaluate(ERRORS)}")
        with page.expect_file_chooser() as chooser: button.click()  # the browser's own file dialog, as a person uses it
        chooser.value.set_files([str(painting), str(ours)])
        page.wait_for_function("[...document.querySelectorAll('.jp-OutputArea .widget-html')].some(e => e.innerText.includes('2 image(s) classified'))",
                               timeout=300_000)
        cards = {name: page.evaluate(CARD_TEXT, name) for name in (painting.name, ours.name)}
        for line in ('genre', 'style', 'artist', 'With 90% confidence the painter is', 'Painted around', 'This looks like a painting'):
            assert line in cards[painting.name], (line, cards[painting.name])
        assert 'looks like a painting' in cards[ours.name] or 'does not look like a painting' in cards[ours.name], cards[ours.name]
        shot = tmp_path/'upload_box.png'
        page.screenshot(path=str(shot), clip=page.evaluate(CARD_TOP, ours.name))  # our picture's card, without the nearest works' thumbnails
        browser.close()
    assert Image.open(shot).size[0] > 300
    if os.environ.get('ARTSIG_SCREENSHOT'):
        from artsig.records import save_run
        folder = REPO/'nbs_outputs'/'your_art'
        shutil.copy(shot, folder/'upload_box.png')
        save_run(folder/'browser', {'lines_found': ['genre', 'style', 'artist', 'confidence set', 'date', 'painting?']},
                 command='ARTSIG_SCREENSHOT=1 pytest tests/test_browser.py', browser=subprocess.run([CHROMIUM, '--version'],
                 capture_output=True, text=True).stdout.strip(), uploaded=[f'a WikiArt mini painting ({painting.name}, not in the screenshot)',
                 'a posterized NASA astronaut photo (scikit-image, public domain): the screenshot'])
