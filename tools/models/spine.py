"""Train the demo cervical-spine models on simulated neck CT, export them to ONNX, evaluate them on
held-out simulated CT, and write the samples, the model cards and the test references.

    /usr/bin/python3 tools/models/spine.py            # everything (about 20 minutes on one core)
    /usr/bin/python3 tools/models/spine.py --quick    # a smoke run

Stage 1 (spine_seg): 3D U-Net, input (1, 3, 128, 128, 128) = (N, C, rows, cols, slices) in [0, 1],
output 7 logits C1..C7 at full resolution.
Stage 2 (spine_fracture): per-slice 2.5D CNN on the pipeline's crops (N, 6, 224, 224) in [0, 1],
output (N, 1) per-slice fracture logits.

Outputs:
    public/models/spine_seg.{onnx,json}, public/models/spine_fracture.{onnx,json}
    public/samples/ct/sim_neck/{1..N}.dcm, public/samples/ct/sim_neck.nii.gz, sim_neck_labels.nii.gz
    public/samples/ct/real_totalseg_j2k/ (copied from ../shared/data/ct when present) + ATTRIBUTION.md
    tests/fixtures/reference/spine_seg/..., tests/fixtures/reference/spine_fracture/...
"""
import argparse
import gzip
import os
import shutil
import sys

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import log  # noqa: E402
import spine_sim as sim  # noqa: E402

S = 128
N_SLICE = 15
N_CH = 5
CROP = 224
CLASSES = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7']
SAMPLES_DIR = os.path.join(common.ROOT, 'public', 'samples', 'ct')
REF_SEG = os.path.join(common.REF_DIR, 'spine_seg')
REF_FRAC = os.path.join(common.REF_DIR, 'spine_fracture')
REAL_CT = os.path.join(common.ROOT, '..', 'shared', 'data', 'ct', 'totalseg_example_ct_dicom')


# ------------------------------------------------------------------------------------------------
# preprocessing, exactly as pipeline 2 (RSNA 2022 1st place)


def normalise_u8(v):
    """(v - min) / (max + 1e-4) * 255 -> uint8 (numpy astype: truncation), per volume."""
    v = v.astype(np.float64)
    v = v - v.min()
    v = v / (v.max() + 1e-4) * 255
    return v.astype(np.uint8)


def preprocess_series(stored):
    """stored: (n, rows, cols) stored pixel values in file order -> (128, 128, 128) uint8 (rows, cols, slices)."""
    idx = sim.sample_indices(stored.shape[0], S)
    ry = common.area_matrix(stored.shape[1], S)
    rx = common.area_matrix(stored.shape[2], S)
    sl = np.matmul(np.matmul(ry, stored[idx].astype(np.float64)), rx.T)  # cv2.INTER_AREA per slice
    return normalise_u8(sl).transpose(1, 2, 0).copy()


def to_input(u8):
    """(128, 128, 128) uint8 -> (1, 3, 128, 128, 128) float32 / 255."""
    x = torch.from_numpy(u8.astype(np.float32) / 255.0)[None, None]
    return x.repeat(1, 3, 1, 1, 1)


def labels_128(lab_sampled):
    """Full-resolution labels of the sampled slices (128, rows, cols) -> (rows, cols, slices) 0..7:
    a voxel gets class k when the area fraction of k in it is >= 0.5."""
    out = np.zeros((S, S, S), np.uint8)
    ry = common.area_matrix(lab_sampled.shape[1], S)
    rx = common.area_matrix(lab_sampled.shape[2], S)
    for k in range(1, 8):
        m = (lab_sampled == k).astype(np.float64)
        frac = np.matmul(np.matmul(ry, m), rx.T)  # (z, rows, cols)
        out[(frac >= 0.5).transpose(1, 2, 0)] = k
    return out


# ------------------------------------------------------------------------------------------------
# simulated cases


def direct_case(rng, fracture_prob=0.1):
    """A training case rendered straight on the 128^3 grid (the sampled slices, the area-resized
    pixel centres, noise scaled by the area averaging): much cheaper than rendering the full series."""
    ph = sim.Phantom(rng, fracture_prob=fracture_prob)
    geo = sim.Geometry(ph, rng)
    idx = sim.sample_indices(geo.n, S)
    fov = geo.n_px * geo.dx
    c = -fov / 2 + (np.arange(S) + 0.5) * fov / S
    hu, lab, _ = ph.render(geo.zs[idx], c, c, noise=False)
    hu += np.float32(ph.noise * S / geo.n_px) * rng.standard_normal(hu.shape, dtype=np.float32)  # area averaging
    v = np.clip(hu + 1024.0, 0, 4095)
    if geo.circle:
        yy, xx = np.meshgrid(c, c, indexing='ij')
        v[:, yy ** 2 + xx ** 2 > (fov / 2) ** 2] = 0
    u8 = normalise_u8(v).transpose(1, 2, 0)
    return u8, lab.transpose(1, 2, 0).copy()


def full_case(rng, fracture_prob=0.0, n_px=None, n_slices=None, sampled_only=False):
    """A full-resolution series: stored uint16 (n, rows, cols), labels, fracture mask, geometry."""
    ph = sim.Phantom(rng, fracture_prob=fracture_prob)
    geo = sim.Geometry(ph, rng, n_px=n_px, n_slices=n_slices)
    zs = geo.zs[sim.sample_indices(geo.n, S)] if sampled_only else geo.zs
    hu, lab, frac = ph.render(zs, geo.ys, geo.xs, rng=rng)
    return sim.stored_values(hu, geo), lab, frac, geo, ph


# ------------------------------------------------------------------------------------------------
# stage 1 model


def conv_bn(cin, cout, k=3, stride=1):
    return nn.Sequential(nn.Conv3d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.c1 = nn.Conv3d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm3d(cout)
        self.c2 = nn.Conv3d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm3d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv3d(cin, cout, 1, stride, bias=False), nn.BatchNorm3d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class SpineSeg(nn.Module):
    """(N,3,D,H,W) in [0,1] (three copies of one channel) -> (N,7,D,H,W) logits; D, H, W multiples of 32.
    A residual U-Net works at half resolution and down to 1/32 (the whole neck in view); its logits
    (at 1/4) are upsampled trilinearly and added to a full-resolution per-voxel bone-ness term (the
    same for the 7 channels) that sharpens the bone boundary."""

    def __init__(self, ch=(16, 16, 32, 64, 96)):
        super().__init__()
        # full-resolution per-voxel bone-ness: a pointwise MLP of the intensity, written with elementwise
        # ops (a 1x1x1 Conv3d at 128^3 has a very slow backward on CPU)
        self.w1 = nn.Parameter(torch.linspace(-2, 2, 8).view(1, 8, 1, 1, 1))
        self.b1 = nn.Parameter(torch.zeros(1, 8, 1, 1, 1))
        self.w2 = nn.Parameter(torch.zeros(1, 8, 1, 1, 1))
        self.pool = common.FixedAvgPool(1, 2, 3)
        self.stem = conv_bn(1, ch[0], 3, 2)  # 1/4
        self.e1 = ResBlock(ch[0], ch[1])
        self.e2 = ResBlock(ch[1], ch[2], 2)  # 1/8
        self.e3 = ResBlock(ch[2], ch[3], 2)  # 1/16
        self.e4 = nn.Sequential(ResBlock(ch[3], ch[4], 2), ResBlock(ch[4], ch[4]))  # 1/32
        self.up = nn.Upsample(scale_factor=2, mode='trilinear', align_corners=False)
        self.up4 = nn.Upsample(scale_factor=4, mode='trilinear', align_corners=False)
        self.d3 = nn.Sequential(conv_bn(ch[4] + ch[3], ch[3]), conv_bn(ch[3], ch[3]))
        self.d2 = conv_bn(ch[3] + ch[2], ch[2])
        self.d1 = nn.Sequential(conv_bn(ch[2] + ch[1], ch[1], 1), conv_bn(ch[1], ch[1]))
        self.head = nn.Conv3d(ch[1], 7, 1)

    def bone(self, x):
        return (torch.relu(x * self.w1 + self.b1) * self.w2).sum(1, keepdim=True)

    def forward(self, x):
        x = (x.mean(1, keepdim=True) - 0.4) * 4.0
        return self.up4(self.coarse(self.pool(x))) + self.bone(x)

    def forward_half(self, x):
        """Training shortcut: the same network evaluated at half resolution (logits at 64^3 =
        up2(coarse) + bone(pooled input)); the pointwise bone term and the trilinear upsampling carry
        over to full resolution at inference. Elementwise work at 128^3 x 7 would dominate the cost."""
        x = (x.mean(1, keepdim=True) - 0.4) * 4.0
        p = self.pool(x)
        return self.up(self.coarse(p)) + self.bone(p)

    def coarse(self, p):
        s = self.stem(p)
        e1 = self.e1(s)
        e2 = self.e2(e1)
        e3 = self.e3(e2)
        e4 = self.e4(e3)
        d3 = self.d3(torch.cat([self.up(e4), e3], 1))
        d2 = self.d2(torch.cat([self.up(d3), e2], 1))
        d1 = self.d1(torch.cat([self.up(d2), e1], 1))
        return self.head(d1)


def seg_loss(logits, onehot):
    bce = F.binary_cross_entropy_with_logits(logits, onehot)
    p = torch.sigmoid(logits)
    dims = (0, 2, 3, 4)
    inter = (p * onehot).sum(dims)
    dice = (2 * inter + 1) / (p.sum(dims) + onehot.sum(dims) + 1)
    return bce + (1 - dice.mean())


def onehot7(lab):
    return torch.from_numpy(np.stack([(lab == k) for k in range(1, 8)], 1).astype(np.float32))


def predict_seg(model, u8):
    with torch.no_grad():
        return torch.sigmoid(model(to_input(u8)))[0].numpy()


# ------------------------------------------------------------------------------------------------
# stage 2: the pipeline's crops and the classifier


def bilinear_u8(imgs, size):
    """cv2.resize(img, (size, size), interpolation=INTER_LINEAR) of each uint8 image in imgs (..., h, w)
    (half-pixel centres, no antialiasing), rounded back to uint8."""
    t = torch.from_numpy(np.ascontiguousarray(imgs, np.float32).reshape(-1, 1, *imgs.shape[-2:]))
    r = F.interpolate(t, size=(size, size), mode='bilinear', align_corners=False).numpy()
    return np.clip(np.rint(r), 0, 255).astype(np.uint8).reshape(*imgs.shape[:-2], size, size)


def vertebra_crops(stored, prob, cid, frac=None):
    """The pipeline's stage-2 crops for vertebra cid (0..6): returns (15, 6, 224, 224) uint8, the 15
    slice indices (file order), and per-slice fracture labels when `frac` (n, rows, cols) is given.
    stored: (n, rows, cols) stored values in file order; prob: (7, 128, 128, 128) (rows, cols, slices);
    frac: (n, rows, cols) uint8 fracture map (vertebra label where a fracture changed bone)."""
    n_scans = stored.shape[0]
    m = prob[cid] > 0.2
    if not m.any():
        m = prob[cid] > 0.05
    if not m.any():
        return None, None, None
    x = np.where(m.sum(1).sum(1) > 0)[0]
    y = np.where(m.sum(0).sum(1) > 0)[0]
    z = np.where(m.sum(0).sum(0) > 0)[0]
    x1, x2 = max(0, x[0] - 1), min(S, x[-1] + 1)
    y1, y2 = max(0, y[0] - 1), min(S, y[-1] + 1)
    z1, z2 = max(0, z[0] - 1), min(S, z[-1] + 1)
    zz1, zz2 = int(z1 / S * n_scans), int(z2 / S * n_scans)
    inds = np.linspace(zz1, zz2 - 1, N_SLICE).astype(int)
    inds_ = np.linspace(z1, z2 - 1, N_SLICE).astype(int)
    rows, cols = stored.shape[1:]
    xx1, xx2 = int(x1 / S * rows), int(x2 / S * rows)
    yy1, yy2 = int(y1 / S * cols), int(y2 / S * cols)
    small = np.zeros((N_SLICE, N_CH + 1, xx2 - xx1, yy2 - yy1), np.uint8)
    msks = np.zeros((N_SLICE, x2 - x1, y2 - y1), np.uint8)
    lab = np.zeros(N_SLICE, np.float32)
    for sid, (ind, ind_) in enumerate(zip(inds, inds_)):
        imgs = []
        for i in range(-N_CH // 2 + 1, N_CH // 2 + 1):
            j = ind + i
            # the original indexes a Python list: -1 wraps to the last file, past the end gives zeros
            imgs.append(stored[j].astype(np.float64) if j < n_scans else np.zeros((rows, cols)))
        data = np.stack(imgs, -1)
        data = data - data.min()
        data = data / (data.max() + 1e-4)
        data = (data * 255).astype(np.uint8)
        small[sid, :N_CH] = data[xx1:xx2, yy1:yy2].transpose(2, 0, 1)
        msks[sid] = (prob[cid, x1:x2, y1:y2, ind_] * 255).astype(np.uint8)
        if frac is not None:
            # a fracture of this vertebra in the crop of the slices ind-1..ind+1 (at least 10 voxels)
            lo, hi = max(0, ind - 1), min(n_scans, ind + 2)
            lab[sid] = float((frac[lo:hi, xx1:xx2, yy1:yy2] == cid + 1).sum() >= 10)
    out = np.zeros((N_SLICE, N_CH + 1, CROP, CROP), np.uint8)
    out[:, :N_CH] = bilinear_u8(small[:, :N_CH], CROP)
    out[:, N_CH] = bilinear_u8(msks, CROP)
    return out, inds, lab


class FracNet(nn.Module):
    """(N,6,H,W) in [0,1] -> (N,1) per-slice fracture logits. Designed for the pipeline's 224 x 224
    crops: a fixed 4x4 average pool brings them to 56 x 56 first (the training resolution)."""

    def __init__(self):
        super().__init__()

        def cb(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.pool = common.FixedAvgPool(6, 4, 2)
        self.f = nn.Sequential(cb(6, 24), cb(24, 24), nn.MaxPool2d(2), cb(24, 48), cb(48, 48), nn.MaxPool2d(2),
                               cb(48, 64), cb(64, 64), nn.MaxPool2d(2), cb(64, 96))
        self.fc = nn.Linear(192, 1)

    def core(self, x56):
        f = self.f((x56 - 0.4) * 4.0)
        return self.fc(torch.cat([f.mean((2, 3)), f.amax((2, 3))], 1))

    def forward(self, x):
        return self.core(self.pool(x))


def pool56(crops_u8):
    """(n, 6, 224, 224) uint8 -> (n, 6, 56, 56) float32, exactly FracNet's first step."""
    with torch.no_grad():
        return F.avg_pool2d(torch.from_numpy(crops_u8.astype(np.float32) / 255.0), 4).numpy()


def case_crops(seg, stored, frac, fractured):
    """All 7 x 15 crops of one case. Returns pooled crops, per-slice labels, per-vertebra labels, raw
    uint8 crops."""
    u8 = preprocess_series(stored)
    prob = predict_seg(seg, u8)
    xs, ls, vl, raw = [], [], [], []
    for cid in range(7):
        cr, _, lab = vertebra_crops(stored, prob, cid, frac)
        if cr is None:
            continue
        xs.append(pool56(cr))
        ls.append(lab)
        vl.append((cid, float(CLASSES[cid] in fractured)))
        raw.append(cr)
    return xs, ls, vl, raw


# ------------------------------------------------------------------------------------------------


def train_stage1(model, n_train, iters1):
    t = common.Timer()
    rng = np.random.default_rng(11)
    X = np.zeros((n_train, S, S, S), np.uint8)
    Y = np.zeros((n_train, S, S, S), np.uint8)
    for i in range(n_train):
        X[i], Y[i] = direct_case(rng)
        if (i + 1) % 50 == 0:
            log(f'  stage 1 data {i + 1}/{n_train} ({t():.0f} s)')
    gen1 = t()
    log(f'stage 1 data: {n_train} simulated necks at 128^3 in {gen1:.0f} s')

    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    rng = np.random.default_rng(12)
    bs = 2
    t = common.Timer()
    losses = []
    model.train()
    for it in range(iters1):
        for g in opt.param_groups:
            g['lr'] = 2e-3 * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * it / iters1)))
        idx = rng.integers(0, n_train, bs)
        xb, yb = X[idx], Y[idx]
        if rng.random() < 0.5:  # left-right
            xb, yb = xb[:, :, ::-1], yb[:, :, ::-1]
        a = rng.uniform(0.85, 1.15)
        xt = torch.from_numpy(np.clip(np.ascontiguousarray(xb).astype(np.float32) * a, 0, 255) / 255.0)[:, None].repeat(1, 3, 1, 1, 1)
        target = F.avg_pool3d(onehot7(np.ascontiguousarray(yb)), 2)  # class fractions at 64^3
        loss = seg_loss(model.forward_half(xt), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        if (it + 1) % 50 == 0:
            log(f'  it {it + 1}/{iters1} loss {np.mean(losses[-50:]):.4f} ({t():.0f} s)')
    train1 = t()
    return gen1, train1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--stage1', help='development: load stage-1 weights from this .pt when it exists (skips stage-1 '
                                     'training), else save them there; never used for the committed outputs')
    args = ap.parse_args()
    common.setup(0)
    total = common.Timer()
    q = args.quick
    n_train = 8 if q else 300
    iters1 = 6 if q else 900
    n_held = 3 if q else 20
    n_train2 = 3 if q else 60
    iters2 = 10 if q else 1500

    model = SpineSeg()
    log(f'SpineSeg: {common.n_params(model)} parameters')
    gen1 = train1 = 0.0
    if args.stage1 and os.path.exists(args.stage1):
        model.load_state_dict(torch.load(args.stage1))
        log(f'stage 1 weights loaded from {args.stage1} (development run)')
    else:
        gen1, train1 = train_stage1(model, n_train, iters1)
        if args.stage1:
            torch.save(model.state_dict(), args.stage1)
    model.eval()
    bs = 2

    axes = {0: 'n', 2: 'rows', 3: 'cols', 4: 'slices'}
    info1 = common.export_onnx(model, torch.zeros(1, 3, S, S, S), os.path.join(common.MODELS_DIR, 'spine_seg.onnx'),
                               ['input'], ['logits'], {'input': axes, 'logits': axes})

    # ---- held-out: full-resolution series through the exact preprocessing
    t = common.Timer()
    rng = np.random.default_rng(1000)
    held = []
    dices = {c: [] for c in CLASSES}
    for i in range(n_held):
        stored, lab, frac, geo, ph = full_case(rng, fracture_prob=0.25)
        u8 = preprocess_series(stored)
        gt = labels_128(lab[sim.sample_indices(stored.shape[0], S)])
        prob = predict_seg(model, u8)
        for k, c in enumerate(CLASSES):
            dices[c].append(common.dice(prob[k] > 0.5, gt == k + 1))
        held.append({'stored': stored, 'frac': frac, 'fractured': sorted(ph.fracture), 'u8': u8, 'gt': gt,
                     'n': stored.shape[0], 'n_px': geo.n_px})
    eval1 = t()
    dice_mean = {c: float(np.mean(v)) for c, v in dices.items()}
    log('held-out Dice: ' + ', '.join(f'{c} {v:.3f}' for c, v in dice_mean.items()) + f' mean {np.mean(list(dice_mean.values())):.3f} ({eval1:.0f} s)')

    # ---- stage 2 data: full-resolution series, the stage-1 model's masks, the pipeline's crops
    t = common.Timer()
    rng = np.random.default_rng(21)
    Xs, Ls = [], []
    for i in range(n_train2):
        stored, lab, frac, geo, ph = full_case(rng, fracture_prob=0.35)
        xs, ls, _, _ = case_crops(model, stored, frac, sorted(ph.fracture))
        Xs += xs
        Ls += ls
        if (i + 1) % 10 == 0:
            log(f'  stage 2 data {i + 1}/{n_train2} ({t():.0f} s)')
    X2 = np.concatenate(Xs).astype(np.float16)
    L2 = np.concatenate(Ls)
    gen2 = t()
    log(f'stage 2 data: {len(X2)} crops from {n_train2} series, {L2.mean():.3f} positive slices ({gen2:.0f} s)')

    # ---- stage 2 training (on the 56 x 56 pooled crops = FracNet.core)
    fnet = FracNet()
    opt = torch.optim.AdamW(fnet.parameters(), lr=2e-3, weight_decay=1e-4)
    rng = np.random.default_rng(22)
    pos = np.nonzero(L2 > 0.5)[0]
    neg = np.nonzero(L2 <= 0.5)[0]
    bs2 = 32
    t = common.Timer()
    fnet.train()
    losses = []
    for it in range(iters2):
        for g in opt.param_groups:
            g['lr'] = 2e-3 * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * it / iters2)))
        idx = np.concatenate([rng.choice(pos, bs2 // 4), rng.choice(neg, bs2 - bs2 // 4)]) if len(pos) else rng.integers(0, len(L2), bs2)
        xb = X2[idx].astype(np.float32)
        if rng.random() < 0.5:
            xb = xb[..., ::-1]
        xb = torch.from_numpy(np.ascontiguousarray(xb))
        yb = torch.from_numpy(L2[idx])[:, None]
        loss = F.binary_cross_entropy_with_logits(fnet.core(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        if (it + 1) % 100 == 0:
            log(f'  it {it + 1}/{iters2} loss {np.mean(losses[-100:]):.4f} ({t():.0f} s)')
    train2 = t()
    fnet.eval()
    info2 = common.export_onnx(fnet, torch.zeros(2, 6, CROP, CROP), os.path.join(common.MODELS_DIR, 'spine_fracture.onnx'),
                               ['input'], ['logits'], {'input': {0: 'n', 2: 'h', 3: 'w'}, 'logits': {0: 'n'}})

    # ---- stage 2 held-out: the same held-out series
    t = common.Timer()
    slice_y, slice_p, vert_y, vert_p, patient_y, patient_p = [], [], [], [], [], []
    fixture_pos, fixture_neg = [], []
    for h in held:
        xs, ls, vl, raw = case_crops(model, h['stored'], h['frac'], h['fractured'])
        pv = np.zeros(7)
        for x, l, (cid, vy), r in zip(xs, ls, vl, raw):
            with torch.no_grad():
                p = torch.sigmoid(fnet.core(torch.from_numpy(x)))[:, 0].numpy()
            slice_y += list(l)
            slice_p += list(p)
            vert_y.append(vy)
            pv[cid] = np.clip(p.mean(), 1e-4, 0.9999)
            vert_p.append(pv[cid])
            for j in range(len(l)):
                (fixture_pos if l[j] > 0.5 else fixture_neg).append(r[j])
        patient_y.append(float(len(h['fractured']) > 0))
        patient_p.append(float(1 - np.prod(1 - pv)))
    eval2 = t()
    m2 = {
        'n': len(held), 'vertebrae': len(vert_y), 'fracturedVertebrae': int(sum(vert_y)), 'slices': len(slice_y),
        'positiveSlices': int(sum(slice_y)),
        'vertebraAuc': round(common.roc_auc(vert_y, vert_p), 4), 'vertebraLogLoss': round(common.log_loss(vert_y, vert_p), 4),
        'sliceAuc': round(common.roc_auc(slice_y, slice_p), 4), 'sliceLogLoss': round(common.log_loss(slice_y, slice_p), 4),
        'patientAuc': round(common.roc_auc(patient_y, patient_p), 4), 'patientLogLoss': round(common.log_loss(patient_y, patient_p), 4),
    }
    log(f'stage 2 held-out: {m2} ({eval2:.0f} s)')

    # ---- samples and references
    write_samples(model, fnet)
    write_references(model, fnet, held, fixture_pos, fixture_neg)

    # ---- cards
    prep = {
        'load': 'DICOM series (files N.dcm) or NIfTI; stored pixel values, no rescale slope/intercept, no HU window',
        'sliceOrder': ('head first: slice 1 (file 1.dcm) at the top of the neck, as in the sample series; the model was '
                       'trained in this order only, so a feet-first series must be reversed (for example: sort by '
                       'ImagePositionPatient z, descending)'),
        'zSampling': 'round(quantile(range(n), linspace(0, 1, 128))) (numpy round, half to even)',
        'perSlice': 'resize to 128 x 128, area interpolation (cv2.INTER_AREA)',
        'intensity': ('per volume: v = v - min(v); v = v / (max(v) + 1e-4) * 255 (max after the shift) -> uint8 '
                      '(truncation) -> / 255'),
        'channels': 'repeat to 3 channels',
        'layout': '(N, C, rows, cols, slices) = (1, 3, 128, 128, 128)',
    }
    hd = {'n': n_held, 'seed': 1000, 'threshold': 0.5, 'dice': {c: round(v, 4) for c, v in dice_mean.items()},
          'meanDice': round(float(np.mean(list(dice_mean.values()))), 4),
          'note': ('held-out simulated series rendered at full resolution (160..288 px, 0.6..1.5 mm slices, head-first '
                   'order), then the exact pipeline preprocessing; ground truth = per-class area fraction >= 0.5 '
                   'on the 128^3 grid; Dice per vertebra averaged over cases')}
    common.write_card('spine_seg', {
        'name': 'spine_seg', 'file': 'spine_seg.onnx', 'preset': 'spine-seg',
        'description': (f'Cervical vertebrae C1..C7 segmentation: a small residual 3D U-Net ({common.n_params(model)} parameters) '
                        'trained here on simulated neck CT. It computes at half resolution down to 1/32 and adds a full-resolution '
                        'per-voxel term; output = 7 logits per voxel of the 128^3 input.'),
        'inputs': [{'name': 'input', 'shape': [1, 3, 128, 128, 128], 'dtype': 'float32', 'range': [0, 1],
                    'note': 'three identical channels; any size that is a multiple of 32 runs, but the model was trained at 128^3'}],
        'outputs': [{'name': 'logits', 'shape': [1, 7, 128, 128, 128], 'activation': 'sigmoid'}],
        'classes': CLASSES, 'preprocessing': prep,
        'inference': {'inputSize': [128, 128, 128], 'roi': [128, 128, 128], 'overlap': [0, 0, 0], 'swBatch': 1, 'mode': 'constant',
                      'maskThreshold': 0.2, 'maskFallbackThreshold': 0.05},
        'training': {
            'data': (f'simulated: {n_train} neck CTs rendered on the 128^3 grid (tools/models/spine_sim.py: C1 ring, C2 with dens, '
                     'C3..C7 with body, arch, pillars, transverse and spinous processes; T1/T2 with ribs, skull base, mandible, '
                     'hyoid, clavicles as unlabelled bone; discs, fat, muscle, airway, lung apices; HU cortical 700..1300, '
                     'cancellous 180..380; sizes x0.85..1.15, lordosis, tilt, rotation, FOV 115..190 mm, 0.6..1.5 mm slices; '
                     '10 % of vertebrae with a simulated fracture); BCE + soft Dice on the half-resolution output (64^3, '
                     'class fractions as targets; see SpineSeg.forward_half); left-right flips; intensity scale jitter'),
            'realData': None, 'samples': n_train, 'epochs': round(iters1 * bs / n_train, 2), 'iterations': iters1, 'batch': bs,
            'seconds': round(train1, 1), 'dataSeconds': round(gen1, 1), 'seed': 0, 'script': 'tools/models/spine.py',
            'torch': torch.__version__, 'onnx': {'opset': 17, 'bytes': info1['bytes'], 'ops': info1['ops']}},
        'metrics': {'heldout': hd},
        'limitations': ('Trained only on simulated CT: geometric vertebrae, no real anatomy variation, no degenerative change, '
                        'implants or real fractures. It will not segment real CT reliably. A demo of the pipeline, not for clinical use.'),
    })
    common.write_card('spine_fracture', {
        'name': 'spine_fracture', 'file': 'spine_fracture.onnx', 'preset': 'spine-fracture',
        'description': (f'Per-slice fracture classifier ({common.n_params(fnet)} parameters) for the stage-2 crops of pipeline 2, '
                        'trained here on simulated fractures. No LSTM and no patient head: per-slice logits only.'),
        'inputs': [{'name': 'input', 'shape': ['n', 6, 224, 224], 'dtype': 'float32', 'range': [0, 1],
                    'note': 'n = 7 vertebrae x 15 slices (any n works); channels = 5 neighbouring slices + the vertebra mask'}],
        'outputs': [{'name': 'logits', 'shape': ['n', 1], 'activation': 'sigmoid'}],
        'classes': ['fracture'],
        'preprocessing': {
            'crops': ('per vertebra k: mask = prob_k > 0.2 (fallback > 0.05) on the 128^3 stage-1 output; box x1 = max(0, first - 1), '
                      'x2 = min(128, last + 1) per axis; zz = int(z / 128 * n_slices); 15 slice indices linspace(zz1, zz2 - 1, 15) '
                      'truncated, and linspace(z1, z2 - 1, 15) truncated on the 128 grid for the mask'),
            'channels': ('slices ind-2..ind+2 of the stored series (past the end -> zeros; index -1 wraps to the last file as in '
                         'the original), stacked, minus their min, / (max + 1e-4), * 255 -> uint8, cropped to the box scaled '
                         'to the series size (int), resized to 224 x 224 bilinear (cv2.INTER_LINEAR); 6th channel = '
                         '(prob_k[box, ind_] * 255) -> uint8, resized the same way'),
            'scale': 1 / 255.0,
            'resolution': 'the model average-pools 4 x 4 first (224 -> 56): it was trained on 56 x 56 pooled crops',
        },
        'inference': {'roi': [CROP, CROP], 'overlap': [0, 0], 'swBatch': 105, 'mode': 'batch',
                      'aggregate': 'C_k = clamp(mean over the 15 slices (and models) of sigmoid, 1e-4, 0.9999)',
                      'patient': 'no patient head: the held-out patient metric uses 1 - prod(1 - C_k)'},
        'training': {
            'data': (f'simulated: {n_train2} full-resolution neck CTs with fractures (35 % of C1..C7: a 0.8..2.2 mm plane through '
                     'part of the body or arch, bone replaced by soft tissue, one side shifted by up to 1.5 mm); masks from the '
                     'trained spine_seg model; crops exactly as the pipeline; slice label = at least 10 voxels of this '
                     "vertebra's fracture in the crop of slices ind-1..ind+1; BCE, 1 positive to 3 negatives per batch, "
                     'left-right flips'),
            'realData': None, 'samples': int(len(X2)), 'positives': int(L2.sum()), 'epochs': round(iters2 * bs2 / len(X2), 2),
            'iterations': iters2, 'batch': bs2, 'seconds': round(train2, 1), 'dataSeconds': round(gen2, 1), 'seed': 0,
            'script': 'tools/models/spine.py', 'torch': torch.__version__,
            'onnx': {'opset': 17, 'bytes': info2['bytes'], 'ops': info2['ops']}},
        'metrics': {'heldout': m2},
        'limitations': ('Trained only on simulated fracture lines in simulated vertebrae; real fractures look different. '
                        'A demo of the pipeline, not for clinical use.'),
    })
    log(f'total {total():.0f} s')


def write_dicom_series(folder, stored, geo, seed):
    import pydicom
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    rng = np.random.default_rng(seed)
    uid = lambda: '2.25.' + str(int.from_bytes(rng.bytes(15), 'big'))  # noqa: E731
    study, series, frame = uid(), uid(), uid()
    for i in range(stored.shape[0]):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2'
        sop = uid()
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = '2.25.1'
        path = os.path.join(folder, f'{i + 1}.dcm')
        ds = FileDataset(path, {}, file_meta=meta, preamble=b'\0' * 128)
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = sop
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.FrameOfReferenceUID = frame
        ds.Modality = 'CT'
        ds.PatientName = 'SIMULATED^NECK'
        ds.PatientID = 'SIM-NECK-001'
        ds.PatientPosition = 'HFS'
        ds.StudyDescription = 'Simulated neck CT (Voxelbench demo)'
        ds.SeriesDescription = 'simulated cervical spine, tools/models/spine.py'
        ds.Manufacturer = 'Voxelbench simulation'
        ds.SeriesNumber = 1
        ds.InstanceNumber = i + 1
        z = float(geo.zs[i])
        ds.ImagePositionPatient = [f'{geo.xs[0]:.4f}', f'{geo.ys[0]:.4f}', f'{z:.4f}']
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.SliceLocation = f'{z:.4f}'
        ds.PixelSpacing = [f'{geo.dx:.6f}', f'{geo.dx:.6f}']
        ds.SliceThickness = f'{geo.dz:.4f}'
        ds.SpacingBetweenSlices = f'{geo.dz:.4f}'
        ds.KVP = '120'
        ds.RescaleIntercept = '-1024'
        ds.RescaleSlope = '1'
        ds.RescaleType = 'HU'
        ds.WindowCenter = '500'
        ds.WindowWidth = '2000'
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = 'MONOCHROME2'
        ds.Rows, ds.Columns = stored.shape[1], stored.shape[2]
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.PixelData = np.ascontiguousarray(stored[i].astype('<u2')).tobytes()
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        ds.save_as(path, write_like_original=False)


def write_nifti(path, vol_zyx, geo, dtype=np.int16):
    """(slices in file order, rows, cols) -> NIfTI (i = cols, j = rows, k = file order), RAS affine."""
    import nibabel as nib

    aff = np.array([[-geo.dx, 0, 0, -geo.xs[0]], [0, -geo.dx, 0, -geo.ys[0]], [0, 0, -geo.dz, geo.zs[0]], [0, 0, 0, 1]], np.float64)
    img = nib.Nifti1Image(np.ascontiguousarray(vol_zyx.transpose(2, 1, 0)).astype(dtype), aff)
    img.set_qform(aff, code=1)
    img.set_sform(aff, code=1)
    img.header.set_xyzt_units('mm')
    nib.save(img, path)


def write_samples(model, fnet):
    os.makedirs(SAMPLES_DIR, exist_ok=True)
    rng = np.random.default_rng(5000)
    stored, lab, frac, geo, ph = full_case(rng, fracture_prob=0.0, n_px=160, n_slices=None)
    # force one fracture in C5 for the demo
    rng2 = np.random.default_rng(5001)
    ph.rng = rng2
    ph.fracture = {'C5': ph._make_fracture('C5')}
    hu, lab, frac = ph.render(geo.zs, geo.ys, geo.xs, rng=rng2)
    stored = sim.stored_values(hu, geo)
    log(f'sample sim_neck: {stored.shape[0]} slices {geo.n_px}^2, dx {geo.dx:.3f} mm, dz {geo.dz:.3f} mm, fracture in C5')
    write_dicom_series(os.path.join(SAMPLES_DIR, 'sim_neck'), stored, geo, seed=5002)
    write_nifti(os.path.join(SAMPLES_DIR, 'sim_neck.nii.gz'), stored.astype(np.int32) - 1024, geo)
    write_nifti(os.path.join(SAMPLES_DIR, 'sim_neck_labels.nii.gz'), lab, geo, np.uint8)
    with open(os.path.join(SAMPLES_DIR, 'sim_neck_labels.csv'), 'w') as f:
        f.write('StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7\n')
        import pydicom
        study = pydicom.dcmread(os.path.join(SAMPLES_DIR, 'sim_neck', '1.dcm')).StudyInstanceUID
        f.write(f'{study},1,0,0,0,0,1,0,0\n')
    u8 = preprocess_series(stored)
    prob = predict_seg(model, u8)
    gt = labels_128(lab[sim.sample_indices(stored.shape[0], S)])
    d = [common.dice(prob[k] > 0.5, gt == k + 1) for k in range(7)]
    log('sample Dice: ' + ' '.join(f'{c} {v:.3f}' for c, v in zip(CLASSES, d)))
    if os.path.isdir(REAL_CT):
        dst = os.path.join(SAMPLES_DIR, 'real_totalseg_j2k')
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        shutil.copytree(REAL_CT, dst)
        with open(os.path.join(dst, 'ATTRIBUTION.md'), 'w') as f:
            f.write(REAL_ATTRIBUTION)
    else:
        log(f'note: {REAL_CT} not found; public/samples/ct/real_totalseg_j2k left as it is')


REAL_ATTRIBUTION = """# Real CT series (JPEG 2000 lossless DICOM)

20 axial CT slices (SIEMENS Biograph40_mCT, 512 x 512, 0.977 mm pixels, 3 mm slices, RescaleSlope 1 /
RescaleIntercept -1024, Transfer Syntax JPEG 2000 Lossless 1.2.840.10008.1.2.4.90), abdominal, not a neck:
the cervical-spine models find nothing meaningful here; the series shows that real compressed DICOM loads and runs.

- Source: https://github.com/wasserth/TotalSegmentator at commit 0e65a448d557382b1e925276212b3bec7f5aff83,
  `tests/reference_files/example_ct_dicom/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573` .. `...16592`
  (".dcm" added to the file names; bytes unchanged).
- License: the TotalSegmentator repository is Apache-2.0; the test images carry no license of their own. The
  TotalSegmentator CT dataset is published on Zenodo under CC BY 4.0 (not verified for these files).
- Collected via ../shared/data/ct/totalseg_example_ct_dicom (see ../shared/data/MANIFEST.md).
"""


def write_references(model, fnet, held, fixture_pos, fixture_neg):
    os.makedirs(REF_SEG, exist_ok=True)
    os.makedirs(REF_FRAC, exist_ok=True)
    # stage 1 parity: a 32^3 input (a crop of a held-out case around C4, 3 channels)
    h = held[0]
    c4 = np.argwhere(h['gt'] == 4)
    cz = c4.mean(0).astype(int) if len(c4) else np.array([64, 64, 64])
    lo = np.clip(cz - 16, 0, S - 32)
    crop = h['u8'][lo[0]:lo[0] + 32, lo[1]:lo[1] + 32, lo[2]:lo[2] + 32]
    x = np.repeat(crop[None, None].astype(np.float32) / 255.0, 3, 1)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    common.save_npy(os.path.join(REF_SEG, 'input.npy'), x)
    common.save_npy(os.path.join(REF_SEG, 'output.npy'), y.astype(np.float32))
    # stage 1 held-out subset: 2 whole cases (uint8 128^3 before / 255, gzip) + labels
    k = min(2, len(held))
    xs = np.stack([held[i]['u8'] for i in range(k)])
    gts = np.stack([held[i]['gt'] for i in range(k)])
    for name, arr in (('heldout_inputs.npy.gz', xs), ('heldout_labels.npy.gz', gts)):
        with gzip.GzipFile(os.path.join(REF_SEG, name), 'wb', mtime=0) as f:
            np.save(f, arr)
    per_case = []
    for i in range(k):
        prob = predict_seg(model, xs[i])
        per_case.append([common.dice(prob[c] > 0.5, gts[i] == c + 1) for c in range(7)])
    per_case = np.array(per_case)
    common.save_json(os.path.join(REF_SEG, 'heldout_metric.json'), {
        'metric': 'dice', 'threshold': 0.5, 'classes': CLASSES, 'perCase': per_case.tolist(),
        'perClass': per_case.mean(0).tolist(), 'value': float(per_case.mean()),
        'note': ('computed by tools/models/spine.py with PyTorch on heldout_inputs.npy.gz (uint8 (n, rows, cols, slices); '
                 'input = repeat(x / 255, 3 channels)) against heldout_labels.npy.gz (0 = background, k = C_k)')})
    # stage 2 parity: 2 crops at 224; held-out subset: up to 8 positive and 8 negative held-out crops (uint8, gzip)
    rng = np.random.default_rng(7)
    pos = [fixture_pos[i] for i in sorted(rng.choice(len(fixture_pos), min(8, len(fixture_pos)), replace=False))] if fixture_pos else []
    neg = [fixture_neg[i] for i in sorted(rng.choice(len(fixture_neg), min(8, len(fixture_neg)), replace=False))]
    crops = np.stack(pos + neg)
    labels = [1] * len(pos) + [0] * len(neg)
    # parity input: two held-out crops resized to 96 x 96 (the network accepts any size; the held-out
    # check below runs the real 224 x 224 crops)
    x = F.interpolate(torch.from_numpy(crops[[0, len(crops) - 1]].astype(np.float32) / 255.0), size=(96, 96),
                      mode='bilinear', align_corners=False).numpy()
    with torch.no_grad():
        y = fnet(torch.from_numpy(x)).numpy()
    common.save_npy(os.path.join(REF_FRAC, 'input.npy'), x)
    common.save_npy(os.path.join(REF_FRAC, 'output.npy'), y.astype(np.float32))
    with gzip.GzipFile(os.path.join(REF_FRAC, 'heldout_inputs.npy.gz'), 'wb', mtime=0) as f:
        np.save(f, crops)
    with torch.no_grad():
        p = torch.sigmoid(fnet(torch.from_numpy(crops.astype(np.float32) / 255.0)))[:, 0].numpy()
    common.save_json(os.path.join(REF_FRAC, 'heldout_labels.json'), {'labels': labels, 'shape': list(crops.shape), 'dtype': 'uint8',
                                                                    'scale': 1 / 255.0})
    common.save_json(os.path.join(REF_FRAC, 'heldout_metric.json'), {
        'metric': 'auc', 'value': common.roc_auc(labels, p), 'logLoss': common.log_loss(labels, p), 'probabilities': p.tolist(),
        'note': 'slice-level AUC and log loss computed by tools/models/spine.py with PyTorch on heldout_inputs.npy.gz / 255'})
    log(f'references: seg fixture Dice {per_case.mean():.3f}; fracture fixture AUC {common.roc_auc(labels, p):.3f}')


if __name__ == '__main__':
    main()
