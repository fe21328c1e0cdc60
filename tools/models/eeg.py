#!/usr/bin/python3
"""EEG spectrogram demo classifier (pipeline 3 of shared/spec/pipelines.md), trained here on simulated data.

One command, deterministic (seed 0), CPU, one thread:
    /usr/bin/python3 tools/models/eeg.py

Writes
  public/models/eeg_spectrogram.onnx + .json (model card)
  public/samples/eeg/*.parquet, votes.csv, ATTRIBUTION.md
  tests/fixtures/reference/eeg_spectrogram/*

Simulation: HMS-style spectrograms, 4 bipolar chains (LL, RL, LP, RP) x 100 frequency bins
(0.59..19.92 Hz) x 300 time rows (10 min at 2 s), power with a 1/f background, slow drifts,
chi-square pixel noise, an alpha peak, and class-typical patterns for the six HMS classes.
Labels are expert-vote distributions: a multinomial draw of 3..20 votes around the true class,
with confusions between neighbouring classes that grow when the pattern is weak.
"""
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eeg_parquet import read_parquet, write_parquet  # noqa: E402

torch.set_num_threads(1)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ROOT = os.environ.get('VOXELBENCH_MODELS_OUT', REPO)  # where public/ and tests/fixtures/ are written (a copy, to check determinism)
SHARED = os.path.abspath(os.path.join(REPO, '..', 'shared', 'data', 'eeg'))
CLASSES = ['seizure', 'lpd', 'gpd', 'lrda', 'grda', 'other']
CHAINS = ['LL', 'RL', 'LP', 'RP']
LEFT, RIGHT = [0, 2], [1, 3]  # LL, LP / RL, RP
T = 300
SIZE = 512  # pipeline resize target
NET = 128  # the model resizes internally 512 -> 256 -> 128 (two exact 2x2 averages)
N_TRAIN, N_HELDOUT, N_FIXTURE = 6000, 200, 16
EPOCHS, BATCH = 10, 64
SEED = 0


def column_names():
    path = os.path.join(SHARED, 'hms_spectrogram_columns.txt')
    if os.path.exists(path):
        names = [ln.strip() for ln in open(path) if ln.strip()]
    else:  # same list, rebuilt: bins k/1024*200 Hz for k = 3..102, rounded half-up to 2 decimals
        import decimal
        f = [str(decimal.Decimal(k * 200 / 1024).quantize(decimal.Decimal('0.01'), decimal.ROUND_HALF_UP)).rstrip('0').rstrip('.')
             for k in range(3, 103)]
        names = ['time'] + [f'{c}_{x}' for c in CHAINS for x in f]
    assert len(names) == 401 and names[0] == 'time' and names[1] == 'LL_0.59' and names[-1] == 'RP_19.92'
    return names


COLUMNS = column_names()
FREQ = np.array([float(n.split('_')[1]) for n in COLUMNS[1:101]])  # 100 bins, 0.59 .. 19.92 Hz


# ------------------------------------------------------------------ simulation
def smooth_walk(rng, n, scale, width):
    w = np.cumsum(rng.normal(0, 1, n + 2 * width))
    k = np.hanning(2 * width + 1)
    w = np.convolve(w, k / k.sum(), mode='same')[width:width + n]
    w = w - w.mean()
    return scale * w / (w.std() + 1e-9)


def on_off(rng, n, duty, seg_min, seg_max):
    """A 0/1 time mask made of segments, on for about `duty` of the time."""
    m = np.zeros(n)
    t = int(rng.integers(0, seg_max))
    on = rng.random() < duty
    t0 = 0
    while t0 < n:
        ln = int(rng.integers(seg_min, seg_max + 1))
        if on:
            m[t0:t0 + ln] = 1
        t0 += ln
        on = rng.random() < duty
    del t
    return m


def band(f0, sigma):
    """(100,) or (100,T) gaussian band around f0 (scalar or (T,))."""
    f0 = np.asarray(f0, float)
    return np.exp(-0.5 * ((FREQ[:, None] - f0[None, ...]) / sigma) ** 2) if f0.ndim else np.exp(-0.5 * ((FREQ - f0) / sigma) ** 2)


def side_weights(rng, lateral):
    if lateral:
        w = np.zeros(4)
        side, other = (LEFT, RIGHT) if rng.random() < 0.5 else (RIGHT, LEFT)
        w[side] = rng.uniform(0.7, 1.0, 2)
        w[other] = rng.uniform(0.0, 0.2, 2)
    else:
        w = rng.uniform(0.7, 1.0, 4)
    return w


def artefacts(rng, gain, p):
    """Broadband spikes (movement), muscle (high-frequency), eye (low-frequency) artefacts."""
    if rng.random() < p:  # movement spikes: short broadband bursts
        for _ in range(int(rng.integers(1, 8))):
            t0 = int(rng.integers(0, T))
            ln = int(rng.integers(1, 4))
            a = rng.uniform(3, 60)
            chains = np.arange(4) if rng.random() < 0.6 else rng.choice(4, int(rng.integers(1, 3)), replace=False)
            for c in chains:
                gain[c, :, t0:t0 + ln] += a * rng.uniform(0.5, 1.0)
    if rng.random() < p:  # muscle: power rising with frequency above ~10 Hz, temporal chains
        m = on_off(rng, T, rng.uniform(0.1, 0.5), 5, 40)
        shape = np.clip((FREQ - rng.uniform(6, 12)) / 8, 0, None) ** 1.5 * rng.uniform(3, 30)
        for c in range(4):
            if rng.random() < 0.7:
                gain[c] += shape[:, None] * m[None, :] * rng.uniform(0.5, 1.0)
    if rng.random() < p * 0.7:  # eye movements / blinks: short low-frequency bursts, frontal chains stronger
        for _ in range(int(rng.integers(1, 10))):
            t0 = int(rng.integers(0, T))
            a = rng.uniform(2, 20)
            for c in range(4):
                gain[c, :, t0:t0 + 2] += a * band(0.6, 0.6)[:, None] * (1.0 if c in (0, 1) else 0.4)


def simulate(rng, cls, strength):
    """Power spectrogram (400, T) float32 of class `cls` with pattern strength in (0, 1]."""
    logb = np.zeros((4, 100, T))
    b0 = rng.normal(4.8, 0.5)
    slope = rng.normal(1.5, 0.2)
    alpha_f, alpha_a = rng.uniform(7.5, 11.5), rng.uniform(0, 1.2) * (rng.random() < 0.6)
    for c in range(4):
        base = b0 + rng.normal(0, 0.2) - (slope + rng.normal(0, 0.08)) * np.log(FREQ / FREQ[0])
        base = base + alpha_a * band(alpha_f, rng.uniform(0.5, 1.2)) * (1.3 if c >= 2 else 0.7)
        drift = smooth_walk(rng, T, rng.uniform(0.1, 0.4), 20)
        hf_drift = smooth_walk(rng, T, rng.uniform(0.05, 0.3), 10)
        logb[c] = base[:, None] + drift[None, :] + hf_drift[None, :] * (FREQ[:, None] / 20)
    gain = np.zeros((4, 100, T))
    a = strength
    if cls == 'seizure':
        t0 = int(rng.integers(-40, 200))
        dur = int(rng.integers(50, 160))
        t = np.arange(T)
        u = np.clip((t - t0) / dur, 0, 1)
        inside = (t >= t0) & (t < t0 + dur)
        f_start, f_end = rng.uniform(4, 12), rng.uniform(1.5, 4.5)
        if rng.random() < 0.25:
            f_start, f_end = f_end, f_start  # some seizures speed up
        ftr = f_start + (f_end - f_start) * u ** rng.uniform(0.6, 1.6)
        env = np.sin(np.pi * u) ** 0.5 * inside
        amp = a * rng.uniform(10, 40)
        sig = rng.uniform(0.3, 0.8)
        pat = amp * (band(ftr, sig) + 0.4 * band(2 * ftr, sig * 1.5) + 0.15 * np.exp(-FREQ / 8)[:, None]) * env[None, :]
        w = side_weights(rng, rng.random() < 0.5)
        for c in range(4):
            gain[c] += w[c] * pat
        post = (t >= t0 + dur) & (t < t0 + dur + int(rng.integers(10, 40)))  # post-ictal suppression
        for c in range(4):
            logb[c][:, post] -= a * w[c] * rng.uniform(0.3, 1.0)
    elif cls in ('lpd', 'gpd'):
        fp = rng.uniform(0.5, 2.0)  # discharge rate: harmonics at k * fp, broadband elevation
        comb = sum(np.exp(-0.5 * ((FREQ - k * fp) / 0.25) ** 2) / k ** 0.5 for k in range(1, int(20 / fp) + 1))
        spec = (0.6 + 0.8 * comb) * np.exp(-FREQ / rng.uniform(8, 20))
        m = on_off(rng, T, rng.uniform(0.6, 0.95), 5, 60)
        stripes = 0.25 + 1.0 * (np.sin(2 * np.pi * np.arange(T) / rng.uniform(5, 10) + rng.uniform(0, 6.3)) > 0.2)
        amp = a * rng.uniform(8, 50)
        w = side_weights(rng, cls == 'lpd')
        for c in range(4):
            gain[c] += w[c] * amp * spec[:, None] * (m * stripes)[None, :]
    elif cls in ('lrda', 'grda'):
        f0 = rng.uniform(1.0, 3.0)
        ftr = f0 + smooth_walk(rng, T, 0.08, 15)
        sig = rng.uniform(0.2, 0.45)
        m = on_off(rng, T, rng.uniform(0.6, 1.0), 10, 80)
        amp = a * rng.uniform(8, 50)
        pat = amp * (band(ftr, sig) + 0.3 * band(2 * ftr, sig)) * m[None, :]
        w = side_weights(rng, cls == 'lrda')
        for c in range(4):
            gain[c] += w[c] * pat
    artefacts(rng, gain, 0.8 if cls == 'other' else 0.3)
    noise = rng.chisquare(6, size=(4, 100, T)) / 6
    p = np.exp(logb) * (1 + gain) * noise
    return p.reshape(400, T).astype(np.float32)


# expert confusions: where the minority votes go
CONFUSE = {
    'seizure': {'lpd': .35, 'gpd': .15, 'lrda': .2, 'grda': .1, 'other': .2},
    'lpd': {'seizure': .3, 'gpd': .3, 'lrda': .15, 'other': .25},
    'gpd': {'lpd': .35, 'seizure': .15, 'grda': .2, 'other': .3},
    'lrda': {'grda': .35, 'lpd': .2, 'seizure': .15, 'other': .3},
    'grda': {'lrda': .35, 'gpd': .2, 'seizure': .1, 'other': .35},
    'other': {'seizure': .2, 'lpd': .2, 'gpd': .2, 'lrda': .2, 'grda': .2},
}


def votes_for(rng, cls, strength):
    n = int(rng.choice([3, 3, 4, 5, 6, 8, 10, 12, 15, 20]))
    k = CLASSES.index(cls)
    conf = np.array([CONFUSE[cls].get(c, 0.0) for c in CLASSES])
    if cls != 'other':  # weak patterns make experts call them "other"
        conf[5] += (1 - strength) * 1.0
    conf /= conf.sum()
    p_major = 0.35 + 0.6 * strength
    p = p_major * np.eye(6)[k] + (1 - p_major) * conf
    return rng.multinomial(n, p).astype(np.float32)


def draw(rng):
    cls = CLASSES[int(rng.integers(0, 6))]
    strength = float(rng.uniform(0.15, 1.0))
    return cls, strength, simulate(rng, cls, strength), votes_for(rng, cls, strength)


# ------------------------------------------------------------------ preprocessing (pipeline 3)
def preprocess(spec, size=SIZE):
    """(400, T) power (NaN allowed) -> (1, 1, size, size) float32 torch tensor, exactly as pipeline 3.
    clip/log/standardise in float64, then float32, then torch bilinear (align_corners=False, no antialias)."""
    x = np.nan_to_num(np.asarray(spec, np.float64), nan=0.0)
    x = np.log(np.clip(x, np.exp(-4), np.exp(8)))
    x = (x - x.mean()) / (x.std() + 1e-6)  # numpy std = population std
    t = torch.from_numpy(x.astype(np.float32))[None, None]
    return F.interpolate(t, size=(size, size), mode='bilinear', align_corners=False)


def to_net(x):
    """What the model does first: 512 -> 256 -> 128 bilinear (each an exact 2x2 average)."""
    x = F.interpolate(x, size=(2 * NET, 2 * NET), mode='bilinear', align_corners=False)
    return F.interpolate(x, size=(NET, NET), mode='bilinear', align_corners=False)


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


class SpectrogramResNet(nn.Module):
    """Small 2D ResNet with a CAM head: class_maps = 1x1 conv of the last features, logits = their spatial mean."""

    def __init__(self, n_classes=6):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.layers = nn.Sequential(Block(16, 32, 2), Block(32, 48, 2), Block(48, 64, 1, dilation=2), Block(64, 64, 1, dilation=4))
        self.drop = nn.Dropout2d(0.1)
        self.head = nn.Conv2d(64, n_classes, 1)

    def features(self, x128):
        return self.head(self.drop(self.layers(self.stem(x128))))

    def forward(self, x):
        maps = self.features(to_net(x))
        return maps.mean(dim=(2, 3)), maps


# ------------------------------------------------------------------ metrics
def kl_div(votes, probs):
    """Mean over samples of KL(target || prediction), target = votes / sum(votes); 0 log 0 = 0; predictions clipped at 1e-15."""
    t = votes / votes.sum(1, keepdims=True)
    p = np.clip(probs, 1e-15, None)
    with np.errstate(divide='ignore', invalid='ignore'):
        terms = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1)) - np.log(p)), 0.0)
    return float(terms.sum(1).mean())


def accuracy(votes, probs):
    return float((np.argmax(votes, 1) == np.argmax(probs, 1)).mean())


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


# ------------------------------------------------------------------ data
def make_set(seed, n, chunk=100):
    rng = np.random.default_rng(seed)
    xs, vs, meta = [], [], []
    for i0 in range(0, n, chunk):
        batch = []
        for _ in range(min(chunk, n - i0)):
            cls, s, spec, v = draw(rng)
            batch.append(preprocess(spec))
            vs.append(v)
            meta.append((cls, s))
        xs.append(to_net(torch.cat(batch)))
    return torch.cat(xs), np.stack(vs), meta


def main():
    t_start = time.time()
    torch.manual_seed(SEED)
    print('simulating data ...', flush=True)
    x_tr, v_tr, _ = make_set(1000 + SEED, N_TRAIN)
    x_ho, v_ho, meta_ho = make_set(2000 + SEED, N_HELDOUT)
    t_data = time.time() - t_start
    print(f'  {N_TRAIN} train + {N_HELDOUT} held-out in {t_data:.0f} s', flush=True)
    y_tr = torch.from_numpy(v_tr / v_tr.sum(1, keepdims=True))

    model = SpectrogramResNet()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = EPOCHS * ((N_TRAIN + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.15)
    g = torch.Generator().manual_seed(SEED)
    t_train = time.time()
    for ep in range(EPOCHS):
        model.train()
        perm = torch.randperm(N_TRAIN, generator=g)
        tot = 0.0
        for i in range(0, N_TRAIN, BATCH):
            idx = perm[i:i + BATCH]
            xb = x_tr[idx]
            # augmentation: time flip and a random time roll (the classes do not depend on time direction/offset)
            if torch.rand(1, generator=g).item() < 0.5:
                xb = xb.flip(3)
            xb = xb.roll(int(torch.randint(0, NET, (1,), generator=g)), dims=3)
            logits = model.features(xb).mean(dim=(2, 3))
            loss = F.kl_div(F.log_softmax(logits, 1), y_tr[idx].float(), reduction='batchmean')
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            pr = softmax(model.features(x_ho).mean(dim=(2, 3)).double().numpy())
        print(f'  epoch {ep + 1}/{EPOCHS} train KL {tot / N_TRAIN:.4f}  held-out KL {kl_div(v_ho, pr):.4f} acc {accuracy(v_ho, pr):.3f}  '
              f'{time.time() - t_train:.0f} s', flush=True)
    train_seconds = time.time() - t_train
    model.eval()
    export(model, v_ho, meta_ho, x_ho, train_seconds, t_data)
    print(f'done in {time.time() - t_start:.0f} s')


def oracle_kl(v):
    """KL of the expected vote distribution (the irreducible part is not known exactly: report the votes' own entropy)."""
    t = v / v.sum(1, keepdims=True)
    with np.errstate(divide='ignore', invalid='ignore'):
        return float(np.where(t > 0, -t * np.log(np.where(t > 0, t, 1)), 0).sum(1).mean())


def export(model, v_ho, meta_ho, x_ho, train_seconds, t_data):
    out_models = os.path.join(ROOT, 'public', 'models')
    out_samples = os.path.join(ROOT, 'public', 'samples', 'eeg')
    out_ref = os.path.join(ROOT, 'tests', 'fixtures', 'reference', 'eeg_spectrogram')
    for d in (out_models, out_samples, out_ref):
        os.makedirs(d, exist_ok=True)

    # held-out metrics at the pipeline's 512 x 512 (the model's internal resize makes 512 and the stored 128 identical)
    with torch.no_grad():
        logits_ho = model.features(x_ho).mean(dim=(2, 3)).double().numpy()
    probs_ho = softmax(logits_ho)
    per_class = {}
    true = np.argmax(v_ho, 1)
    for k, c in enumerate(CLASSES):
        sel = true == k
        per_class[c] = {'n': int(sel.sum()), 'accuracy': round(accuracy(v_ho[sel], probs_ho[sel]), 4), 'kl': round(kl_div(v_ho[sel], probs_ho[sel]), 4)}
    uniform = np.full_like(probs_ho, 1 / 6)
    prior = np.tile((v_ho / v_ho.sum(1, keepdims=True)).mean(0), (len(v_ho), 1))
    heldout = {
        'n': int(len(v_ho)), 'kl_divergence': round(kl_div(v_ho, probs_ho), 4), 'accuracy': round(accuracy(v_ho, probs_ho), 4),
        'baseline_uniform_kl': round(kl_div(v_ho, uniform), 4), 'baseline_class_prior_kl': round(kl_div(v_ho, prior), 4),
        'mean_vote_entropy': round(oracle_kl(v_ho), 4), 'per_class_by_majority_vote': per_class,
        'definition': 'KL(votes/sum(votes) || softmax(logits)), predictions clipped at 1e-15, 0 log 0 = 0, mean over samples; '
                      'accuracy = argmax(votes) == argmax(prediction), first index on ties',
    }

    # ONNX
    onnx_path = os.path.join(out_models, 'eeg_spectrogram.onnx')
    dummy = torch.zeros(1, 1, SIZE, SIZE)
    torch.onnx.export(model, dummy, onnx_path, opset_version=17, input_names=['input'], output_names=['logits', 'class_maps'],
                      dynamic_axes={'input': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch'}, 'class_maps': {0: 'batch'}},
                      do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))

    # samples: the first held-out-stream draws (seed 3000) of the chosen classes with strength >= 0.7
    rng = np.random.default_rng(3000 + SEED)
    want = {'seizure': 'sim_seizure_001', 'lpd': 'sim_lpd_002'}
    samples = {}
    while len(samples) < len(want):
        cls, s, spec, v = draw(rng)
        if cls in want and cls not in samples and s >= 0.7:
            samples[cls] = (spec, v, s)
    time_col = np.arange(1, 2 * T, 2)
    votes_rows = []
    sample_info = []
    for cls, stem in want.items():
        spec, v, s = samples[cls]
        spec = spec.copy()
        if cls == 'lpd':  # a missing stretch, as in real HMS files: 6 rows of NaN in the RP chain
            spec[300:400, 120:126] = np.nan
        tcol = time_col.astype(np.int64) if cls == 'seizure' else time_col.astype(np.float32)
        cols = [('time', tcol)] + [(n, spec[i]) for i, n in enumerate(COLUMNS[1:])]
        write_parquet(os.path.join(out_samples, f'{stem}.parquet'), cols)
        votes_rows.append(f'{stem},' + ','.join(str(int(x)) for x in v))
        sample_info.append({'file': f'samples/eeg/{stem}.parquet', 'class': cls, 'strength': round(s, 3), 'votes': [int(x) for x in v],
                            'time': 'int64' if cls == 'seizure' else 'float32', 'nan': 'RP chain rows 120..125' if cls == 'lpd' else None})
    with open(os.path.join(out_samples, 'votes.csv'), 'w') as f:
        f.write('eeg_id,' + ','.join(f'{c}_vote' for c in CLASSES) + '\n' + '\n'.join(votes_rows) + '\n')
    real_src = os.path.join(SHARED, 'hms_style_spectrogram_from_eegmmidb_S001R03_time_float.parquet')
    real_dst = os.path.join(out_samples, 'real_eegmmidb_S001R03.parquet')
    shutil.copyfile(real_src, real_dst)
    with open(os.path.join(out_samples, 'ATTRIBUTION.md'), 'w') as f:
        f.write(ATTRIBUTION)

    # predictions on all samples (read back from the parquet files, as a user would load them)
    sample_preds = {}
    for name in [f'{s}.parquet' for s in want.values()] + ['real_eegmmidb_S001R03.parquet']:
        names, cols = read_parquet(os.path.join(out_samples, name))
        assert names == COLUMNS, name
        raw = np.stack([cols[n] for n in COLUMNS[1:]]).astype(np.float32)
        with torch.no_grad():
            lg, _ = model(preprocess(raw))
        sample_preds[name] = {'rows': int(raw.shape[1]), 'probabilities': dict(zip(CLASSES, np.round(softmax(lg.double().numpy())[0], 4).tolist()))}

    # reference fixture: the LPD sample (it has NaN) as read from its parquet file
    names, cols = read_parquet(os.path.join(out_samples, 'sim_lpd_002.parquet'))
    raw = np.nan_to_num(np.stack([cols[n] for n in COLUMNS[1:]]).astype(np.float32), nan=0.0)
    inp = preprocess(raw)
    with torch.no_grad():
        lg, maps = model(inp)
    np.save(os.path.join(out_ref, 'raw.npy'), raw)
    np.save(os.path.join(out_ref, 'input.npy'), inp.numpy())
    np.save(os.path.join(out_ref, 'logits.npy'), lg.numpy())
    np.save(os.path.join(out_ref, 'class_maps.npy'), maps.numpy())
    # held-out fixture: the first N_FIXTURE held-out samples at 128 x 128 (what the model computes from 512 x 512 inputs)
    xf = x_ho[:N_FIXTURE].contiguous()
    with torch.no_grad():
        lf, _ = model(xf)
    pf = softmax(lf.double().numpy())
    np.save(os.path.join(out_ref, 'heldout_input.npy'), xf.numpy())
    np.save(os.path.join(out_ref, 'heldout_votes.npy'), v_ho[:N_FIXTURE])
    np.save(os.path.join(out_ref, 'heldout_logits.npy'), lf.numpy())
    with open(os.path.join(out_ref, 'heldout_metric.json'), 'w') as f:
        json.dump({'n': N_FIXTURE, 'kl_divergence': kl_div(v_ho[:N_FIXTURE], pf), 'accuracy': accuracy(v_ho[:N_FIXTURE], pf),
                   'input': 'the first 16 held-out samples, preprocessed at 512 x 512 then reduced to 128 x 128 by the model\'s own '
                            'first two Resize steps, so the model gives the same outputs as on the 512 x 512 tensors',
                   'definition': heldout['definition'], 'sample': 'samples/eeg/sim_lpd_002.parquet (raw.npy has its NaN set to 0)'},
                  f, indent=1)

    card = {
        'name': 'eeg_spectrogram',
        'file': 'eeg_spectrogram.onnx',
        'preset': 'eeg',
        'description': 'Small 2D ResNet (4 residual blocks, 16-64 channels, %d parameters) with a CAM head for six-class HMS-style '
                       'EEG spectrogram classification. Trained here on simulated spectrograms only; a demo, not a clinical model.'
                       % sum(p.numel() for p in model.parameters()),
        'inputs': [{'name': 'input', 'shape': ['batch', 1, SIZE, SIZE], 'dtype': 'float32'}],
        'outputs': [{'name': 'logits', 'shape': ['batch', 6], 'activation': 'softmax'},
                    {'name': 'class_maps', 'shape': ['batch', 6, 16, 16], 'activation': 'softmax'}],
        'classes': CLASSES,
        'preprocessing': {
            'columns': 'time + 400 float columns LL_0.59 .. LL_19.92, RL_, LP_, RP_ (HMS names), one row every 2 s',
            'array': 'NaN -> 0, drop time, transpose -> (400, T), row 0 = LL 0.59 Hz',
            'window': 'the whole file (300 rows = 10 min in training)',
            'clip': [float(np.exp(-4)), float(np.exp(8))],
            'log': 'natural',
            'standardise': '(x - mean) / (std + 1e-6), population std, over the whole (400, T) image',
            'precision': 'clip, log and standardise in float64, then cast to float32',
            'resize': {'size': [SIZE, SIZE], 'mode': 'bilinear', 'align_corners': False, 'antialias': False,
                       'reference': 'torch.nn.functional.interpolate'},
            'layout': 'NCHW (1, 1, 512, 512)',
            'in_model': 'the model itself resizes its input to 256 x 256 and then 128 x 128 (ONNX Resize, linear, half-pixel); '
                        'from 512 x 512 each step is an exact 2 x 2 average. Any input size is accepted; class maps are always 16 x 16.',
        },
        'cam': 'class_maps[c] is the spatial map whose mean is logits[c] (CAM head: 1x1 conv with bias, then global average). '
               'Map rows follow the image rows: rows 0-3 LL, 4-7 RL, 8-11 LP, 12-15 RP (low to high frequency within each); columns are time.',
        'training': {
            'data': 'simulated HMS-style spectrograms (tools/models/eeg.py): 4 chains x 100 bins x 300 rows, 1/f background '
                    '(log-power 4.8 at 0.59 Hz, slope ~1.5), alpha peak, slow drifts, chi-square(6) pixel noise; patterns: seizure = '
                    'evolving rhythmic band (4-12 Hz slowing to 1.5-4.5 Hz or the reverse) with harmonic and post-ictal suppression, '
                    'focal or generalised; LPD/GPD = periodic discharges (harmonic comb at k x 0.5-2 Hz with broadband elevation, '
                    'intermittent) on one side / on all chains; LRDA/GRDA = stable rhythmic delta band 1-3 Hz on one side / all chains; '
                    'other = background with movement, muscle and eye artefacts (artefacts also appear in 30%% of the other classes). '
                    'Pattern strength uniform 0.15-1. Labels: 3-20 simulated expert votes, majority share 0.35 + 0.6 x strength, '
                    'the rest spread over neighbouring classes and towards "other" for weak patterns. Loss: KL divergence to the vote '
                    'distribution. Trained on 128 x 128 tensors equal to what the model computes internally from the 512 x 512 '
                    'pipeline input (augmentation: time flip, time roll). %d training samples, AdamW, one-cycle lr 3e-3, batch %d.'
                    % (N_TRAIN, BATCH),
            'realData': 'none in training. The real EEG-derived spectrogram (PhysioNet eegmmidb S001R03, healthy subject, motor task, '
                        '62 rows = 2 min) is a sample only; the model\'s output on it is in metrics.samples (no expert label exists).',
            'samples': N_TRAIN, 'epochs': EPOCHS, 'seconds': round(train_seconds, 1), 'data_seconds': round(t_data, 1), 'seed': SEED,
            'script': 'tools/models/eeg.py', 'torch': torch.__version__, 'threads': 1,
        },
        'metrics': {'heldout': heldout, 'samples': sample_preds, 'sample_files': sample_info},
        'limitations': 'Trained only on simulated spectrograms whose patterns are simplified caricatures of the HMS classes; the '
                       'simulation, not real EEG, defines what each class looks like here. Real HMS spectrograms, real periodic '
                       'discharges and real seizures differ, so the predictions on real data (including the bundled real sample, '
                       'which is also shorter than 10 minutes and not made with Kaggle\'s exact spectrogram algorithm) are not '
                       'meaningful clinically. The held-out metric is measured on more simulated data from the same generator, so it '
                       'says the model learned the simulation, not that it would score this on HMS. Small model, 128 x 128 internal '
                       'resolution (0.6 Hz x 4.7 s per cell from a 10-minute file).',
    }
    with open(os.path.join(out_models, 'eeg_spectrogram.json'), 'w') as f:
        json.dump(card, f, indent=1)
        f.write('\n')
    print(json.dumps(heldout, indent=1))
    print(json.dumps(sample_preds, indent=1))
    print('onnx bytes', os.path.getsize(onnx_path))


ATTRIBUTION = """# EEG samples

- `real_eegmmidb_S001R03.parquet`: a byte-for-byte copy of
  `shared/data/eeg/hms_style_spectrogram_from_eegmmidb_S001R03_time_float.parquet`. It is **derived** from real EEG:
  PhysioNet EEG Motor Movement/Imagery Database (eegmmidb), subject S001, run R03 (Schalk et al., BCI2000; Goldberger et al.,
  PhysioBank, PhysioToolkit and PhysioNet, Circulation 2000), licence ODC-BY 1.0. The EDF came from the public GitHub
  repository Quixotte/bci_practical_heyni_boorn_janssen @ 72dd3be0b6616be553b3013f7c67bc1653f3422b (S001/S001R03.edf, with
  the repository's LF->CRLF damage undone). The spectrogram was computed per double-banana chain (LL: Fp1-F7, F7-T3, T3-T5,
  T5-O1; RL; LP; RP; each the mean of 4 bipolar power spectra, 1024-point Hann window at 200 Hz, 2 s hop, bins 3..102) and
  written with the exact Kaggle HMS column names. It is HMS-*style*, not Kaggle's exact algorithm.
  **It has 62 rows (time 1, 3, ..., 123 s: about 2 minutes), not the 300 rows of a 10-minute HMS window**; `time` is FLOAT.
  Nothing was padded or tiled: the preset has to handle files shorter than 300 rows. The subject is healthy and performs a
  motor task; there are no expert votes for it.
- `sim_seizure_001.parquet`, `sim_lpd_002.parquet`: simulated by `tools/models/eeg.py` (300 rows = 10 min; `time` is INT64
  in the seizure file and FLOAT in the LPD file; the LPD file has NaN in the RP chain for rows 120..125). Their simulated expert
  votes are in `votes.csv`. Written with the project's own minimal Parquet writer (`tools/models/eeg_parquet.py`: one row group,
  uncompressed PLAIN pages, OPTIONAL columns), since pyarrow is not available here.
"""

if __name__ == '__main__':
    main()
