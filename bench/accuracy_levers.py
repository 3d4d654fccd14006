"""Accuracy levers of issue 11 on the default recipe's cached features, each a row with its top-1 accuracy and its cost
in seconds: the default linear head; k nearest neighbours in the head's scaled feature space; the head blended with
them; an ensemble of three heads (three training seeds).

    python bench/accuracy_levers.py [--out nbs_outputs/bench/accuracy_levers.json] [--seed 42] [--tasks 'genre style artist']

Everything that is chosen (k, the neighbours' temperature, the blend weight) is chosen on a tuning fifth of the
training works (`split_random` again, inside training), by a head trained on the other four fifths; the validation
works that are scored are used once, at the end, with the choice made. `--seed` sets the split (42 is the split every
record uses); the heads train with `settings.seed` as everywhere. Features come from the cache (`artsig-fastpath`
fills it); `extractor_keys` in the record says which.
"""
import argparse, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from artsig.core import settings
from artsig.data import split_random, study_works, task_frame
from artsig.features import FeatureRecipe, extractor, readable_features
from artsig.heads import FeatureHead, HeadConfig, label_indices
from artsig.records import save_run
from artsig.similarity import WorkIndex

KS, TEMPERATURES, WEIGHTS = (5, 10, 20, 40), (0.02, 0.05, 0.1), np.round(np.arange(0, 1.01, 0.1), 1)

def neighbours(head:FeatureHead, train:list, query:list, k:int=max(KS))->tuple:
    "Cosines and indices of each query view's `k` nearest training rows (center views), in the head's scaled space."
    index = WorkIndex(head.scaler(train[0]), pd.DataFrame(index=range(len(train[0]))))  # exact: faiss inner product of unit rows
    out = [index.search(head.scaler(q), k) for q in query]
    return tuple(torch.from_numpy(np.stack(part)) for part in zip(*out))  # cosines, indices: (n_views, n, k) each

def knn_probs(near:tuple, y_train:np.ndarray, n_classes:int, k:int, temperature:float)->np.ndarray:
    "Class probabilities from the `k` nearest training works, weighted by the softmax of cosine / temperature, averaged over views."
    sims, idx = near[0][..., :k], near[1][..., :k]
    w = torch.softmax(sims / temperature, -1)
    probs = torch.zeros(*idx.shape[:2], n_classes).scatter_add_(2, torch.from_numpy(y_train)[idx], w)
    return probs.mean(0).numpy()

def head_probs(vocab, widths, train, y_train, query, seed=None)->tuple:
    "A default head trained on `train` (with `seed`), its probabilities for `query`, and the seconds it took."
    start = time.time()
    head = FeatureHead(vocab, widths, HeadConfig(seed=seed)).fit(train, [vocab[i] for i in y_train])
    return head, head.predict_proba(query), time.time() - start

def accuracy(probs:np.ndarray, y:np.ndarray)->float: return float((probs.argmax(1) == y).mean())

def tune(frame, task:str, vocab, widths, views, y, train_idx, seed)->dict:
    "k, temperature and blend weight chosen on a tuning fifth of the training works (near-duplicates kept together)."
    inner = split_random(frame.iloc[train_idx].reset_index(drop=True), task, 0.2, seed, groups='dup_group').is_valid.values
    fit_i, tune_i = train_idx[~inner], train_idx[inner]
    head, p_head, _ = head_probs(vocab, widths, [v[fit_i] for v in views], y[fit_i], [v[tune_i] for v in views])
    near = neighbours(head, [v[fit_i] for v in views], [v[tune_i] for v in views])
    knn = {(k, t): knn_probs(near, y[fit_i], len(vocab), k, t) for k in KS for t in TEMPERATURES}
    k, t = max(knn, key=lambda kt: accuracy(knn[kt], y[tune_i]))
    scores = {float(w): accuracy((1 - w) * p_head + w * knn[k, t], y[tune_i]) for w in WEIGHTS}
    return {'k': k, 'temperature': t, 'weight': max(scores, key=scores.get), 'tune_accuracy_by_weight': scores,
            'tune_works': int(len(tune_i))}

def levers(task:str, works, recipe:FeatureRecipe, split_seed:int)->dict:
    "Every lever's validation accuracy and seconds for one task."
    frame = split_random(task_frame(works, task), task, seed=split_seed)
    views, widths, ok = readable_features(frame.path.tolist(), recipe, progress=False)
    frame = frame[ok].reset_index(drop=True)
    views = list(views.values())
    train_idx, valid_idx = np.flatnonzero(~frame.is_valid.values), np.flatnonzero(frame.is_valid.values)
    vocab = sorted(set(frame[task].iloc[train_idx])); y = label_indices(frame[task].tolist(), vocab)
    chosen = tune(frame, task, vocab, widths, views, y, train_idx, split_seed)
    train, valid, yv = [v[train_idx] for v in views], [v[valid_idx] for v in views], y[valid_idx]
    heads = [head_probs(vocab, widths, train, y[train_idx], valid, seed) for seed in (None, 1, 2)]
    start = time.time()
    p_knn = knn_probs(neighbours(heads[0][0], train, valid), y[train_idx], len(vocab), chosen['k'], chosen['temperature'])
    knn_s, p_head, w = time.time() - start, heads[0][1], chosen['weight']
    ensemble = np.mean([h[1] for h in heads], 0)
    rows = {'head (default)': (accuracy(p_head, yv), heads[0][2]),
            f"kNN (k {chosen['k']}, temperature {chosen['temperature']})": (accuracy(p_knn, yv), knn_s),
            f'head + kNN, weight {w}': (accuracy((1 - w) * p_head + w * p_knn, yv), heads[0][2] + knn_s),
            'ensemble of 3 heads (seeds)': (accuracy(ensemble, yv), sum(h[2] for h in heads)),
            f'ensemble + kNN, weight {w}': (accuracy((1 - w) * ensemble + w * p_knn, yv), sum(h[2] for h in heads) + knn_s)}
    return {'rows': {k: {'accuracy': round(a, 4), 'seconds': round(s, 1)} for k, (a, s) in rows.items()},
            'chosen_on_tuning_fifth': chosen, 'n_train': int(len(train_idx)), 'n_valid': int(len(valid_idx))}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='nbs_outputs/bench/accuracy_levers.json'); p.add_argument('--seed', type=int, default=42)
    p.add_argument('--tasks', default='genre style artist')
    a = p.parse_args()
    start, recipe, works = time.time(), FeatureRecipe(), study_works()
    metrics = {}
    for task in a.tasks.split():
        metrics[task] = levers(task, works, recipe, a.seed)
        print(task, {k: v['accuracy'] for k, v in metrics[task]['rows'].items()}, metrics[task]['chosen_on_tuning_fifth']['weight'], flush=True)
    out = Path(a.out)
    save_run(out.parent, metrics, out.name, command=f"python bench/accuracy_levers.py --out {a.out} --seed {a.seed} --tasks '{a.tasks}'",
             data='wikiart100 study_works (all), task_frame per task', split=f'split_random(task, valid_pct=0.2, seed={a.seed})',
             backbone=recipe.describe(), extractor_keys={e.name: extractor(e).key for e in recipe.extractors},
             head_seed=settings.seed, duration_s=round(time.time() - start, 1))

if __name__ == '__main__': main()
