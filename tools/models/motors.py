"""Train the demo flagellar-motor heatmap model on simulated tomograms, export it to ONNX, evaluate
it on held-out simulated tomograms, and write the samples, the model card and the test references.

    /usr/bin/python3 tools/models/motors.py            # everything (about 12 minutes on one core)
    /usr/bin/python3 tools/models/motors.py --quick    # a smoke run (tiny training, nothing committed-grade)

Outputs:
    public/models/motor_heatmap.onnx, public/models/motor_heatmap.json (model card)
    public/samples/tomograms/{tomo_sim_*.mrc, tomo_sim_*/slice_%04d.jpg, labels.csv}
    tests/fixtures/reference/motors/{input.npy, output.npy, heldout_*.npy, heldout_labels.json, heldout_metric.json}
"""
import argparse
import csv
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
import motors_sim as sim  # noqa: E402

NAME = 'motor_heatmap'
STRIDE = 4
CROP = (32, 64, 64)
TOMO = (64, 192, 192)  # simulated tomogram size = demo inference size
HM_SIGMA = 1.0  # heatmap Gaussian sigma in output cells (= 4 voxels)
QUANTILE = 0.545
SAMPLES_DIR = os.path.join(common.ROOT, 'public', 'samples', 'tomograms')
REF = os.path.join(common.REF_DIR, 'motors')


# ------------------------------------------------------------------------------------------------
# model: 3D U-Net with a ResNet-style encoder (basic residual blocks), decoder = trilinear upsample +
# conv (no ConvTranspose3d, so that onnxruntime-web's WebGPU backend runs it), output at stride 4


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


class MotorNet(nn.Module):
    """(N,1,D,H,W) in [0,1] -> (N,1,D/4,H/4,W/4) logits. D, H, W must be multiples of 32.
    The tomograms are low-passed (the missing wedge and the CTF), so the network starts with a 2x2x2
    average pool and works at 1/2 .. 1/32 resolution; the decoder (trilinear upsampling + conv)
    comes back to 1/4."""

    def __init__(self, ch=(8, 16, 24, 48, 64)):
        super().__init__()
        self.pool = common.FixedAvgPool(1, 2, 3)
        self.stem = conv_bn(1, ch[0])  # 1/2
        self.enc2 = nn.Sequential(ResBlock(ch[0], ch[1], 2), ResBlock(ch[1], ch[2]))  # 1/4
        self.enc3 = nn.Sequential(ResBlock(ch[2], ch[3], 2), ResBlock(ch[3], ch[3]))  # 1/8
        self.enc4 = nn.Sequential(ResBlock(ch[3], ch[4], 2), ResBlock(ch[4], ch[4]))  # 1/16
        self.enc5 = ResBlock(ch[4], ch[4], 2)  # 1/32
        self.up = nn.Upsample(scale_factor=2, mode='trilinear', align_corners=False)
        self.dec4 = conv_bn(ch[4] + ch[4], ch[4])
        self.dec3 = conv_bn(ch[4] + ch[3], ch[3])
        self.dec2 = nn.Sequential(conv_bn(ch[3] + ch[2], ch[2], 1), conv_bn(ch[2], ch[2]))
        self.head = nn.Conv3d(ch[2], 1, 1)

    def forward(self, x):
        x = (x - 0.5) * 4.0  # fixed affine to a roughly unit range (inputs are uint8 / 255)
        s = self.stem(self.pool(x))
        e2 = self.enc2(s)
        e3 = self.enc3(e2)
        e4 = self.enc4(e3)
        e5 = self.enc5(e4)
        d4 = self.dec4(torch.cat([self.up(e5), e4], 1))
        d3 = self.dec3(torch.cat([self.up(d4), e3], 1))
        d2 = self.dec2(torch.cat([self.up(d3), e2], 1))
        return self.head(d2)


# ------------------------------------------------------------------------------------------------
# data


def make_pool(n_scenes, seed, windows_per_scene=4):
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for i in range(n_scenes):
        sc = sim.make_scene(rng, TOMO)
        for k in range(windows_per_scene):
            if sc['motor'] is not None and k < windows_per_scene - 1:
                # a window containing the motor (not always centred)
                c = sc['motor']
                o = [int(np.clip(np.round(c[d] - rng.uniform(4, CROP[d] - 4)), 0, TOMO[d] - CROP[d])) for d in range(3)]
            else:
                o = [int(rng.integers(0, TOMO[d] - CROP[d] + 1)) for d in range(3)]
            xs.append(sim.render_window(sc, o, CROP, rng))
            ys.append(sim.heatmap_target(sc, o, CROP, STRIDE, HM_SIGMA))
        if (i + 1) % 50 == 0:
            log(f'  pool: {i + 1}/{n_scenes} scenes')
    return np.stack(xs), np.stack(ys)


def augment(x, y, rng):
    """x (B,1,D,H,W) uint8 -> float [0,1]; flips of each axis, 90-degree turns in y-x, contrast."""
    x = x.astype(np.float32)
    for ax in (2, 3, 4):
        if rng.random() < 0.5:
            x = np.flip(x, ax)
            y = np.flip(y, ax)
    k = int(rng.integers(0, 4))
    x = np.rot90(x, k, (3, 4))
    y = np.rot90(y, k, (3, 4))
    a = rng.uniform(0.75, 1.3, (x.shape[0], 1, 1, 1, 1)).astype(np.float32)
    b = rng.uniform(-15, 15, (x.shape[0], 1, 1, 1, 1)).astype(np.float32)
    x = np.clip(np.rint((x - 127.5) * a + 127.5 + b), 0, 255) / 255.0
    return torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(np.ascontiguousarray(y, np.float32))


# ------------------------------------------------------------------------------------------------
# evaluation (the pipeline's post-processing)


def predict_point(model, vol_u8):
    """Whole-volume inference; argmax -> (index + 0.5) / heatmap shape * original shape; score = max sigmoid."""
    with torch.no_grad():
        x = torch.from_numpy(vol_u8.astype(np.float32) / 255.0)[None, None]
        hm = torch.sigmoid(model(x))[0, 0].numpy()
    i = np.unravel_index(int(np.argmax(hm)), hm.shape)
    coord = [(i[d] + 0.5) / hm.shape[d] * vol_u8.shape[d] for d in range(3)]
    return coord, float(hm.max()), hm


def score_batch(coords, scores, true_pts, has_true, spacing):
    cut = common.quantile_linear(scores, QUANTILE)
    has_pred = np.asarray(scores) > cut
    pred = np.where(has_pred[:, None], np.asarray(coords), -1.0)
    f, p, r, tp, fp, fn = common.fbeta_byu(true_pts, has_true, pred, has_pred, spacing)
    return {'fbeta2': f, 'precision': p, 'recall': r, 'tp': tp, 'fp': fp, 'fn': fn, 'cutoff': cut}


def scene_with(rng, motor, shape=TOMO):
    """A scene that surely has (or has not) a motor: scenes where none could be placed are redrawn."""
    while True:
        sc = sim.make_scene(rng, shape, motor=motor)
        if (sc['motor'] is not None) == motor:
            return sc


def heldout_scenes(n, seed):
    rng = np.random.default_rng(seed)
    return [(scene_with(rng, i % 2 == 0), rng) for i in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--samples-only', action='store_true', help='rewrite public/samples/tomograms only (no training)')
    args = ap.parse_args()
    common.setup(0)
    if args.samples_only:
        write_samples(None, seed=2000)
        return
    total = common.Timer()
    n_scenes = 12 if args.quick else 360
    iters = 20 if args.quick else 1800
    n_heldout = 6 if args.quick else 40

    # ---- data
    t = common.Timer()
    X, Y = make_pool(n_scenes, seed=1)
    gen_s = t()
    log(f'training pool: {X.shape[0]} windows {CROP} from {n_scenes} simulated tomograms in {gen_s:.0f} s; '
        f'{float((Y.max(axis=(1, 2, 3)) > 0.5).mean()):.2f} with a motor')
    X = X[:, None]
    Y = Y[:, None]

    # ---- train
    model = MotorNet()
    log(f'MotorNet: {common.n_params(model)} parameters')
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    rng = np.random.default_rng(2)
    bs = 8
    t = common.Timer()
    losses = []
    model.train()
    for it in range(1, iters + 1):
        frac = (it - 1) / iters
        for g in opt.param_groups:
            g['lr'] = 2e-3 * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * frac)))
        idx = rng.integers(0, X.shape[0], bs)
        xb, yb = augment(X[idx], Y[idx], rng)
        logits = model(xb)
        loss = F.binary_cross_entropy_with_logits(logits, yb, pos_weight=torch.tensor(4.0))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        if it % 100 == 0:
            log(f'  it {it} loss {np.mean(losses[-100:]):.4f} ({t():.0f} s)')
    train_time = t()
    epochs = it * bs / X.shape[0]
    log(f'trained {it} iterations ({epochs:.1f} passes over the pool) in {train_time:.0f} s')
    model.eval()

    # ---- export
    os.makedirs(common.MODELS_DIR, exist_ok=True)
    onnx_path = os.path.join(common.MODELS_DIR, f'{NAME}.onnx')
    axes = {0: 'n', 2: 'd', 3: 'h', 4: 'w'}
    info = common.export_onnx(model, torch.zeros(1, 1, *CROP), onnx_path, ['input'], ['heatmap'],
                              {'input': axes, 'heatmap': {0: 'n', 2: 'd_out', 3: 'h_out', 4: 'w_out'}})

    # ---- held-out evaluation on whole simulated tomograms
    t = common.Timer()
    held = heldout_scenes(n_heldout, seed=1000)
    coords, scores, true_pts, has_true, dists = [], [], [], [], []
    vols = []
    for i, (sc, r) in enumerate(held):
        vol = sim.render_tomogram(sc, r)
        c, s, _ = predict_point(model, vol)
        coords.append(c)
        scores.append(s)
        has = sc['motor'] is not None
        has_true.append(has)
        true_pts.append(list(sc['motor']) if has else [-1.0, -1.0, -1.0])
        dists.append(float(np.linalg.norm(np.array(c) - sc['motor'])) if has else None)
        if i < 12:
            vols.append((vol, sc))
    spacing = np.full(n_heldout, sim.SPACING_A)
    res = score_batch(coords, scores, true_pts, has_true, spacing)
    thr_vox = 1000.0 / sim.SPACING_A
    located = [d is not None and d <= thr_vox for d in dists]
    pos_scores = [s for s, h in zip(scores, has_true) if h]
    neg_scores = [s for s, h in zip(scores, has_true) if not h]
    auc = common.roc_auc(has_true, scores)
    eval_s = t()
    log(f'held-out ({n_heldout} tomograms {TOMO}): F2 {res["fbeta2"]:.3f} P {res["precision"]:.3f} R {res["recall"]:.3f} '
        f'tp {res["tp"]} fp {res["fp"]} fn {res["fn"]}; located {sum(located)}/{sum(has_true)}; score AUC {auc:.3f} ({eval_s:.0f} s)')

    # ---- samples: 4 simulated tomograms (2 with a motor, 2 without), MRC + JPEG folders + labels.csv
    write_samples(model, seed=2000)

    # ---- test references
    write_references(model, seed=3000)

    # ---- card
    card = {
        'name': NAME,
        'file': f'{NAME}.onnx',
        'preset': 'motors',
        'description': ('Flagellar-motor heatmap: a small 3D U-Net with a ResNet-style 3D encoder (basic residual blocks, '
                        f'{common.n_params(model)} parameters), trained here on simulated cryo-ET tomograms. It outputs one logit '
                        'per 4x4x4 voxel cell; the highest sigmoid value is the motor candidate and its score.'),
        'inputs': [{'name': 'input', 'shape': ['n', 1, 'd', 'h', 'w'], 'dtype': 'float32', 'range': [0, 1],
                    'note': 'uint8 tomogram / 255 (done by the preset, not inside the model); d, h, w multiples of 32'}],
        'outputs': [{'name': 'heatmap', 'shape': ['n', 1, 'd/4', 'h/4', 'w/4'], 'stride': STRIDE, 'activation': 'sigmoid'}],
        'classes': ['motor'],
        'preprocessing': {
            'load': 'tomogram as uint8 (z, y, x): JPEG slice folder slice_%04d.jpg sorted by name, or MRC/REC',
            'resize': {'to': list(TOMO), 'order': 1, 'gridMode': False, 'round': True, 'clip': [0, 255],
                       'note': f'the demo samples are already {TOMO[0]} x {TOMO[1]} x {TOMO[2]} at the training scale '
                               '(40 A voxels; motors are 12 to 20 voxels across); real tomograms must be resized so that '
                               'their voxels are about 40 A'},
            'scale': 1 / 255.0,
        },
        'inference': {'inputSize': list(TOMO), 'roi': [64, 128, 128], 'overlap': [0.0, 0.5, 0.5], 'swBatch': 1, 'mode': 'constant',
                      'weightMap': 'byu-margin-30', 'tta': ['identity', 'flipD', 'flipH'],
                      'postprocess': {'peak': 'argmax', 'coordinate': '(index + 0.5) / heatmap_shape * original_shape',
                                      'score': 'max', 'quantile': QUANTILE}},
        'training': {
            'data': (f'simulated: {n_scenes} tomograms {TOMO} (tools/models/motors_sim.py: cells with double membranes, '
                     'ribosome-like blobs, granules, filaments, vesicles, gold dots, bare flagella; motor in about half: '
                     'C-ring R 6-10 voxels + bell + MS-ring + rod + flagellum along the membrane normal; Gaussian noise, '
                     'low-pass, +-55..65 degree missing wedge about y, real cryo-ET texture, 8-bit stretch of mean +- 3.2 std '
                     'per training window, per tomogram for the held-out set and the samples), '
                     f'{X.shape[0]} training windows {CROP}; target = Gaussian heatmap (sigma {HM_SIGMA} cell) at stride {STRIDE}; '
                     'BCE with logits (pos_weight 4); flips, 90-degree turns in y-x, contrast/brightness jitter'),
            'realData': ('high-passed texture from a real cryo-ET tomogram crop (hanjinliu/cylindra tests/14pf_MT.tif, BSD-3-Clause, '
                         'via tests/fixtures/io/14pf_MT_derived_int16.rec) mixed into the background; no real motors'),
            'samples': int(X.shape[0]), 'epochs': round(epochs, 2), 'iterations': it, 'batch': bs, 'seconds': round(train_time, 1),
            'dataSeconds': round(gen_s, 1), 'seed': 0, 'script': 'tools/models/motors.py', 'torch': torch.__version__,
            'onnx': {'opset': 17, 'bytes': info['bytes'], 'ops': info['ops']},
        },
        'metrics': {'heldout': {
            'n': n_heldout, 'withMotor': int(sum(has_true)), 'shape': list(TOMO), 'seed': 1000,
            'fbeta2': round(res['fbeta2'], 4), 'precision': round(res['precision'], 4), 'recall': round(res['recall'], 4),
            'tp': res['tp'], 'fp': res['fp'], 'fn': res['fn'], 'quantile': QUANTILE, 'scoreCutoff': round(res['cutoff'], 4),
            'located': int(sum(located)), 'scoreAuc': round(auc, 4),
            'meanScoreWithMotor': round(float(np.mean(pos_scores)), 4), 'meanScoreWithout': round(float(np.mean(neg_scores)), 4),
            'voxelSpacingA': sim.SPACING_A, 'distanceThresholdVoxels': thr_vox,
            'inference': 'whole tomogram in one window, no TTA, one model',
            'note': ('F-beta 2 exactly as the BYU 2025 metric, with the 1000 A threshold over the simulated spacing of 40 A = 25 voxels '
                     f'(about {100 * 25 / TOMO[1]:.0f} % of the {TOMO[1]}-voxel width; 1000 A on a real BYU tomogram of about 15 A '
                     'and 900 voxels is about 7 %); half of the held-out tomograms have a motor'),
        }},
        'limitations': ('Trained only on simulated tomograms (plus real background texture); it has never seen a real flagellar motor. '
                        'Expect it to fail on real data, other voxel sizes and other contrast conventions (protein is dark here). '
                        'A demo of the pipeline, not for research use.'),
    }
    common.write_card(NAME, card)
    log(f'total {total():.0f} s')


def save_mrc(path, vol):
    """uint8 as MRC mode 0 with IMOD's stamp and the "signed bytes" flag clear, i.e. unsigned bytes as
    IMOD writes them (mrcfile would widen uint8 to mode 6, twice the size)."""
    import mrcfile

    with mrcfile.new(path, overwrite=True) as m:
        m.set_data(np.ascontiguousarray(vol, np.uint8).view(np.int8))
        m.voxel_size = sim.SPACING_A
    with open(path, 'r+b') as f:  # header words 39 and 40 (bytes 152, 156): imodStamp 'IMOD', imodFlags 0
        f.seek(152)
        f.write(np.array([1146047817, 0], '<i4').tobytes())
        f.seek(224)  # label 0 without mrcfile's time stamp, so that reruns give the same bytes
        f.write(b'Voxelbench simulated tomogram, tools/models/motors.py'.ljust(80))


def save_jpeg_folder(folder, vol):
    from PIL import Image

    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    for z in range(vol.shape[0]):
        Image.fromarray(vol[z], mode='L').save(os.path.join(folder, f'slice_{z:04d}.jpg'), quality=95)


def write_samples(model, seed):
    os.makedirs(SAMPLES_DIR, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    # two with a motor, two without: with the pipeline's quantile 0.545 the top two scores pass
    specs = [('tomo_sim_001', True), ('tomo_sim_002', False), ('tomo_sim_003', True), ('tomo_sim_004', False)]
    for name, motor in specs:
        sc = scene_with(rng, motor)
        vol = sim.render_tomogram(sc, rng)
        save_mrc(os.path.join(SAMPLES_DIR, f'{name}.mrc'), vol)
        save_jpeg_folder(os.path.join(SAMPLES_DIR, name), vol)
        m = sc['motor']
        if model is not None:
            c, s, _ = predict_point(model, vol)
            log(f'sample {name}: motor {None if m is None else np.round(m, 1).tolist()} predicted {np.round(c, 1).tolist()} score {s:.3f}')
        rows.append([name, *(np.round(m).astype(int).tolist() if m is not None else [-1, -1, -1]), *TOMO, sim.SPACING_A,
                     1 if m is not None else 0])
    with open(os.path.join(SAMPLES_DIR, 'labels.csv'), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['row_id', 'tomo_id', 'Motor axis 0', 'Motor axis 1', 'Motor axis 2', 'Array shape (axis 0)',
                    'Array shape (axis 1)', 'Array shape (axis 2)', 'Voxel spacing', 'Number of motors'])
        for i, r in enumerate(rows):
            w.writerow([i, *r])


def write_references(model, seed):
    """input/output parity pair and a small held-out set (windows of fresh held-out tomograms)."""
    os.makedirs(REF, exist_ok=True)
    rng = np.random.default_rng(seed)
    # parity: one 32 x 64 x 64 window, float32 in [0, 1]
    sc = scene_with(rng, True)
    c = sc['motor']
    o = [int(np.clip(c[d] - [16, 32, 32][d], 0, TOMO[d] - [32, 64, 64][d])) for d in range(3)]
    x = sim.render_window(sc, o, (32, 64, 64), rng).astype(np.float32)[None, None] / 255.0
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    common.save_npy(os.path.join(REF, 'input.npy'), x.astype(np.float32))
    common.save_npy(os.path.join(REF, 'output.npy'), y.astype(np.float32))
    # held-out set: 10 windows 32 x 96 x 96 (uint8) cut from 10 fresh tomograms, half with a motor in the window
    shape = (32, 96, 96)
    vols, labels = [], []
    for i in range(10):
        want = i % 2 == 0
        sc = scene_with(rng, want)
        if want:
            m = sc['motor']
            o = [int(np.clip(np.round(m[d] - rng.uniform(6, shape[d] - 6)), 0, TOMO[d] - shape[d])) for d in range(3)]
        else:
            o = [int(rng.integers(0, TOMO[d] - shape[d] + 1)) for d in range(3)]
        v = sim.render_window(sc, o, shape, rng)
        m = sc['motor']
        inside = m is not None and all(0 <= m[d] - o[d] < shape[d] for d in range(3))
        pt = [float(m[d] - o[d]) for d in range(3)] if inside else [-1.0, -1.0, -1.0]
        vols.append(v)
        labels.append({'tomo_id': f'heldout_{i:02d}', 'motor': pt, 'hasMotor': bool(inside)})
    vols = np.stack(vols)
    common.save_npy(os.path.join(REF, 'heldout_inputs.npy'), vols)
    coords, scores = [], []
    for v in vols:
        cc, s, _ = predict_point(model, v)
        coords.append(cc)
        scores.append(s)
    res = score_batch(coords, scores, [l['motor'] for l in labels], [l['hasMotor'] for l in labels],
                      np.full(len(labels), sim.SPACING_A))
    common.save_json(os.path.join(REF, 'heldout_labels.json'), {
        'shape': list(vols.shape), 'dtype': 'uint8', 'scale': 1 / 255.0, 'voxelSpacing': sim.SPACING_A, 'quantile': QUANTILE,
        'cases': labels})
    common.save_json(os.path.join(REF, 'heldout_metric.json'), {
        'metric': 'fbeta2', 'value': res['fbeta2'], 'precision': res['precision'], 'recall': res['recall'],
        'tp': res['tp'], 'fp': res['fp'], 'fn': res['fn'], 'cutoff': res['cutoff'],
        'scores': scores, 'coords': coords, 'quantile': QUANTILE, 'minRadiusA': 1000.0,
        'note': 'computed by tools/models/motors.py with PyTorch on exactly heldout_inputs.npy / 255 (whole window, no TTA)'})
    log(f'reference held-out ({len(vols)} windows {shape}): F2 {res["fbeta2"]:.3f} tp {res["tp"]} fp {res["fp"]} fn {res["fn"]}')


if __name__ == '__main__':
    main()
