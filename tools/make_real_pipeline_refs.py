"""PyTorch references of whole preset pipelines with the real-architecture test models
(tools/make_real_models.py), for tests/realModels.pipeline.test.ts:

    PYTHONPATH=/path/to/MONAI /usr/bin/python3 tools/make_real_pipeline_refs.py

MONAI is not a dependency: put a source checkout of Project-MONAI/MONAI on PYTHONPATH while this
runs (generation time only), as for tools/make_real_models.py.

- motors (BYU 2025) with the BYU ResNet3D U-Net (x / 255 inside the model), as the solution runs
  it: each tomogram resized to the input size (scipy zoom, order 1, corner-aligned, uint8), fed as
  float 0..255 (no scaling outside the model), per TTA flip MONAI sliding_window_inference with the
  30 %-margin weight map (constant mode), flipped back, mean of the logits, sigmoid; score = max,
  point = (argmax + 0.5) / heatmap shape * original shape. Three tomograms (the BYU volume of
  make_real_models.py and two more, written here as .npy) with the preset's values but a small
  input size and roi. Also the scores when the windows are divided by 255 outside the model as
  well (what the preset did before it had an input scaling: x / 65025 inside).
- spine (RSNA 2022) stage 2 with the sequence model (bs, 15, 6, H, W) and its 4D export with a
  fixed batch of 15, on the crops of the committed sim_neck CT from the quantised stage-1
  probabilities of tests/fixtures/spine (tools/make_spine_fixtures.py, tools/models/spine.py
  vertebra_crops): per vertebra C_k = clamp(mean over the 15 slices of sigmoid(slice logit),
  1e-4, 0.9999) and sigmoid(vertebra logit).

The networks are rebuilt from make_real_models.py with its seeds and checked against its stored
references first (the same weights as the committed ONNX files).

Writes tests/fixtures/real_models/pipeline_refs.json and byu_tomo_{b,c}_u8.npy.
"""
import gzip
import json
import os
import sys

import numpy as np
import torch
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, 'models'))
import make_real_models as R  # noqa: E402

OUT = R.OUT
ROOT = R.ROOT


def byu_weight_map(roi, margin=0.3, floor=1e-3):
    """The pipeline's weight map (tools/make_motor_fixtures.py): ones, int(0.3 * n) voxels on each side set to 1e-3."""
    w = np.ones(roi, np.float32)
    for ax, n in enumerate(roi):
        m = int(margin * n)
        if m == 0:
            continue
        idx = [slice(None)] * 3
        idx[ax] = slice(0, m)
        w[tuple(idx)] = floor
        idx[ax] = slice(n - m, n)
        w[tuple(idx)] = floor
    return w


FLIPS = {'identity': [], 'flipD': [2], 'flipH': [3], 'flipW': [4]}


def byu_pipeline(model, vol, p, outside_scale=1.0):
    """One tomogram through the BYU pipeline (one model); `outside_scale` multiplies the windows as they are fed."""
    swi = R.monai_sliding_window()
    size = tuple(p['inputSize'])
    if vol.shape == size:
        r = vol
    else:
        r = ndimage.zoom(vol, [o / i for o, i in zip(size, vol.shape)], order=1, grid_mode=False)
    assert r.dtype == np.uint8 and r.shape == size
    x = torch.from_numpy(r.astype(np.float32))[None, None]
    w = torch.from_numpy(byu_weight_map(p['roi']))

    def predictor(t):
        return model(t * outside_scale) if outside_scale != 1.0 else model(t)

    logits = None
    with torch.no_grad():
        for t in p['tta']:
            dims = FLIPS[t]
            xi = torch.flip(x, dims) if dims else x
            y = swi(xi, p['roi'], p['swBatch'], predictor, overlap=p['overlap'], mode='constant', roi_weight_map=w,
                    padding_mode='constant', cval=0.0)
            y = torch.flip(y, dims) if dims else y
            logits = y if logits is None else logits + y
    heat = torch.sigmoid(logits / len(p['tta']))[0, 0].numpy().astype(np.float32)
    i = int(np.argmax(heat))
    idx = np.unravel_index(i, heat.shape)
    point = [(int(idx[a]) + 0.5) / heat.shape[a] * vol.shape[a] for a in range(3)]
    return {'score': float(heat.max()), 'index': [int(v) for v in idx], 'point': point, 'heatmapShape': list(heat.shape)}


def main():
    torch.set_num_threads(2)
    refs = {'note': 'written by tools/make_real_pipeline_refs.py; see its docstring'}

    # ---- motors ------------------------------------------------------------------------------
    torch.manual_seed(0)
    byu = R.randomize_bn(R.ByuUNet())
    vol = np.load(os.path.join(OUT, 'byu_volume_u8.npy'))
    win = vol.astype(np.float32)[None, None, :32, :64, :64]
    with torch.no_grad():
        got = byu(torch.from_numpy(win)).numpy()
    assert np.array_equal(got, np.load(os.path.join(OUT, 'byu_window_torch.npy'))), 'the rebuilt BYU network differs from the committed one'

    rng = np.random.default_rng(21)
    tomos = {'tomo_a': ('byu_volume_u8.npy', vol)}
    for name, shape, seed in (('tomo_b', (30, 60, 50), 22), ('tomo_c', (36, 56, 64), 23)):
        g = np.random.default_rng(seed)
        z, y, x = np.meshgrid(*[np.linspace(0, 3, n) for n in shape], indexing='ij')
        t = np.clip(110 + 50 * np.sin(2 * z + y) * np.cos(1.5 * x) + g.normal(0, 25, shape), 0, 255).round().astype(np.uint8)
        f = f'byu_{name}_u8.npy'
        np.save(os.path.join(OUT, f), t)
        tomos[name] = (f, t)
    del rng
    # the preset's values (motorsParamSpecs defaults) but a small input size and roi
    p = {'inputSize': [48, 96, 96], 'roi': [32, 64, 64], 'overlap': [0.875, 0.25, 0.25], 'swBatch': 2, 'tta': ['identity', 'flipD', 'flipH'],
         'quantile': 0.545}
    rows, rows255 = {}, {}
    for name, (f, t) in tomos.items():
        rows[name] = {'file': f, 'shape': list(t.shape), **byu_pipeline(byu, t, p)}
        rows255[name] = byu_pipeline(byu, t, p, outside_scale=np.float32(1 / 255))['score']
        print(name, t.shape, rows[name]['score'], rows[name]['point'], 'x / 65025:', rows255[name])
    scores = np.array([rows[n]['score'] for n in tomos], np.float64)
    cutoff = float(np.quantile(scores, p['quantile']))
    refs['motors'] = {
        'model': 'byu_unet3d.onnx', 'params': p, 'rows': rows, 'cutoff': cutoff,
        'scoresDividedTwice': rows255,
        'note': 'windows fed as float 0..255 (the model divides by 255 itself); scoresDividedTwice: windows / 255 outside as well',
    }

    # ---- spine stage 2 -----------------------------------------------------------------------
    import make_spine_fixtures as S  # noqa: E402
    import spine  # noqa: E402

    torch.manual_seed(0)
    cls = R.randomize_bn(R.RsnaStage2())
    crops_ref = np.load(os.path.join(OUT, 'rsna_cls_crops_u8.npy'))
    with torch.no_grad():
        s5, _ = cls(torch.from_numpy(crops_ref.astype(np.float32) / np.float32(255)))
    assert np.array_equal(s5.numpy(), np.load(os.path.join(OUT, 'rsna_cls_slice_torch.npy'))), 'the rebuilt stage-2 network differs from the committed one'
    flat = R.RsnaStage2Flat(cls).eval()

    folder = os.path.join(S.CT, 'sim_neck')
    files, _rows, _info, order = S.read_series(folder)
    stored = S.stored_stack(folder, [files[i] for i in order]).astype(np.int64)
    with gzip.open(os.path.join(ROOT, 'tests', 'fixtures', 'spine', 'sim_neck_prob_q64.npy.gz')) as fh:
        q = np.load(fh)  # (7, slices, rows, cols) counts of 1/64
    pq = q.transpose(0, 2, 3, 1).astype(np.float32) / np.float32(64)  # (7, rows, cols, slices)
    present, crops = [], []
    for cid in range(7):
        cr, _inds, _ = spine.vertebra_crops(stored, pq, cid)
        if cr is not None:
            present.append(cid)
            crops.append(cr)
    x = torch.from_numpy(np.stack(crops).astype(np.float32) / np.float32(255))  # (n, 15, 6, 224, 224)
    with torch.no_grad():
        sl, vl = cls(x)
        fl = [flat(x[i]) for i in range(x.shape[0])]
    sig = 1 / (1 + np.exp(-sl.numpy().astype(np.float64)))
    ck = np.clip(sig.mean(1), 1e-4, 0.9999)
    vh = 1 / (1 + np.exp(-vl.numpy()[:, 0].astype(np.float64)))
    sig4 = 1 / (1 + np.exp(-np.concatenate([f[0].numpy() for f in fl]).astype(np.float64)))
    ck4 = np.clip(sig4.mean(1), 1e-4, 0.9999)
    vh4 = 1 / (1 + np.exp(-np.array([float(f[1][0, 0]) for f in fl])))
    refs['spine'] = {
        'ct': 'public/samples/ct/sim_neck', 'probabilities': 'tests/fixtures/spine/sim_neck_prob_q64.npy.gz', 'present': present,
        'seq': {'model': 'rsna_cls_seq.onnx', 'C': ck.tolist(), 'head': vh.tolist(), 'sliceLogits': sl.numpy().tolist()},
        'b15': {'model': 'rsna_cls_b15.onnx', 'C': ck4.tolist(), 'head': vh4.tolist()},
        'patientProduct': float(np.clip(1 - np.prod(1 - ck), 1e-4, 0.9999)),
    }
    print('spine C_k (seq):', np.round(ck, 5), 'b15 max diff', float(np.abs(ck - ck4).max()))

    with open(os.path.join(OUT, 'pipeline_refs.json'), 'w') as fh:
        json.dump(refs, fh, indent=1)
        fh.write('\n')
    print('wrote', os.path.relpath(os.path.join(OUT, 'pipeline_refs.json'), ROOT))


if __name__ == '__main__':
    main()
