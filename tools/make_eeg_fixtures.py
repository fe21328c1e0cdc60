#!/usr/bin/python3
"""Small references for the EEG spectrogram preset tests (tests/eeg*.test.ts, e2e/eeg.spec.ts).

Run with Debian's python (numpy, torch 1.13, onnx):  /usr/bin/python3 tools/make_eeg_fixtures.py
Reads the committed samples public/samples/eeg/*.parquet (with tools/models/eeg_parquet.py, the project's own
reader, independent of hyparquet) and public/models/eeg_spectrogram.onnx. Writes tests/fixtures/eeg/:

  steps.json               per sample: rows, time dtype/values, NaN count; every preprocessing step as sums plus
                           values at fixed positions (NaN->0 + transpose; clip/log/standardise in float64 -> float32;
                           bilinear 512 x 512, align_corners False, no antialias); a 60-row window of the seizure file
  real_array.npy           (400, 62) NaN->0, transposed, of the real EEG-derived sample
  real_standardised.npy    (400, 62) after clip/log/standardise (float32)
  window_standardised.npy  (400, 60) rows 100..159 of sim_seizure_001 after clip/log/standardise
  model.json               per sample: logits, softmax probabilities (float64) and class maps (6 x 16 x 16) of
                           eeg_spectrogram.onnx evaluated by PyTorch (torch ops on the ONNX weights; checked against
                           the training script's own PyTorch logits in tests/fixtures/reference/eeg_spectrogram); the
                           two-fold mean with tiny_eeg_6class.onnx; the tiny models' probabilities
  cam_real_seizure.npy     (400, 62) normalised seizure CAM of the real sample resized to the spectrogram (PyTorch)
  kl.json                  the Kaggle KL metric (kaggle.com/code/metric/kullback-leibler-divergence) on votes.csv and
                           on random cases with zeros and predictions at 0 and 1 (clipped to [1e-15, 1 - 1e-15])
  tiny_eeg_6class.onnx     a ~100-parameter CNN with the demo's IO: input (N,1,H,W) -> logits (N,6), class_maps (N,6,16,16)
  tiny_eeg_logits.onnx     the same without class_maps (logits only: the occlusion path)
  tiny_eeg_5class.onnx     a wrong model: 5 classes
  tiny_eeg_logits_b1.onnx  tiny_eeg_logits exported with a fixed batch of 1 (input (1, 1, H, W))
  wrong_columns.parquet    5 rows; `LL_0.59` renamed `LL_0.6` and `RP_19.92` missing
  nulls_double.parquet     8 rows, DOUBLE time and values, real nulls (definition level 0) in LL_0.59 and RP_19.92 and a
                           NaN value; nulls_double.npy = its (400, 8) array after NaN/null -> 0
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'models'))
from eeg_parquet import _thrift, _varint, T_BINARY, T_I32, T_I64, T_LIST, T_STRUCT, read_parquet, write_parquet  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.abspath(os.path.join(HERE, '..'))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'eeg')
SAMPLES = os.path.join(ROOT, 'public', 'samples', 'eeg')
REF = os.path.join(ROOT, 'tests', 'fixtures', 'reference', 'eeg_spectrogram')
os.makedirs(OUT, exist_ok=True)
COLUMNS = [ln.strip() for ln in open(os.path.join(REF, 'hms_spectrogram_columns.txt')) if ln.strip()]
FILES = ['sim_seizure_001', 'sim_lpd_002', 'real_eegmmidb_S001R03']
CLASSES = ['seizure', 'lpd', 'gpd', 'lrda', 'grda', 'other']
rng = np.random.default_rng(7)


# ------------------------------------------------------------------ pipeline 3, step by step
def to_array(cols):
    """NaN -> 0, drop time, transpose -> (400, T) float32."""
    raw = np.stack([cols[n] for n in COLUMNS[1:]]).astype(np.float32)
    return np.nan_to_num(raw, nan=0.0)


def standardise(x):
    x = np.asarray(x, np.float64)
    x = np.log(np.clip(x, np.exp(-4), np.exp(8)))
    x = (x - x.mean()) / (x.std() + 1e-6)
    return x.astype(np.float32)


def resize(x, size=512):
    return F.interpolate(torch.from_numpy(x)[None, None], size=(size, size), mode='bilinear', align_corners=False)[0, 0].numpy()


def probe(a, n=512):
    """Values at fixed pseudo-random flat positions, plus the float64 sum and sum of squares."""
    flat = a.reshape(-1)
    idx = np.sort(np.random.default_rng(11).choice(flat.size, min(n, flat.size), replace=False))
    return {'shape': list(a.shape), 'sum': float(flat.astype(np.float64).sum()), 'sumsq': float((flat.astype(np.float64) ** 2).sum()),
            'idx': idx.tolist(), 'values': flat[idx].astype(np.float64).tolist()}


# ------------------------------------------------------------------ ONNX graph evaluated with torch ops
def torch_eval(path, x):
    m = onnx.load(path)
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    env['input'] = x
    for n in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        ins = [env[i] if i else None for i in n.input]
        if n.op_type == 'Constant':
            out = torch.from_numpy(numpy_helper.to_array(a['value']).copy())
        elif n.op_type == 'Shape':
            out = torch.tensor(ins[0].shape, dtype=torch.int64)
        elif n.op_type == 'Slice':
            out = ins[0][int(ins[1][0]):int(ins[2][0])]
        elif n.op_type == 'Concat':
            out = torch.cat(ins, a['axis'])
        elif n.op_type == 'Resize':
            assert a['mode'] == b'linear' and a['coordinate_transformation_mode'] == b'half_pixel'
            out = F.interpolate(ins[0], size=tuple(int(s) for s in ins[3][2:]), mode='bilinear', align_corners=False)
        elif n.op_type == 'Conv':
            out = F.conv2d(ins[0], ins[1], ins[2], stride=a['strides'], padding=a['pads'][:2], dilation=a['dilations'], groups=a['group'])
        elif n.op_type == 'Relu':
            out = F.relu(ins[0])
        elif n.op_type == 'Add':
            out = ins[0] + ins[1]
        elif n.op_type == 'ReduceMean':
            out = ins[0].mean(dim=tuple(a['axes']), keepdim=bool(a.get('keepdims', 1)))
        else:
            raise ValueError(n.op_type)
        env[n.output[0]] = out
    return {o.name: env[o.name] for o in m.graph.output}


def softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# ------------------------------------------------------------------ tiny models with the demo's IO
class Tiny(nn.Module):
    def __init__(self, k=6, maps=True):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, 1, 1)
        self.c2 = nn.Conv2d(4, k, 3, 2, 1)
        self.maps = maps

    def forward(self, x):
        x = F.interpolate(x, size=(32, 32), mode='bilinear', align_corners=False)
        m = self.c2(F.relu(self.c1(x)))
        lg = m.mean(dim=(2, 3))
        return (lg, m) if self.maps else lg


def export_tiny(model, name, maps, batch1=False):
    path = os.path.join(OUT, name)
    outs = ['logits', 'class_maps'] if maps else ['logits']
    dyn = {'input': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch'}}
    if batch1:
        dyn = {'input': {2: 'height', 3: 'width'}}
    elif maps:
        dyn['class_maps'] = {0: 'batch'}
    torch.onnx.export(model, torch.zeros(1, 1, 512, 512), path, opset_version=17, input_names=['input'], output_names=outs, dynamic_axes=dyn)
    onnx.checker.check_model(onnx.load(path))
    return path


# ------------------------------------------------------------------ Kaggle KL metric
def kaggle_kl(solution, submission, eps=1e-15):
    """kaggle.com/code/metric/kullback-leibler-divergence, micro_average=True: per row sum over columns of
    y * log(y / clip(q, eps, 1 - eps)) where y != 0 (0 elsewhere), then the mean over rows."""
    y = np.asarray(solution, np.float64)
    q = np.clip(np.asarray(submission, np.float64), eps, 1 - eps)
    terms = np.zeros_like(y)
    nz = y != 0
    terms[nz] = y[nz] * np.log(y[nz] / q[nz])
    rows = terms.sum(1)
    return float(rows.mean()), rows.tolist()


def write_parquet_nulls(path, columns):
    """Like eeg_parquet.write_parquet (one row group, PLAIN, OPTIONAL, DOUBLE) but NaN in `columns` marked as null by
    the definition levels (bit-packed, width 1) and left out of the values, as parquet writers store missing values.
    `columns`: (name, values, keep) with keep[i] True where a NaN stays a NaN *value* (not a null)."""
    n = len(columns[0][1])
    out = bytearray(b'PAR1')
    chunks = []
    for name, arr, keep in columns:
        arr = np.asarray(arr, np.float64)
        defined = ~np.isnan(arr) | keep
        groups = (n + 7) // 8
        bits = np.zeros(groups * 8, np.uint8)
        bits[:n] = defined
        packed = np.packbits(bits.reshape(-1, 8)[:, ::-1], axis=1).reshape(-1).tobytes()
        rle = _varint((groups << 1) | 1) + packed
        values = arr[defined].astype('<f8').tobytes()
        page = len(rle).to_bytes(4, 'little') + rle + values
        header = _thrift([(1, T_I32, 0), (2, T_I32, len(page)), (3, T_I32, len(page)),
                          (5, T_STRUCT, [(1, T_I32, n), (2, T_I32, 0), (3, T_I32, 3), (4, T_I32, 3)])])
        offset = len(out)
        out += header + page
        chunks.append((name, offset, len(header) + len(page)))
    schema = [[(4, T_BINARY, 'schema'), (5, T_I32, len(columns))]] + [[(1, T_I32, 5), (3, T_I32, 1), (4, T_BINARY, c[0])] for c in chunks]
    cols = []
    for name, off, size in chunks:
        meta = [(1, T_I32, 5), (2, T_LIST, (T_I32, [0, 3])), (3, T_LIST, (T_BINARY, [name])), (4, T_I32, 0),
                (5, T_I64, n), (6, T_I64, size), (7, T_I64, size), (9, T_I64, off)]
        cols.append([(2, T_I64, off), (3, T_STRUCT, meta)])
    rg = [(1, T_LIST, (T_STRUCT, cols)), (2, T_I64, sum(c[2] for c in chunks)), (3, T_I64, n)]
    fmd = _thrift([(1, T_I32, 1), (2, T_LIST, (T_STRUCT, schema)), (3, T_I64, n), (4, T_LIST, (T_STRUCT, [rg])),
                   (6, T_BINARY, 'voxelbench tools/make_eeg_fixtures.py')])
    out += fmd + len(fmd).to_bytes(4, 'little') + b'PAR1'
    with open(path, 'wb') as f:
        f.write(out)


def main():
    steps, model_out = {}, {}
    onnx_path = os.path.join(ROOT, 'public', 'models', 'eeg_spectrogram.onnx')

    torch.manual_seed(3)
    tiny6 = Tiny(6).eval()
    with torch.no_grad():
        for p in tiny6.parameters():
            p.mul_(3.0)
    tiny_logits = Tiny(6, maps=False).eval()
    tiny_logits.load_state_dict(tiny6.state_dict())
    tiny5 = Tiny(5).eval()
    export_tiny(tiny6, 'tiny_eeg_6class.onnx', True)
    export_tiny(tiny_logits, 'tiny_eeg_logits.onnx', False)
    export_tiny(tiny5, 'tiny_eeg_5class.onnx', True)
    export_tiny(tiny_logits, 'tiny_eeg_logits_b1.onnx', False, batch1=True)

    # the torch evaluation of the ONNX graph equals the training script's PyTorch model
    inp = np.load(os.path.join(REF, 'input.npy'))
    ref_logits = np.load(os.path.join(REF, 'logits.npy'))
    with torch.no_grad():
        got = torch_eval(onnx_path, torch.from_numpy(inp))['logits'].numpy()
    err = float(np.abs(got - ref_logits).max())
    assert err < 1e-5, err
    print('torch evaluation of the ONNX graph vs the training model: max |diff| logits', err)

    for stem in FILES:
        names, cols = read_parquet(os.path.join(SAMPLES, stem + '.parquet'))
        assert names == COLUMNS, stem
        raw = np.stack([cols[n] for n in COLUMNS[1:]])
        arr = to_array(cols)
        std = standardise(arr)
        big = resize(std)
        t = cols['time']
        steps[stem] = {'rows': int(arr.shape[1]), 'time_first': float(t[0]), 'time_last': float(t[-1]), 'nan': int(np.isnan(raw).sum()),
                       'array': probe(arr), 'standardised': probe(std), 'resized': probe(big, 2048)}
        with torch.no_grad():
            out = torch_eval(onnx_path, torch.from_numpy(big)[None, None])
            t6 = tiny6(torch.from_numpy(big)[None, None])
            t5 = tiny5(torch.from_numpy(big)[None, None])
        lg = out['logits'].numpy()[0]
        maps = out['class_maps'].numpy()[0]
        p_demo = softmax(lg)
        p_tiny = softmax(t6[0].numpy()[0])
        model_out[stem] = {'logits': lg.astype(np.float64).tolist(), 'probabilities': p_demo.tolist(), 'class_maps': maps.reshape(-1).astype(np.float64).tolist(),
                           'tiny6_logits': t6[0].numpy()[0].astype(np.float64).tolist(), 'tiny6_probabilities': p_tiny.tolist(),
                           'tiny6_class_maps': t6[1].numpy()[0].reshape(-1).astype(np.float64).tolist(),
                           'tiny5_probabilities': softmax(t5[0].numpy()[0]).tolist(),
                           'two_fold_mean': ((p_demo + p_tiny) / 2).tolist()}
        if stem == 'real_eegmmidb_S001R03':
            np.save(os.path.join(OUT, 'real_array.npy'), arr)
            np.save(os.path.join(OUT, 'real_standardised.npy'), std)
            # CAM: relu, per-class max normalisation (relu(f - 1e-5) / (max relu(f) + 1e-5)), bilinear to (400, T)
            f = torch.from_numpy(maps)
            mx = F.relu(f).amax(dim=(1, 2), keepdim=True)
            norm = F.relu(f - 1e-5) / (mx + 1e-5)
            cam = F.interpolate(norm[None], size=arr.shape, mode='bilinear', align_corners=False)[0]
            np.save(os.path.join(OUT, 'cam_real_seizure.npy'), cam[0].numpy().astype(np.float32))
        if stem == 'sim_seizure_001':
            win = arr[:, 100:160]
            wstd = standardise(win)
            np.save(os.path.join(OUT, 'window_standardised.npy'), wstd)
            wbig = resize(wstd)
            with torch.no_grad():
                wlg = torch_eval(onnx_path, torch.from_numpy(wbig)[None, None])['logits'].numpy()[0]
            steps['window'] = {'file': stem, 'start': 100, 'rows': 60, 'standardised': probe(wstd), 'resized': probe(wbig, 2048)}
            model_out['window'] = {'file': stem, 'start': 100, 'rows': 60, 'probabilities': softmax(wlg).tolist()}

    with open(os.path.join(OUT, 'steps.json'), 'w') as fh:
        json.dump(steps, fh)
    with open(os.path.join(OUT, 'model.json'), 'w') as fh:
        json.dump({'classes': CLASSES, 'samples': model_out,
                   'note': 'eeg_spectrogram.onnx evaluated with torch ops (tools/make_eeg_fixtures.py torch_eval); tiny models are the '
                           'PyTorch modules exported to tiny_eeg_*.onnx; two_fold_mean = mean of the demo and tiny6 softmax'}, fh)

    # KL: votes.csv against the demo model's probabilities, and random cases
    lines = [ln.strip().split(',') for ln in open(os.path.join(SAMPLES, 'votes.csv')) if ln.strip()][1:]
    ids = [ln[0] for ln in lines]
    votes = np.array([[float(v) for v in ln[1:]] for ln in lines])
    sol = votes / votes.sum(1, keepdims=True)
    sub = np.array([model_out[i]['probabilities'] for i in ids])
    kl_votes, kl_rows = kaggle_kl(sol, sub)
    cases = []
    for n in (1, 3, 10):
        y = rng.integers(0, 6, (n, 6)).astype(np.float64) * (rng.random((n, 6)) < 0.6)
        y[:, 0] += 1
        y /= y.sum(1, keepdims=True)
        q = rng.dirichlet(np.ones(6) * 0.5, n)
        q[0, 1] = 0.0  # a zero prediction (clipped to 1e-15)
        q[0, 2] = 1.0  # a one (clipped to 1 - 1e-15)
        v, r = kaggle_kl(y, q)
        cases.append({'solution': y.tolist(), 'submission': q.tolist(), 'kl': v, 'rows': r})
    with open(os.path.join(OUT, 'kl.json'), 'w') as fh:
        json.dump({'votes': {'eeg_id': ids, 'votes': votes.tolist(), 'submission': sub.tolist(), 'kl': kl_votes, 'rows': kl_rows},
                   'cases': cases, 'source': 'https://www.kaggle.com/code/metric/kullback-leibler-divergence (micro_average=True, epsilon=1e-15)'}, fh)
    print('KL on votes.csv', kl_votes, kl_rows)

    # wrong columns: 5 rows, one renamed, one missing
    n = 5
    cols = [('time', np.arange(1, 2 * n, 2).astype(np.float32))]
    for c in COLUMNS[1:-1]:
        cols.append(('LL_0.6' if c == 'LL_0.59' else c, rng.random(n).astype(np.float32) * 10))
    write_parquet(os.path.join(OUT, 'wrong_columns.parquet'), cols)

    # real nulls (definition level 0) and a NaN value, DOUBLE columns
    n = 8
    cols = [('time', np.arange(0, 2 * n, 2).astype(np.float64), np.zeros(n, bool))]
    for c in COLUMNS[1:]:
        v = rng.random(n) * 100
        keep = np.zeros(n, bool)
        if c == 'LL_0.59':
            v[[1, 5]] = np.nan  # nulls
        if c == 'RP_19.92':
            v[7] = np.nan  # null
        if c == 'LP_10.16':
            v[3] = np.nan  # a NaN value, not a null
            keep[3] = True
        cols.append((c, v, keep))
    path = os.path.join(OUT, 'nulls_double.parquet')
    write_parquet_nulls(path, cols)
    names, back = read_parquet(path)
    assert names == COLUMNS and np.isnan(back['LL_0.59'][[1, 5]]).all() and np.isnan(back['LP_10.16'][3])
    np.save(os.path.join(OUT, 'nulls_double.npy'), to_array(back))
    for stem in FILES:
        print(stem, 'demo', np.round(model_out[stem]['probabilities'], 4).tolist(), 'tiny6', np.round(model_out[stem]['tiny6_probabilities'], 4).tolist())


if __name__ == '__main__':
    main()
