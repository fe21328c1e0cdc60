"""Shared helpers for the demo-model training scripts (tools/models/*.py).

Run the scripts with Debian's python3 (torch 1.13 CPU, onnx, numpy, scipy): everything here is
deterministic for a fixed seed and single-threaded (the build machine has 2 shared cores).
"""
import functools
import json
import os
import time

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
MODELS_DIR = os.path.join(ROOT, 'public', 'models')
REF_DIR = os.path.join(ROOT, 'tests', 'fixtures', 'reference')


def setup(seed=0):
    """Single thread, fixed seeds, deterministic kernels where torch has them."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def rel(path):
    return os.path.relpath(path, ROOT)


class Timer:
    def __init__(self):
        self.t0 = time.time()

    def __call__(self):
        return time.time() - self.t0


def log(*a):
    print(time.strftime('%H:%M:%S'), *a, flush=True)


# --------------------------------------------------------------------------------------------
# ONNX export


def export_onnx(model, example, path, input_names, output_names, dynamic_axes, max_mb=10.0):
    """Export in eval mode, opset 17, float32; refuse ConvTranspose (WebGPU cannot run 3D ones)."""
    import onnx

    model.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, example, path, opset_version=17, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    if 'ConvTranspose' in ops:
        raise RuntimeError(f'{path}: ConvTranspose in the graph')
    size = os.path.getsize(path)
    if size > max_mb * 1e6:
        raise RuntimeError(f'{path}: {size / 1e6:.1f} MB is over {max_mb} MB')
    log(f'exported {rel(path)}: {size / 1e6:.2f} MB, ops {ops}')
    return {'bytes': size, 'ops': ops, 'opset': 17}


def write_card(name, card):
    path = os.path.join(MODELS_DIR, f'{name}.json')
    with open(path, 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    log('wrote', rel(path))


def save_npy(path, arr):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, np.ascontiguousarray(arr))


def save_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1)
        f.write('\n')


def n_params(model):
    return int(sum(p.numel() for p in model.parameters()))


# --------------------------------------------------------------------------------------------
# Metrics (the TypeScript tests recompute them: tests/models3d.test.ts)


def fbeta_byu(true_pts, has_true, pred_pts, has_pred, spacing, beta=2.0, min_radius=1000.0):
    """BYU 2025 competition metric: a predicted motor on a tomogram with a motor counts as a
    positive prediction only if it lies within min_radius / spacing voxels of the true motor
    (otherwise it becomes a negative prediction, i.e. a false negative); a prediction on a
    tomogram without a motor is a false positive. Then sklearn's fbeta_score on the 0/1 labels.
    Returns (fbeta, precision, recall, tp, fp, fn)."""
    true_pts = np.asarray(true_pts, np.float64)
    pred_pts = np.asarray(pred_pts, np.float64)
    has_true = np.asarray(has_true, bool)
    has_pred = np.asarray(has_pred, bool).copy()
    dist = np.linalg.norm(true_pts - pred_pts, axis=1)
    thr = min_radius / np.asarray(spacing, np.float64)
    pred = has_pred.copy()
    pred[(dist > thr) & has_true & has_pred] = False
    tp = int(np.sum(pred & has_true))
    fp = int(np.sum(pred & ~has_true))
    fn = int(np.sum(~pred & has_true))
    p = tp / (tp + fp) if tp + fp > 0 else 0.0
    r = tp / (tp + fn) if tp + fn > 0 else 0.0
    b2 = beta * beta
    f = (1 + b2) * p * r / (b2 * p + r) if (b2 * p + r) > 0 else 0.0
    return f, p, r, tp, fp, fn


def quantile_linear(x, q):
    """numpy/pandas default quantile (linear interpolation)."""
    return float(np.quantile(np.asarray(x, np.float64), q))


def dice(a, b):
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else float(2.0 * np.logical_and(a, b).sum() / s)


def roc_auc(y, s):
    """Mann-Whitney AUC with average ranks for ties (same as sklearn roc_auc_score)."""
    from scipy.stats import rankdata

    y = np.asarray(y, bool)
    s = np.asarray(s, np.float64)
    npos, nneg = int(y.sum()), int((~y).sum())
    if npos == 0 or nneg == 0:
        return float('nan')
    r = rankdata(s)
    return float((r[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def log_loss(y, p, eps=1e-15):
    y = np.asarray(y, np.float64)
    p = np.clip(np.asarray(p, np.float64), eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


# --------------------------------------------------------------------------------------------
# Resampling


@functools.lru_cache(maxsize=64)
def area_matrix(n_in, n_out):
    """Row-stochastic (n_out, n_in) matrix of cv2.INTER_AREA weights for a downscale: output
    pixel i averages the input interval [i*s, (i+1)*s), s = n_in / n_out, weighting each input
    pixel by its overlap. (For an upscale cv2 falls back to bilinear; not needed here.)"""
    if n_out > n_in:
        raise ValueError('area_matrix is for downscaling only')
    s = n_in / n_out
    m = np.zeros((n_out, n_in), np.float64)
    for i in range(n_out):
        a, b = i * s, (i + 1) * s
        j0, j1 = int(np.floor(a)), int(np.ceil(b))
        for j in range(j0, min(j1, n_in)):
            m[i, j] = max(0.0, min(b, j + 1) - max(a, j))
        m[i] /= m[i].sum()
    m.setflags(write=False)
    return m


def area_resize_2d(img, out_hw):
    """cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA) for a downscale, in float64."""
    ry = area_matrix(img.shape[-2], out_hw[0])
    rx = area_matrix(img.shape[-1], out_hw[1])
    return ry @ img.astype(np.float64) @ rx.T


class FixedAvgPool(torch.nn.Module):
    """Average pooling (kernel = stride = k) as a fixed-weight depthwise Conv (exports as an ONNX Conv,
    which every onnxruntime-web backend runs; torch exports AvgPool3d as Pad + AveragePool)."""

    def __init__(self, channels, k, dims):
        super().__init__()
        conv = torch.nn.Conv3d if dims == 3 else torch.nn.Conv2d
        self.conv = conv(channels, channels, k, stride=k, groups=channels, bias=False)
        self.conv.weight.data.fill_(1.0 / k ** dims)
        self.conv.weight.requires_grad_(False)

    def forward(self, x):
        return self.conv(x)
