"`artsig.scale` on a local two-CPU Ray: the same numbers as `compute_features`, broken images as error rows, no overwriting."
import io, warnings
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
ray = pytest.importorskip('ray', reason="artsig.scale needs Ray: pip install 'artsig[scale]'")
from artsig.data import wikiart100
from artsig.features import BackboneStats, compute_features
from artsig.scale import (start_ray, write_manifest, embed_with_ray, read_embeddings, iter_embeddings, EmbeddingIndex,
                          prepare_folder)

SIZE, N = 128, 24


@pytest.fixture(scope='module')
def cluster():
    start_ray(num_cpus=2)
    yield
    ray.shutdown()


@pytest.fixture(scope='module')
def run(cluster, tmp_path_factory):
    "A few mini works and a truncated JPEG, embedded with Ray at 128 px."
    tmp = tmp_path_factory.mktemp('scale')
    buf = io.BytesIO(); Image.new('RGB', (300, 200), (200, 40, 40)).save(buf, 'JPEG')
    broken = tmp/'images'/'truncated.jpg'
    broken.parent.mkdir(); broken.write_bytes(buf.getvalue()[:len(buf.getvalue())//2])
    works = pd.concat([wikiart100('mini').sample(N, random_state=0), pd.DataFrame({'path': [str(broken)]})], ignore_index=True)
    manifest = write_manifest(works, tmp/'manifest', rows_per_file=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        out = embed_with_ray(manifest, tmp/'embeddings', size=SIZE, batch_size=8)
    return dict(tmp=tmp, works=works, broken=str(broken), manifest=manifest, out=out,
                warnings=[str(w.message) for w in caught])


def test_embeddings_equal_compute_features(run):
    works, X = read_embeddings(run['out'])
    assert sorted(works.path) == sorted(run['works'].path)
    readable = works.error.isna().to_numpy()
    reference = compute_features(works.path[readable].tolist(), BackboneStats('efficientnet_lite0', stats=False),
                                 size=SIZE, cache_root=run['tmp']/'cache', progress=False)
    assert X.shape == (N + 1, 1280)
    np.testing.assert_allclose(X[readable], reference, rtol=1e-3, atol=1e-3)


def test_unreadable_image_is_an_error_row(run):
    works, X = read_embeddings(run['out'])
    bad = works.index[works.path == run['broken']]
    assert len(bad) == 1
    assert 'truncated' in works.error[bad[0]] and np.isnan(X[bad[0]]).all()
    assert works.error.notna().sum() == 1
    listed = pd.read_csv(Path(run['out'])/'unreadable.csv')
    assert listed.path.tolist() == [run['broken']]
    assert any(m.startswith('1 of 25 images could not be read') and 'unreadable.csv' in m for m in run['warnings'])


def test_refuses_to_overwrite(run, tmp_path):
    with pytest.raises(FileExistsError, match='not empty'): embed_with_ray(run['manifest'], run['out'])
    with pytest.raises(FileExistsError, match='overwrite=True'): write_manifest(run['works'], run['manifest'])
    mine = tmp_path/'mine'; mine.mkdir(); (mine/'notes.txt').write_text('keep me')
    with pytest.raises(FileExistsError): write_manifest(run['works'], mine)
    write_manifest(run['works'], mine, overwrite=True)
    write_manifest(run['works'].head(3), mine, overwrite=True)  # replaces its own Parquet, keeps the user's file
    assert (mine/'notes.txt').read_text() == 'keep me'
    assert len(pd.read_parquet(mine/'manifest-00000.parquet')) == 3 and not (mine/'manifest-00001.parquet').exists()
    with pytest.raises(NotADirectoryError): prepare_folder(mine/'notes.txt')


def test_actors_must_leave_a_cpu(run, tmp_path):
    with pytest.raises(ValueError, match='wait forever'): embed_with_ray(run['manifest'], tmp_path/'out', concurrency=2)
    assert not (tmp_path/'out').exists()


def test_streaming_reads_in_bounded_batches(run):
    sizes = [len(w) for w, X in iter_embeddings(run['out'], batch_rows=4)]
    assert max(sizes) <= 4 and sum(sizes) == N + 1


@pytest.mark.parametrize('ivf_lists', [0, 4])
def test_index_finds_each_work_itself(run, ivf_lists):
    works, X = read_embeddings(run['out'])
    ok = np.isfinite(X).all(1)
    index = EmbeddingIndex(run['out'], ivf_lists=ivf_lists, nprobe=4, batch_rows=5)
    assert len(index) == N and index.works.path.tolist() == works.path[ok].tolist()
    sims, ids = index.search(X[ok], k=3)
    np.testing.assert_array_equal(ids[:, 0], np.arange(N))
    np.testing.assert_allclose(sims[:, 0], 1, atol=1e-5)
