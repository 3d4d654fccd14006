"""Same machine, same numbers; and how far bf16 moves them between CPU kinds.

    python bench/determinism.py COLD WARM OTHER [--subset SUBSET.json] [--out nbs_outputs/determinism]

COLD and WARM are the report folders of two `artsig-fastpath` runs on this machine (the first from an empty cache,
the second reading that cache); OTHER is a report folder made on another kind of CPU (e.g. the records committed
in `nbs_outputs/`). SUBSET is the output of a bitwise re-extraction check (features of the first works recomputed
in a fresh cache and compared with the cold run's rows). The record says which metrics agree to the last digit.
"""
import argparse, json
from pathlib import Path
from artsig.records import save_run, machine_info

TASKS, KEYS = ('genre', 'style', 'artist'), ('accuracy', 'top3_accuracy', 'macro_f1', 'n')

def task_records(folder:Path)->dict:
    return {t: json.loads((Path(folder)/t/'metrics.json').read_text()) for t in TASKS}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('cold'); p.add_argument('warm'); p.add_argument('other')
    p.add_argument('--subset', default=None); p.add_argument('--out', default='nbs_outputs/determinism')
    a = p.parse_args()
    cold, warm, other = map(task_records, (a.cold, a.warm, a.other))
    here, there = machine_info(), other['genre']['machine']  # this script runs where COLD and WARM ran
    metrics = {'same_machine': {t: {'identical': all(cold[t]['metrics'][k] == warm[t]['metrics'][k] for k in KEYS),
                                    'cold': {k: cold[t]['metrics'][k] for k in KEYS}, 'warm': {k: warm[t]['metrics'][k] for k in KEYS}}
                                for t in TASKS},
               'other_cpu': {t: {f'{k}_points': round(100 * (cold[t]['metrics'][k] - other[t]['metrics'][k]), 3)
                                 for k in ('accuracy', 'top3_accuracy')} | {'macro_f1': round(cold[t]['metrics']['macro_f1'] - other[t]['metrics']['macro_f1'], 4)}
                             for t in TASKS}}
    if a.subset: metrics['bitwise_reextraction'] = json.loads(Path(a.subset).read_text().strip().splitlines()[-1])
    fastpath = json.loads((Path(a.cold)/'fastpath'/'metrics.json').read_text())
    save_run(a.out, metrics, command=f'python bench/determinism.py {a.cold} {a.warm} {a.other}' + (f' --subset {a.subset}' if a.subset else ''),
             collection=fastpath.get('collection', 'wikiart100'), data='study_works: filter_works(centuries=None)',  # older runs named no collection: wikiart100
             split="each task: split_random(task, valid_pct=0.2, seed=42)",
             recipe=cold['genre']['recipe'], this_cpu=f"{here['cpu']} {here.get('cpu_flags', '')}", other_cpu=f"{there['cpu']} (records of {other['genre']['date']})",
             cold_run={'command': fastpath['command'], 'total_s': fastpath['total_s'], 'torch_threads': fastpath['torch_threads'],
                       'feature_rows_cached_at_start': fastpath['feature_rows_cached_at_start'], 'date': fastpath['date'],
                       'note': 'run with OMP_NUM_THREADS=1 while other work shared the machine: not a clean timing'},
             bf16='bfloat16 autocast on both (artsig turns it on where oneDNN has native bf16: AVX-512 BF16 here, AMX on the Intel machine, per its bench record)')

if __name__ == '__main__': main()
