#!/usr/bin/python3
"""Protein localisation demo model (pipeline 4 of shared/spec/pipelines.md, Puzzle-CAM style), trained here on simulated data.

One command, deterministic (seed 0), CPU, one thread:
    /usr/bin/python3 tools/models/protein.py

Writes
  public/models/protein_localisation.onnx + .json (model card)
  public/samples/protein/<id>_{red,green,blue,yellow}.png, <id>_cells.png, labels.csv, cell_labels.csv, README.md
  tests/fixtures/reference/protein_localisation/*
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protein_sim as sim  # noqa: E402

torch.set_num_threads(1)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ROOT = os.environ.get('VOXELBENCH_MODELS_OUT', REPO)  # where public/ and tests/fixtures/ are written (a copy, to check determinism)
CLASSES = sim.CLASSES
MEAN = (0.485, 0.456, 0.406, 0.485)
STD = (0.229, 0.224, 0.225, 0.229)
CHANNELS = ['red', 'green', 'blue', 'yellow']
SIZE = 512
NET = 256  # the model resizes its input to 256 x 256 first (an exact 2 x 2 average from 512)
N_TRAIN, N_HELDOUT, N_FIXTURE = 1800, 250, 12
EPOCHS, BATCH = 14, 32
SEED = 0


# ------------------------------------------------------------------ preprocessing (pipeline 4)
def preprocess(rgby):
    """(4, H, W) uint8/uint16 in order red, green, blue, yellow -> (1, 4, 512, 512) float32, exactly as pipeline 4.
    Scale in float32 (/65535 if max > 255 else /255), anti-aliased bilinear resize to 512 (torch, align_corners=False,
    antialias=True; the identity for 512 x 512 input), then (x - mean) / std per channel in float32."""
    x = np.asarray(rgby)
    scale = 65535.0 if x.max() > 255 else 255.0
    t = torch.from_numpy(x.astype(np.float32) / np.float32(scale))[None]
    if t.shape[-2:] != (SIZE, SIZE):
        t = F.interpolate(t, size=(SIZE, SIZE), mode='bilinear', align_corners=False, antialias=True)
    mean = torch.tensor(MEAN, dtype=torch.float32).view(1, 4, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(1, 4, 1, 1)
    return (t - mean) / std


def normalise(x01):
    """(N, 4, h, w) float32 in [0, 1] -> normalised."""
    mean = torch.tensor(MEAN, dtype=torch.float32).view(1, 4, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(1, 4, 1, 1)
    return (x01 - mean) / std


# ------------------------------------------------------------------ model
class Block(nn.Module):
    def __init__(self, cin, cout, stride, dilation=1):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, dilation, dilation, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, dilation, dilation, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.sc = None if cin == cout and stride == 1 else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(y + (x if self.sc is None else self.sc(x)))


class ProteinCAMNet(nn.Module):
    """Small CNN, Puzzle-CAM head: class_maps = 1x1 conv without bias (19 maps, 16 x 16 for 512 input), logits = spatial mean."""

    def __init__(self, n_classes=19):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(4, 24, 4, 4, bias=False), nn.BatchNorm2d(24), nn.ReLU(),
                                  nn.Conv2d(24, 48, 3, 2, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU())
        self.layers = nn.Sequential(Block(48, 64, 2), Block(64, 96, 1, dilation=2))
        self.drop = nn.Dropout2d(0.1)
        self.head = nn.Conv2d(96, n_classes, 1, bias=False)

    def features(self, x256):
        return self.head(self.drop(self.layers(self.stem(x256))))

    def forward(self, x):
        x = F.interpolate(x, size=(NET, NET), mode='bilinear', align_corners=False)
        maps = self.features(x)
        return maps.mean(dim=(2, 3)), maps


# ------------------------------------------------------------------ metrics
def average_precision(y, s):
    """sklearn's average_precision_score for one class: sum over distinct thresholds of (R_n - R_n-1) P_n."""
    order = np.argsort(-s, kind='mergesort')
    s, y = s[order], y[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp = np.cumsum(y)[distinct]
    fp = (distinct + 1) - tp
    prec = tp / (tp + fp)
    rec = tp / y.sum()
    rec_prev = np.r_[0, rec[:-1]]
    return float(np.sum((rec - rec_prev) * prec))


def auc(y, s):
    """ROC AUC = Mann-Whitney U / (n_pos n_neg), ties count 1/2 (average ranks)."""
    from scipy.stats import rankdata
    r = rankdata(s)
    npos, nneg = y.sum(), len(y) - y.sum()
    return float((r[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def metrics(targets, scores):
    """Macro mAP over classes with at least one positive; AUC per class with positives and negatives."""
    aps, aucs = {}, {}
    for k, c in enumerate(CLASSES):
        y = targets[:, k].astype(np.int64)
        if y.sum() > 0:
            aps[c] = average_precision(y, scores[:, k])
            if y.sum() < len(y):
                aucs[c] = auc(y, scores[:, k])
    return float(np.mean(list(aps.values()))), aps, aucs


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------------ data
def make_set(seed, n):
    """Simulated images reduced to 256 x 256 as 2 x 2 sums (uint16, exact), targets (n, 19)."""
    rng = np.random.default_rng(seed)
    xs = np.zeros((n, 4, NET, NET), np.uint16)
    ys = np.zeros((n, 19), np.float32)
    for i in range(n):
        img, _, _, tgt = sim.simulate(rng)
        xs[i] = img.reshape(4, NET, 2, NET, 2).astype(np.uint16).sum((2, 4))
        ys[i] = tgt
    return xs, ys


def to_input(sums):
    """2 x 2 sums -> normalised float tensor at 256 (what the model computes from the 512 x 512 pipeline input)."""
    return normalise(torch.from_numpy(sums.astype(np.float32)) / np.float32(4 * 255))


def predict(model, sums, batch=50):
    out = []
    with torch.no_grad():
        for i in range(0, len(sums), batch):
            out.append(model.features(to_input(sums[i:i + batch])).mean(dim=(2, 3)))
    return torch.cat(out).double().numpy()


def main():
    t_start = time.time()
    torch.manual_seed(SEED)
    print('simulating data ...', flush=True)
    x_tr, y_tr = make_set(1000 + SEED, N_TRAIN)
    print(f'  train {time.time() - t_start:.0f} s', flush=True)
    x_ho, y_ho = make_set(2000 + SEED, N_HELDOUT)
    t_data = time.time() - t_start
    print(f'  {N_TRAIN} train + {N_HELDOUT} held-out in {t_data:.0f} s; label counts (train) '
          f'{dict(zip(range(19), y_tr.sum(0).astype(int).tolist()))}', flush=True)

    model = ProteinCAMNet()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = EPOCHS * ((N_TRAIN + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.15)
    g = torch.Generator().manual_seed(SEED)
    yt = torch.from_numpy(y_tr)
    t_train = time.time()
    for ep in range(EPOCHS):
        model.train()
        perm = torch.randperm(N_TRAIN, generator=g)
        tot = 0.0
        for i in range(0, N_TRAIN, BATCH):
            idx = perm[i:i + BATCH]
            xb = to_input(x_tr[idx.numpy()])
            # dihedral augmentation (cell images have no preferred orientation)
            r = torch.randint(0, 8, (1,), generator=g).item()
            if r & 1:
                xb = xb.flip(3)
            if r & 2:
                xb = xb.flip(2)
            if r & 4:
                xb = xb.transpose(2, 3)
            logits = model.features(xb).mean(dim=(2, 3))
            loss = F.binary_cross_entropy_with_logits(logits, yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
        model.eval()
        m, _, _ = metrics(y_ho, predict(model, x_ho))
        print(f'  epoch {ep + 1}/{EPOCHS} train BCE {tot / N_TRAIN:.4f}  held-out mAP {m:.4f}  {time.time() - t_train:.0f} s', flush=True)
    train_seconds = time.time() - t_train
    model.eval()
    export(model, x_ho, y_ho, train_seconds, t_data)
    print(f'done in {time.time() - t_start:.0f} s')


def save_png(path, arr):
    Image.fromarray(arr).save(path, optimize=True)


def export(model, x_ho, y_ho, train_seconds, t_data):
    out_models = os.path.join(ROOT, 'public', 'models')
    out_samples = os.path.join(ROOT, 'public', 'samples', 'protein')
    out_ref = os.path.join(ROOT, 'tests', 'fixtures', 'reference', 'protein_localisation')
    for d in (out_models, out_samples, out_ref):
        os.makedirs(d, exist_ok=True)

    logits_ho = predict(model, x_ho)
    mAP, aps, aucs = metrics(y_ho, sigmoid(logits_ho))
    counts = y_ho.sum(0).astype(int)
    pred = sigmoid(logits_ho) > 0.5
    heldout = {
        'n': int(len(y_ho)), 'mAP': round(mAP, 4), 'macro_auc': round(float(np.mean(list(aucs.values()))), 4),
        'per_class': {c: {'positives': int(counts[k]), 'ap': round(aps[c], 4) if c in aps else None,
                          'auc': round(aucs[c], 4) if c in aucs else None} for k, c in enumerate(CLASSES)},
        'exact_match_at_0.5': round(float((pred == (y_ho > 0.5)).all(1).mean()), 4),
        'definition': 'image-level: mAP = mean over classes with >= 1 positive of average precision (sklearn definition: '
                      'sum over distinct score thresholds of (R_n - R_n-1) P_n) on sigmoid(logits); AUC per class with positives '
                      'and negatives (Mann-Whitney, ties 1/2). Not the competition\'s cell-level mAP at mask IoU 0.6.',
    }

    # ONNX
    onnx_path = os.path.join(out_models, 'protein_localisation.onnx')
    torch.onnx.export(model, torch.zeros(1, 4, SIZE, SIZE), onnx_path, opset_version=17, input_names=['input'],
                      output_names=['logits', 'class_maps'],
                      dynamic_axes={'input': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch'}, 'class_maps': {0: 'batch'}},
                      do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))

    # samples: the first two draws of a separate stream (seed 3000) with at least two image labels
    rng = np.random.default_rng(3000 + SEED)
    samples = []
    while len(samples) < 2:
        img, cells, cell_labels, tgt = sim.simulate(rng)
        if tgt[:18].sum() >= 2:
            samples.append((f'sim_protein_{len(samples) + 1:03d}', img, cells, cell_labels, tgt))
    label_rows, cell_rows, sample_preds = [], [], {}
    for sid, img, cells, cell_labels, tgt in samples:
        for c, ch in enumerate(CHANNELS):
            save_png(os.path.join(out_samples, f'{sid}_{ch}.png'), img[c])
        save_png(os.path.join(out_samples, f'{sid}_cells.png'), cells)
        label_rows.append(f'{sid},' + ' '.join(str(k) for k in np.nonzero(tgt)[0]))
        for j, ls in enumerate(cell_labels):
            cell_rows.append(f'{sid},{j + 1},' + ' '.join(str(k) for k in ls))
        back = np.stack([np.array(Image.open(os.path.join(out_samples, f'{sid}_{ch}.png'))) for ch in CHANNELS])
        assert (back == img).all()
        with torch.no_grad():
            lg, _ = model(preprocess(back))
        p = sigmoid(lg.double().numpy()[0])
        sample_preds[sid] = {'labels': [CLASSES[k] for k in np.nonzero(tgt)[0]], 'cells': int(cells.max()),
                             'probabilities': {c: round(float(p[k]), 4) for k, c in enumerate(CLASSES)}}
    with open(os.path.join(out_samples, 'labels.csv'), 'w') as f:
        f.write('ID,Label\n' + '\n'.join(label_rows) + '\n')
    with open(os.path.join(out_samples, 'cell_labels.csv'), 'w') as f:
        f.write('ID,cell,Label\n' + '\n'.join(cell_rows) + '\n')
    with open(os.path.join(out_samples, 'README.md'), 'w') as f:
        f.write(SAMPLES_README)

    # reference fixture: the first sample as read back from its PNG files
    sid = samples[0][0]
    raw = np.stack([np.array(Image.open(os.path.join(out_samples, f'{sid}_{ch}.png'))) for ch in CHANNELS])
    inp = preprocess(raw)
    with torch.no_grad():
        lg, maps = model(inp)
    np.save(os.path.join(out_ref, 'raw.npy'), raw)
    np.save(os.path.join(out_ref, 'input.npy'), inp.numpy())
    np.save(os.path.join(out_ref, 'logits.npy'), lg.numpy())
    np.save(os.path.join(out_ref, 'class_maps.npy'), maps.numpy())
    # identity of the anti-aliased resize at 512 and of the model's own 2 x 2 reduction, checked once here
    with torch.no_grad():
        l2 = model.features(to_input(raw.reshape(4, NET, 2, NET, 2).astype(np.uint16).sum((2, 4))[None])).mean(dim=(2, 3))
    assert (l2 - lg).abs().max().item() < 1e-4, (l2 - lg).abs().max().item()

    # held-out fixture: the first N_FIXTURE held-out images at 256 x 256 (2 x 2 means rounded to uint8); the TS test scales
    # them (/255) and normalises them, then runs the model on (N, 4, 256, 256), whose own resize is then the identity
    xf = np.round(x_ho[:N_FIXTURE].astype(np.float64) / 4).astype(np.uint8)
    with torch.no_grad():
        lf, _ = model(normalise(torch.from_numpy(xf.astype(np.float32) / np.float32(255))))
    mf, apf, aucf = metrics(y_ho[:N_FIXTURE], sigmoid(lf.double().numpy()))
    np.save(os.path.join(out_ref, 'heldout_raw256.npy'), xf)
    np.save(os.path.join(out_ref, 'heldout_targets.npy'), y_ho[:N_FIXTURE])
    np.save(os.path.join(out_ref, 'heldout_logits.npy'), lf.numpy())
    with open(os.path.join(out_ref, 'heldout_metric.json'), 'w') as f:
        json.dump({'n': N_FIXTURE, 'mAP': mf, 'ap': apf, 'auc': aucf, 'mean': MEAN, 'std': STD,
                   'input': 'heldout_raw256.npy: the first 12 held-out images reduced 2 x 2 (mean, rounded to uint8), channels '
                            'red, green, blue, yellow; model input = (x / 255 - mean) / std in float32, shape (12, 4, 256, 256)',
                   'definition': heldout['definition'], 'sample': f'samples/protein/{sid}_*.png'}, f, indent=1)

    card = {
        'name': 'protein_localisation',
        'file': 'protein_localisation.onnx',
        'preset': 'protein',
        'description': 'Small CNN (4x4 patchify stem, a strided conv and 2 residual blocks, %d parameters) with a Puzzle-CAM head (1x1 conv without bias '
                       '-> 19 class maps, logits = their spatial mean) for the 19 HPA localisation classes. Trained here on simulated '
                       'RGBY cell images only; a demo, not a research model.' % sum(p.numel() for p in model.parameters()),
        'inputs': [{'name': 'input', 'shape': ['batch', 4, SIZE, SIZE], 'dtype': 'float32'}],
        'outputs': [{'name': 'logits', 'shape': ['batch', 19], 'activation': 'sigmoid'},
                    {'name': 'class_maps', 'shape': ['batch', 19, 16, 16], 'activation': 'none',
                     'cam': 'relu(f - 1e-5) / (max + 1e-5) per class, resized to the image (pipeline 4)'}],
        'classes': CLASSES,
        'preprocessing': {
            'channels': ['red (microtubules)', 'green (protein)', 'blue (nucleus)', 'yellow (ER)'],
            'files': '<id>_red.png, <id>_green.png, <id>_blue.png, <id>_yellow.png (8- or 16-bit grayscale)',
            'scale': 'divide by 65535 if max > 255 else by 255 (max over all four channels), float32',
            'resize': {'size': [SIZE, SIZE], 'mode': 'bilinear', 'align_corners': False, 'antialias': True,
                       'reference': 'torch.nn.functional.interpolate (torch %s); skipped when already 512 x 512' % torch.__version__},
            'normalise': {'mean': list(MEAN), 'std': list(STD), 'formula': '(x - mean) / std per channel, float32'},
            'layout': 'NCHW (1, 4, 512, 512), channel order red, green, blue, yellow',
            'in_model': 'the model resizes its input to 256 x 256 first (ONNX Resize, linear, half-pixel: an exact 2 x 2 average '
                        'from 512). Any input size is accepted; class maps are always 16 x 16.',
        },
        'training': {
            'data': 'simulated HPA-style fields of view (tools/models/protein_sim.py), 512 x 512 8-bit: 3-8 cells per image '
                    '(jittered Voronoi cells, radius 95-140 px), elliptical nuclei with nucleoli (blue), microtubules growing from a '
                    'centrosome next to the nucleus (red), a perinuclear ER mesh and nuclear envelope (yellow), and a green protein '
                    'pattern for each of the cell\'s classes: nucleoplasm, nuclear membrane ring, nucleoli blobs, fibrillar-centre dots '
                    'inside nucleoli, nuclear speckles, nuclear bodies, ER (co-localised with yellow), Golgi (perinuclear cluster), '
                    'intermediate filaments (wavy perinuclear), actin (straight stress fibres + cortex), microtubules (co-localised '
                    'with red), mitotic spindle (one dividing cell with a chromosome plate), centrosome dots, plasma membrane '
                    'outline, mitochondria (short tubules), aggresome (one large perinuclear body), cytosol (diffuse), vesicles '
                    '(puncta), negative (no pattern). 1-3 classes per image (first class drawn with sqrt-flattened HPA-like '
                    'frequencies), each cell keeps each class with p 0.85 (some cells negative); image label = union over cells. '
                    'Random expression level, channel gains, offset and noise. Training on the 256 x 256 tensors that the model '
                    'computes internally from 512 x 512 inputs, dihedral augmentation, BCE, AdamW, one-cycle lr 2e-3, batch %d.' % BATCH,
            'realData': None,
            'samples': N_TRAIN, 'epochs': EPOCHS, 'seconds': round(train_seconds, 1), 'data_seconds': round(t_data, 1), 'seed': SEED,
            'script': 'tools/models/protein.py', 'torch': torch.__version__, 'threads': 1,
        },
        'metrics': {'heldout': heldout, 'samples': sample_preds},
        'limitations': 'Trained only on simulated images; the simulated compartments are simple geometric caricatures (real HPA '
                       'patterns are far more varied, cells overlap, and several classes look alike in real data), so predictions on '
                       'real HPA images are not meaningful. The held-out metric is image-level mAP on more simulated images from the '
                       'same generator, not the competition\'s cell-level mAP, and it says the model learned the simulation only. '
                       'Rare classes (mitotic spindle, aggresome) have few training examples. Internal resolution 256 x 256, so the '
                       'finest dots (fibrillar centres, vesicles) are only a few pixels wide. Cell masks in the samples are the '
                       'simulator\'s ground truth, not a segmenter\'s output.',
    }
    with open(os.path.join(out_models, 'protein_localisation.json'), 'w') as f:
        json.dump(card, f, indent=1)
        f.write('\n')
    print(json.dumps(heldout, indent=1))
    print(json.dumps(sample_preds, indent=1))
    print('onnx bytes', os.path.getsize(onnx_path))


SAMPLES_README = """# Protein localisation samples (simulated)

Made by `tools/models/protein.py` (simulator `tools/models/protein_sim.py`); no real data.

- `<id>_red.png` (microtubules), `<id>_green.png` (protein of interest), `<id>_blue.png` (nuclei), `<id>_yellow.png` (ER):
  512 x 512, 8-bit grayscale, HPA naming.
- `<id>_cells.png`: 8-bit cell instance label image, background 0, cells 1..n (the simulator's ground-truth cells).
- `labels.csv`: `ID,Label`, image-level classes (space-separated HPA class ids 0..18), the union of the cell labels.
- `cell_labels.csv`: `ID,cell,Label`, the ground-truth classes of each cell (18 = Negative), for checking the per-cell rule.

Class ids: 0 Nucleoplasm, 1 Nuclear membrane, 2 Nucleoli, 3 Nucleoli fibrillar center, 4 Nuclear speckles, 5 Nuclear bodies,
6 Endoplasmic reticulum, 7 Golgi apparatus, 8 Intermediate filaments, 9 Actin filaments, 10 Microtubules, 11 Mitotic spindle,
12 Centrosome, 13 Plasma membrane, 14 Mitochondria, 15 Aggresome, 16 Cytosol, 17 Vesicles and punctate cytosolic patterns,
18 Negative.
"""

if __name__ == '__main__':
    main()
