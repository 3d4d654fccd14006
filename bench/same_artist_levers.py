"""Same-artist verification on wikiart_unseen: the levers measured for 07d_same_artist (readouts, whitening, embedding
settings), each trained on wikiart100 only and scored on the same 3 x 10,000 pairs; `valid` compares settings on
wikiart100's held-out artists (the validation split they were chosen on).

    python bench/same_artist_features.py [FOLDER]            # once, about 4 minutes on 2 cores with a warm wikiart100 cache
    python bench/same_artist_levers.py raw|white|emb|emb2|emb3|post|fuse|valid|mlp [FOLDER]

The experiments before `mlp` measured the linear projection (`hidden=0`), the default until 2026-12-03.
"""
import os, tempfile
import numpy as np, pandas as pd, json, time, sys, torch
from pathlib import Path
from sklearn.metrics import roc_auc_score
from artsig.pairs import ArtistEmbedding, sample_pairs, raw_embedding, hubness, pool_auc
from artsig.heads import BlockScaler
torch.set_num_threads(2)
D = sys.argv[2] if len(sys.argv) > 2 else os.path.join(tempfile.gettempdir(), 'artsig-same-artist/')  # from same_artist_features.py
meta = json.load(open(D+'meta.json')); widths = meta['widths']
Xc, Xf = np.load(D+'w100_center.npy'), np.load(D+'w100_flip.npy')
Uc, Uf = np.load(D+'unseen_center.npy'), np.load(D+'unseen_flip.npy')
wa, ua = pd.read_csv(D+'w100.csv').artist.values, pd.read_csv(D+'unseen.csv').artist.values
PAIR_SEEDS = (42, 1, 2)  # the draws of 10,000 pairs every AUC here is averaged over
PAIRS = {s: sample_pairs(ua, 10_000, s) for s in PAIR_SEEDS}
unit = lambda z: z / np.linalg.norm(z, axis=1, keepdims=True).clip(1e-9)
LINEAR = dict(hidden=0)

def aucs(emb, readout='cos', k=10):  # readout: 'cos', 'csls', or 'centred csls' (the pool's mean taken out first)
    return [pool_auc(emb, ua, 10_000, seed, 0 if readout == 'cos' else k, centre=readout == 'centred csls') for seed in PAIR_SEEDS]

def report(name, emb, readouts=('cos', 'csls')):
    for ro in readouts:
        a = aucs(emb, ro)
        print(f'{name:55s} {ro:5s} {np.mean(a):.4f} ± {np.std(a):.4f}', flush=True)

def blocks(z, keep):  # keep some blocks by index
    cuts = np.cumsum([0, *widths]); return np.concatenate([z[:, cuts[i]:cuts[i+1]] for i in keep], 1), [widths[i] for i in keep]

_PCA = {}
def pca_white(fit, X, dim, eps=1e-6):
    key = (id(fit), fit.shape)
    if key not in _PCA:
        from sklearn.decomposition import PCA
        t = time.time(); _PCA[key] = PCA(1024, svd_solver='randomized', random_state=0).fit(fit); print(f'PCA {time.time()-t:.0f}s', flush=True)
    p = _PCA[key]; P = p.components_[:dim].T / np.sqrt(p.explained_variance_[:dim] + eps)
    return (X - p.mean_) @ P, (fit - p.mean_) @ P

def wccn(fit, labels, X, dim, shrink=0.1):
    "PCA to `dim`, then whiten the within-artist covariance (LDA-like) — a classic verification readout."
    Zx, Zf = pca_white(fit, X, dim)
    cls = pd.Series(range(len(labels))).groupby(labels).apply(list)
    Sw = sum(np.cov(Zf[i].T, bias=True) * len(i) for i in cls if len(i) > 1) / len(Zf)
    Sw = (1-shrink)*Sw + shrink*np.eye(dim)*np.trace(Sw)/dim
    w, V = np.linalg.eigh(Sw); return Zx @ V / np.sqrt(w)

exp = sys.argv[1] if len(sys.argv) > 1 else 'all'
print('blocks', widths)
sc = BlockScaler(widths).fit(Xc); Zc, Zu = sc(Xc), sc(Uc)
if exp in ('all', 'raw'):
    report('raw (BlockScaler on w100)', raw_embedding(Uc, widths, Xc))
    report('raw, center+flip mean', unit(sc(Uc) + sc(Uf)))
    for i in range(len(widths)):
        x, w = blocks(Uc, [i]); f, _ = blocks(Xc, [i]); report(f'raw block {i} (width {widths[i]})', raw_embedding(x, w, f))
if exp in ('all', 'white'):
    for dim in (128, 256, 512, 1024):
        zu, _ = pca_white(Zc, Zu, dim); report(f'PCA-whitened {dim}', unit(zu))
    for dim in (128, 256, 512):
        for sh in (0.05, 0.2):
            report(f'WCCN {dim} shrink {sh}', unit(wccn(Zc, wa, Zu, dim, sh)))
if exp in ('all', 'emb'):
    for kw in [dict(), dict(dim=512), dict(epochs=60), dict(scale=32), dict(dropout=0.5), dict(dim=512, epochs=60, dropout=0.5)]:
        t = time.time(); e = ArtistEmbedding(widths, seed=42, **LINEAR, **kw).fit(Xc, list(wa))
        report(f'ArtistEmbedding {kw} ({time.time()-t:.0f}s)', e.embed(Uc))
        report('  ... center+flip', unit(e.embed(Uc) + e.embed(Uf)))
if exp == 'emb2':
    for kw, both in [(dict(scale=32, dropout=0.5), False), (dict(scale=32, dropout=0.7), False), (dict(scale=32, dropout=0.5, weight_decay=0.1), False),
                     (dict(scale=32, dropout=0.5), True), (dict(scale=48, dropout=0.6), False)]:
        t = time.time()
        e = ArtistEmbedding(widths, seed=42, **LINEAR, **kw).fit(np.r_[Xc, Xf] if both else Xc, list(wa) * (2 if both else 1))
        report(f'ArtistEmbedding {kw}{" on both views" if both else ""} ({time.time()-t:.0f}s) c+f', unit(e.embed(Uc) + e.embed(Uf)))
if exp == 'save':
    for s in (42, 1, 2):
        e = ArtistEmbedding(widths, seed=s, scale=32, dropout=0.5, **LINEAR).fit(Xc, list(wa))
        np.save(D+f'emb_{s}.npy', unit(e.embed(Uc) + e.embed(Uf))); print('saved', s, flush=True)
if exp == 'post':
    def dba(emb, k, alpha=3):
        S = emb @ emb.T; idx = np.argsort(-S, 1)[:, :k+1]  # self first
        w = np.take_along_axis(S, idx, 1).clip(0) ** alpha
        return unit((w[:, :, None] * emb[idx]).sum(1))
    import glob
    for f in sorted(glob.glob(D+'emb3_*.npy')):
        emb = np.load(f); s = Path(f).stem
        for k in (1, 2, 3, 5):
            for alpha in (1, 3):
                report(f'{s} + DBA k={k} alpha={alpha}', dba(emb, k, alpha))
if exp == 'emb3':
    for kw in [dict(scale=48, dropout=0.8), dict(scale=64, dropout=0.7)]:
        t = time.time(); e = ArtistEmbedding(widths, seed=42, **LINEAR, **kw).fit(Xc, list(wa))
        emb = unit(e.embed(Uc) + e.embed(Uf)); np.save(D+f"emb3_{kw['scale']}_{kw['dropout']}.npy", emb)
        report(f'ArtistEmbedding {kw} ({time.time()-t:.0f}s) c+f', emb)
if exp == 'fuse':
    emb = np.load(D+'emb3_48_0.8.npy')
    def S_of(e, k):  # the CSLS scores of every pair, for fusing two of them
        r = hubness(e, k); return 2 * e @ e.T - r[:, None] - r[None, :]
    def rep(name, S): a = [roc_auc_score(p.same, S[p.a.values, p.b.values]) for p in PAIRS.values()]; print(f'{name:55s} {np.mean(a):.4f} ± {np.std(a):.4f}', flush=True)
    for k in (5, 20, 50): rep(f'learnt csls k={k}', S_of(emb, k))
    w = unit(wccn(Zc, wa, Zu, 128, 0.05)); Sw = S_of(w, 10); Se = S_of(emb, 10)
    for a in (0.25, 0.5):
        rep(f'fused learnt + {a} WCCN128', (Se / Se.std()) + a * (Sw / Sw.std()))
if exp == 'valid':
    from artsig.pairs import holdout_artists
    from artsig.data import study_works
    works = study_works('wikiart100').reset_index(drop=True); assert (works.filename.values == pd.read_csv(D+'w100.csv').filename.values).all()
    variants = [dict(hidden=0), dict(hidden=512), dict(hidden=1024)]
    for seed in (42, 1):
        roles = holdout_artists(works, 20, seed=seed); tr = roles.role.values == 'train'; un = np.flatnonzero(roles.role.values == 'unseen')
        for kw in variants:
            t = time.time(); e = ArtistEmbedding(widths, seed=seed, **kw).fit(Xc[tr], list(works.artist[tr]))
            emb = unit(e.embed(Xc[un]) + e.embed(Xf[un]))
            for name, k, centre in (('cos', 0, False), ('csls', 10, False), ('centred csls', 10, True)):
                a = [pool_auc(emb, works.artist.values[un], 10_000, s, k, centre) for s in PAIR_SEEDS]
                print(f'valid seed {seed} {str(kw):40s} {name:12s} {np.mean(a):.4f} ({time.time()-t:.0f}s)', flush=True)
if exp == 'mlp':  # the test, once, for the settings chosen on `valid`
    for kw in [dict(hidden=0), dict(hidden=1024)]:
        t = time.time(); e = ArtistEmbedding(widths, seed=42, **kw).fit(Xc, list(wa))
        report(f'ArtistEmbedding {kw} ({time.time()-t:.0f}s) c+f', e.embed_views({'c': Uc, 'f': Uf}), ('cos', 'csls', 'centred csls'))
