"Bad and unusual inputs for `artsig.data`, on fixtures written to a temporary folder."
import io, json
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
from artsig.data import (COLUMNS, UnreadableImage, load_image, cache_images, read_folder_csv, read_pbn, read_huggan,
                         filter_works, task_frame, split_random, split_by_artist, near_duplicate_groups, phashes, tidy)


def save(path:Path, im:Image.Image, fmt=None, **kw)->Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, fmt, **kw)
    return path

def jpeg_bytes(size=(64, 48), color=(200, 40, 40))->bytes:
    buf = io.BytesIO(); Image.new('RGB', size, color).save(buf, 'JPEG'); return buf.getvalue()

# ---- unreadable files: each raises UnreadableImage naming the file

@pytest.mark.parametrize('name,content,says', [
    ('empty.jpg', b'', '0 bytes'),
    ('page.jpg', b'<html><body>404 Not Found</body></html>', 'not an image'),
    ('corrupt.jpg', b'\xff\xd8\xff\xe0' + bytes(range(256))*8, 'damaged'),
])
def test_unreadable_files(tmp_path, name, content, says):
    path = tmp_path/name; path.write_bytes(content)
    with pytest.raises(UnreadableImage, match=says) as e: load_image(path)
    assert str(path) in str(e.value)

def test_truncated_jpeg_is_an_error_not_grey(tmp_path):
    data = jpeg_bytes((300, 200))
    path = tmp_path/'truncated.jpg'; path.write_bytes(data[:len(data)//2])
    with pytest.raises(UnreadableImage, match='truncated'): load_image(path)

def test_missing_file(tmp_path):
    with pytest.raises(UnreadableImage, match='does not exist'): load_image(tmp_path/'absent.jpg')
    assert issubclass(UnreadableImage, ValueError)

# ---- unusual modes load as RGB with the right colours

def test_cmyk(tmp_path):
    im = load_image(save(tmp_path/'cmyk.jpg', Image.new('CMYK', (20, 20), (0, 255, 255, 0))))  # pure red ink
    assert im.mode == 'RGB'
    r, g, b = im.getpixel((10, 10))
    assert r > 200 and g < 60 and b < 60

def test_rgba_on_white(tmp_path):
    im = Image.new('RGBA', (20, 20), (0, 0, 255, 255))
    im.paste((0, 0, 0, 0), (0, 0, 10, 20))                   # left half fully transparent
    out = load_image(save(tmp_path/'rgba.png', im))
    assert out.mode == 'RGB'
    assert out.getpixel((2, 5)) == (255, 255, 255) and out.getpixel((15, 5)) == (0, 0, 255)

def test_palette_with_and_without_transparency(tmp_path):
    p = Image.new('P', (10, 10), 1); p.putpalette([0, 0, 0, 0, 200, 0] + [0]*762)
    assert load_image(save(tmp_path/'p.png', p)).getpixel((5, 5)) == (0, 200, 0)
    save(tmp_path/'pt.png', p, transparency=1)
    assert load_image(tmp_path/'pt.png').getpixel((5, 5)) == (255, 255, 255)
    assert load_image(save(tmp_path/'p.gif', p)).mode == 'RGB'

def test_16_bit_is_scaled_not_clipped(tmp_path):
    ramp = (np.arange(64, dtype=np.uint16)[None, :].repeat(8, 0) * 1024)  # 0 .. 64512
    path = save(tmp_path/'deep.png', Image.fromarray(ramp))
    assert Image.open(path).mode.startswith('I')
    out = np.asarray(load_image(path))
    assert out.shape == (8, 64, 3)
    assert out[..., 0].min() == 0 and out[..., 0].max() > 240 and 100 < out[..., 0].mean() < 155

def test_grayscale(tmp_path):
    out = load_image(save(tmp_path/'gray.jpg', Image.new('L', (16, 16), 90)))
    assert out.mode == 'RGB' and abs(out.getpixel((8, 8))[0] - 90) <= 2

def test_exif_rotation(tmp_path):
    exif = Image.Exif(); exif[0x0112] = 6          # camera held sideways
    path = save(tmp_path/'rotated.jpg', Image.new('RGB', (60, 40)), exif=exif.tobytes())
    assert Image.open(path).size == (60, 40) and load_image(path).size == (40, 60)

# ---- decompression bombs: JPEGs decode at reduced scale, others are refused

def test_big_jpeg_is_drafted_down(tmp_path, monkeypatch):
    path = save(tmp_path/'huge.jpg', Image.new('RGB', (800, 600), 'red'))
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 40_000)       # 480,000 px is > 2x the limit: PIL would refuse
    with pytest.raises(Image.DecompressionBombError): Image.open(path)
    im = load_image(path)
    assert im.size == (200, 150)   # 1/4 scale: the largest that fits under the limit

def test_big_png_is_refused(tmp_path, monkeypatch):
    path = save(tmp_path/'huge.png', Image.new('RGB', (800, 600), 'red'))
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 40_000)
    with pytest.raises(UnreadableImage, match='Downscale'): load_image(path)

# ---- cache: unreadable images are reported, sources untouched, changes rebuild

def test_cache_reports_and_rebuilds(tmp_path, capsys):
    src = tmp_path/'src'
    good = save(src/'good.jpg', Image.new('RGB', (600, 300), 'blue'))
    small = save(src/'small.png', Image.new('RGBA', (100, 50), (0, 255, 0, 128)))
    (src/'empty.jpg').write_bytes(b'')
    df = tidy(pd.DataFrame({'path': [str(good), str(small), str(src/'empty.jpg'), str(src/'gone.jpg')],
                            'filename': ['good.jpg', 'small.png', 'empty.jpg', 'gone.jpg'], 'artist': list('abcd')}))
    before = {p: p.read_bytes() for p in src.iterdir()}
    out = cache_images(df, size=128, dest=tmp_path/'cache')
    report = tmp_path/'cache'/'unreadable.csv'
    assert str(report) in capsys.readouterr().out
    assert sorted(pd.read_csv(report).path) == sorted([str(src/'empty.jpg'), str(src/'gone.jpg')])
    assert out.artist.tolist() == ['a', 'b'] and list(out.columns) == COLUMNS
    assert Image.open(out.path.iloc[0]).size == (256, 128) and Image.open(out.path.iloc[1]).size == (100, 50)
    assert {p: p.read_bytes() for p in src.iterdir()} == before     # sources never modified
    save(good, Image.new('RGB', (900, 300), 'blue'))                 # the source changes...
    again = cache_images(df, size=128, dest=tmp_path/'cache')
    assert again.path.iloc[0] != out.path.iloc[0] and Image.open(again.path.iloc[0]).size == (384, 128)
    assert again.path.iloc[1] == out.path.iloc[1]                    # ...the unchanged one is reused

# ---- tables

def test_csv_missing_columns(tmp_path):
    csv = tmp_path/'labels.csv'; csv.write_text('file,painter\na.jpg,x\n')
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['filename', 'artist'\]"): read_folder_csv(csv)
    with pytest.raises(ValueError, match='lacks'): read_pbn(csv)

def test_csv_that_does_not_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match='ARTSIG_DATA'): read_folder_csv(tmp_path/'nope.csv')

def test_labels_with_stray_spaces_and_case(tmp_path):
    csv = tmp_path/'labels.csv'
    csv.write_text(' Filename ,Artist,Style,GENRE,Date\n'
                   'a.jpg, Claude Monet ,  Post-Impressionism ,sketch and study,c.1890\n'
                   'b.jpg,claude-monet,POST_IMPRESSIONISM, Unknown ,\n')
    df = read_folder_csv(csv)
    assert list(df.columns) == COLUMNS
    assert df.artist.tolist() == ['claude-monet']*2
    assert df['style'].tolist() == ['post_impressionism']*2
    assert df.genre[0] == 'sketch_and_study' and df.genre[1] is pd.NA
    assert df.year[0] == 1890 and np.isnan(df.year[1])
    assert df.path[0] == str((tmp_path/'a.jpg').resolve())

def test_pbn_all_data_info(tmp_path):
    csv = tmp_path/'all_data_info.csv'
    csv.write_text('artist,date,genre,style,title,in_train,new_filename\n'
                   'Claude Monet,1872,landscape,Impressionism,Sunrise,True,1.jpg\n'
                   'Paul Klee,c.1930,abstract,Expressionism,X,False,2.jpg\n')
    df = read_pbn(csv, images=tmp_path/'pbn')
    assert df.artist.tolist() == ['claude-monet', 'paul-klee'] and df.artist_name.tolist() == ['Claude Monet', 'Paul Klee']
    assert df.path.tolist() == [str((tmp_path/'pbn'/'train'/'1.jpg').resolve()), str((tmp_path/'pbn'/'test'/'2.jpg').resolve())]
    assert df.genre[1] == 'abstract_painting' and df.year.tolist() == [1872, 1930]

def test_huggan_hub_without_datasets_says_what_to_do():
    try: import datasets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='pip install datasets'): read_huggan('huggan/wikiart')
    else: pytest.skip('`datasets` is installed here; the hub path would try the network')

# ---- filters and tasks

def works_frame(n_per=12)->pd.DataFrame:
    rows = [dict(path=f'/x/{a}{i}.jpg', filename=f'{a}{i}.jpg', artist=a, style=s, genre=g, date=y)
            for a,s,g,y in [('monet', 'Impressionism', 'landscape', 1872), ('van-gogh', 'Post-Impressionism', 'portrait', 1888),
                            ('goya', 'Romanticism', 'sketch and study', 1799), ('klee', 'Expressionism', 'portrait', None)]
            for i in range(n_per)]
    return tidy(pd.DataFrame(rows), year='date')

def test_filters_collapse_and_drop():
    f = filter_works(works_frame(), verbose=False)
    assert sorted(f.artist.unique()) == ['monet', 'van-gogh']          # goya: 18th century; klee: no year
    assert set(f['style']) == {'impressionistic'}
    kept = filter_works(works_frame(), keep_unknown_year=True, verbose=False)
    assert 'klee' in set(kept.artist)

def test_class_emptied_by_filters():
    f = filter_works(works_frame(), verbose=False)
    with pytest.raises(ValueError, match=r"\['sketch_and_study'\].*filters removed"):
        task_frame(f, 'genre', classes=['portrait', 'sketch_and_study'])
    with pytest.raises(ValueError, match='at least two classes'): task_frame(f, 'style')
    with pytest.raises(ValueError, match='choose one of'): task_frame(f, 'medium')
    with pytest.raises(ValueError, match='No works are left'): filter_works(works_frame(), centuries=(15, 16), verbose=False)

def test_rare_classes_become_na_and_rare_artists_go():
    df = works_frame()
    df.loc[0, 'genre'] = 'still_life'
    f = filter_works(df, centuries=None, min_per_class=5, drop_genres=(), verbose=False)
    assert 'still_life' not in set(f.genre.dropna()) and f.genre.isna().sum() == 1 and len(f) == len(df)
    assert len(filter_works(df, centuries=None, n_artists=2, drop_genres=(), verbose=False).artist.unique()) == 2

# ---- near-duplicates and splits on real pixels

def test_near_duplicates_stay_together(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for a in range(6):
        for i in range(5):
            pix = (rng.random((8, 8, 3)) * 255).astype(np.uint8)
            path = save(tmp_path/f'{a}_{i}.jpg', Image.fromarray(pix).resize((120, 90), Image.NEAREST))
            rows.append(dict(path=str(path), filename=path.name, artist=f'artist{a}', style=['cubism', 'baroque'][i % 2]))
    # the same work saved again at another size and quality, by the same artist
    twin = save(tmp_path/'0_0-1.jpg', load_image(rows[0]['path']).resize((240, 180)), quality=60)
    rows.append(dict(path=str(twin), filename=twin.name, artist='artist0', style='cubism'))
    df = tidy(pd.DataFrame(rows))
    groups = near_duplicate_groups(df, hashes=phashes(df, cache=tmp_path/'phash.csv'))
    assert groups.iloc[0] == groups.iloc[-1] and groups.nunique() == 30
    assert (tmp_path/'phash.csv').exists() and len(pd.read_csv(tmp_path/'phash.csv')) == 31
    for seed in range(5):
        s = split_random(df, 'style', seed=seed, groups=groups)
        assert s.is_valid.iloc[0] == s.is_valid.iloc[-1]
        assert (s.groupby('dup_group').is_valid.nunique() == 1).all()
        a = split_by_artist(df, seed=seed, groups=groups)
        assert (a.groupby('artist').is_valid.nunique() == 1).all() and a.is_valid.any() and (~a.is_valid).any()


def test_damaged_exif_is_one_warning_in_artsig_words(tmp_path):
    "A JPEG whose EXIF block is cut short loads, with one ExifWarning naming it and none of PIL's raw warnings."
    import warnings
    from artsig.data import ExifWarning
    exif = Image.Exif(); exif[0x0112] = 6
    buf = io.BytesIO(); Image.new('RGB', (64, 48), (200, 100, 50)).save(buf, 'JPEG', exif=exif.tobytes()[:-6])
    path = tmp_path/'phone.jpg'; path.write_bytes(buf.getvalue())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert load_image(path).size == (64, 48)
    assert [w.category for w in caught] == [ExifWarning]
    assert 'phone.jpg' in str(caught[0].message) and 'right way up' in str(caught[0].message)


def test_decoding_in_threads_leaves_warnings_working(tmp_path):
    """Many threads decoding damaged-EXIF JPEGs at once (as `cache_images` and `phashes` do) leave Python's warning
    machinery as they found it: overlapping `catch_warnings` blocks could restore each other's hijacked
    `showwarning`, and every later warning of the process was swallowed."""
    import warnings
    from concurrent.futures import ThreadPoolExecutor
    exif = Image.Exif(); exif[0x0112] = 6
    buf = io.BytesIO(); Image.new('RGB', (64, 48)).save(buf, 'JPEG', exif=exif.tobytes()[:-6])
    paths = []
    for i in range(64): (p := tmp_path/f'phone{i}.jpg').write_bytes(buf.getvalue()); paths.append(p)
    before = warnings.showwarning, list(warnings.filters)
    with ThreadPoolExecutor(8) as pool: sizes = list(pool.map(lambda p: load_image(p).size, paths * 4))
    assert set(sizes) == {(64, 48)}
    assert (warnings.showwarning, list(warnings.filters)) == before
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always'); warnings.warn('still heard')
    assert [str(w.message) for w in caught] == ['still heard']
