"""Small references for the protein localisation preset tests (tests/protein*.test.ts, e2e/protein.spec.ts).

Run with Debian's python (numpy, scipy, PIL, torch 1.13):  /usr/bin/python3 tools/make_protein_fixtures.py
Writes tests/fixtures/protein/:
  resize.json + resize_<case>_{in,out}.npy   F.interpolate(bilinear, align_corners=False, antialias=True) in float32
  png16_<ch>.png, png16_ref.npz -> png16.json  a 16-bit RGBY set (640 x 576) through the whole preprocessing to 512
                                               (sub-sampled [:, :, ::16, ::16] reference + channel sums)
  tiff_rgba8.tif, tiff_pages16.tif (+ .npy)    4-channel TIFFs (one RGBA 8-bit page; four 16-bit pages) written by PIL
  cells_ref.json                               CAM (relu / per-class max / bilinear resize) and the per-cell rule
                                               (numpy percentiles) on sample 1's PyTorch class maps and logits, plus a
                                               small synthetic case
  rle.json                                     HPA `encode_binary_mask` (pycocotools column-major compressed RLE string,
                                               zlib level 9, base64), re-implemented here from pycocotools' rleToString
  map_ref.json                                 cell-level mAP at mask IoU 0.6 (OID challenge style) on small cases
  tiny_protein.onnx                            a tiny CNN with the demo's IO ((N,4,H,W) -> logits (N,19),
                                               class_maps (N,19,H/32,W/32)); tiny_ref.json: its PyTorch logits on the
                                               two public samples
  tiny_protein_5cls.onnx                       a wrong model: 5 classes
  tiny_protein_logits.onnx                     logits only (no class maps): the page uses occlusion maps
"""
import base64
import json
import os
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'protein')
SAMPLES = os.path.join(ROOT, 'public', 'samples', 'protein')
REF = os.path.join(ROOT, 'tests', 'fixtures', 'reference', 'protein_localisation')
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)
MEAN = (0.485, 0.456, 0.406, 0.485)
STD = (0.229, 0.224, 0.225, 0.229)
CHANNELS = ['red', 'green', 'blue', 'yellow']


def dump(name, obj):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, indent=1)
        f.write('\n')


def preprocess(rgby, size=512):
    """tools/models/protein.py's preprocess (pipeline 4), with the output size as a parameter."""
    x = np.asarray(rgby)
    scale = 65535.0 if x.max() > 255 else 255.0
    t = torch.from_numpy(x.astype(np.float32) / np.float32(scale))[None]
    if t.shape[-2:] != (size, size):
        t = F.interpolate(t, size=(size, size), mode='bilinear', align_corners=False, antialias=True)
    mean = torch.tensor(MEAN, dtype=torch.float32).view(1, 4, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(1, 4, 1, 1)
    return (t - mean) / std


# ---------------------------------------------------------------- anti-aliased bilinear resize
resize_cases = {
    'down': ((2, 40, 56), (16, 16)),
    'down_odd': ((1, 37, 23), (10, 7)),
    'up': ((2, 7, 9), (16, 13)),
    'mixed': ((1, 12, 30), (20, 11)),
    'same_h': ((1, 9, 20), (9, 6)),
}
cases = {}
for name, (shape, size) in resize_cases.items():
    x = rng.random(shape, dtype=np.float32)
    y = F.interpolate(torch.from_numpy(x)[None], size=size, mode='bilinear', align_corners=False, antialias=True)[0].numpy()
    np.save(os.path.join(OUT, f'resize_{name}_in.npy'), x)
    np.save(os.path.join(OUT, f'resize_{name}_out.npy'), y)
    cases[name] = {'in': list(shape), 'out': list(size)}
dump('resize.json', cases)

# ---------------------------------------------------------------- a 16-bit RGBY set through the whole preprocessing
H16, W16 = 544, 600
yy, xx = np.mgrid[0:H16, 0:W16].astype(np.float64)
png16 = []
for c in range(4):
    v = 20000 + 15000 * np.sin(xx / (23 + 7 * c)) * np.cos(yy / (31 + 5 * c)) + 8000 * ((xx // 40 + yy // 40 + c) % 2)
    v = (np.clip(v, 0, 65535) // 1031 * 1031 + (xx > W16 // 2) * 7).astype(np.uint16)  # coarse steps: small files
    png16.append(v)
    Image.fromarray(v, mode='I;16').save(os.path.join(OUT, f'png16_{CHANNELS[c]}.png'))
png16 = np.stack(png16)
back = np.stack([np.array(Image.open(os.path.join(OUT, f'png16_{ch}.png'))) for ch in CHANNELS])
assert back.dtype == np.uint16 or back.dtype == np.int32, back.dtype
assert (back.astype(np.int64) == png16.astype(np.int64)).all()
x16 = preprocess(png16).numpy()
assert x16.shape == (1, 4, 512, 512)
np.save(os.path.join(OUT, 'png16_sub.npy'), np.ascontiguousarray(x16[0, :, ::16, ::16]))
dump('png16.json', {
    'shape': [4, H16, W16], 'max': int(png16.max()), 'scale': 65535,
    'raw_sum': [int(png16[c].astype(np.int64).sum()) for c in range(4)],
    'raw_first': [int(png16[c, 0, 0]) for c in range(4)],
    'out_sum': [float(x16[0, c].astype(np.float64).sum()) for c in range(4)],
    'sub': 'png16_sub.npy = input[0, :, ::16, ::16] (4, 32, 32)',
})

# ---------------------------------------------------------------- 4-channel TIFFs
t8 = rng.integers(0, 256, (4, 24, 30), dtype=np.uint8)
Image.fromarray(np.moveaxis(t8, 0, -1), mode='RGBA').save(os.path.join(OUT, 'tiff_rgba8.tif'))
np.save(os.path.join(OUT, 'tiff_rgba8.npy'), t8)
t16 = rng.integers(0, 65536, (4, 20, 26)).astype(np.uint16)
pages = [Image.fromarray(t16[c], mode='I;16') for c in range(4)]
pages[0].save(os.path.join(OUT, 'tiff_pages16.tif'), save_all=True, append_images=pages[1:])
np.save(os.path.join(OUT, 'tiff_pages16.npy'), t16)


# ---------------------------------------------------------------- CAM and the per-cell rule
def cam(maps, size):
    """relu(f - 1e-5) / (max + 1e-5) per class, bilinear resize (align_corners False) to size; float32."""
    m = torch.from_numpy(maps)
    mx = F.relu(m).flatten(1).max(1)[0].view(-1, 1, 1)
    c = F.relu(m - 1e-5) / (mx + 1e-5)
    return F.interpolate(c[None], size=size, mode='bilinear', align_corners=False)[0].numpy()


def cell_rule(cams, probs, cells, min_p=0.01, keep=0.02, pct=99):
    """Pipeline 4: per class with p > min_p: Q = 99th percentile of the CAM over the image, q = the 99th
    percentile inside the cell, conf = clip(q * p / Q, 0, p); keep if conf / p > keep; cells with no class -> 18."""
    out, best = {}, {}
    ids = [int(i) for i in np.unique(cells) if i != 0]
    for cid in ids:
        out[cid] = []
        best[cid] = 0.0
    for k in range(cams.shape[0]):
        p = float(probs[k])
        if not p > min_p:
            continue
        Q = float(np.percentile(cams[k], pct))
        for cid in ids:
            q = float(np.percentile(cams[k][cells == cid], pct))
            conf = 0.0 if Q <= 0 else float(np.clip(q * p / Q, 0, p))
            best[cid] = max(best[cid], conf)
            if conf / p > keep:
                out[cid].append([k, conf, q])
    # a cell that keeps no class: Negative with confidence 1 - its largest conf (the workbench's choice)
    return [{'cell': cid, 'classes': out[cid] or [[18, 1 - best[cid], None]]} for cid in ids]


maps1 = np.load(os.path.join(REF, 'class_maps.npy'))[0]
logits1 = np.load(os.path.join(REF, 'logits.npy'))[0]
probs1 = 1 / (1 + np.exp(-logits1.astype(np.float64)))
cells1 = np.array(Image.open(os.path.join(SAMPLES, 'sim_protein_001_cells.png')))
cams1 = cam(maps1, (512, 512))
Q1 = [float(np.percentile(cams1[k], 99)) for k in range(19)]
# a small synthetic case with a different image size, an empty class map and a cell of one pixel
ms = rng.normal(0, 1, (19, 4, 5)).astype(np.float32)
ms[3] = -1  # relu -> all zero
ps = rng.random(19)
ps[2] = 0.005  # below min p
ps[3] = 0.5
cs = np.zeros((23, 29), np.uint8)
cs[2:10, 3:14] = 1
cs[12:22, 1:12] = 2
cs[5:20, 15:28] = 3
cs[21, 27] = 4
cams_s = cam(ms, (23, 29))
np.save(os.path.join(OUT, 'synthetic_maps.npy'), ms)
np.save(os.path.join(OUT, 'synthetic_cells.npy'), cs)
np.save(os.path.join(OUT, 'synthetic_cams.npy'), cams_s)
np.save(os.path.join(OUT, 'sample1_cam_sub.npy'), np.ascontiguousarray(cams1[:, ::8, ::8]))
percentile_cases = []
for n in (1, 2, 5, 10, 101, 1000):
    v = rng.random(n).astype(np.float32)
    percentile_cases.append({'values': v.astype(np.float64).tolist(),
                             'q': {str(q): float(np.percentile(v, q)) for q in (0, 1, 50, 99, 99.9, 100)}})
dump('cells_ref.json', {
    'sample1': {'probs': probs1.tolist(), 'Q': Q1, 'cells': cell_rule(cams1, probs1, cells1),
                'cam_sub': 'sample1_cam_sub.npy = CAM[:, ::8, ::8] at 512 x 512'},
    'synthetic': {'probs': ps.tolist(), 'cells': cell_rule(cams_s, ps, cs)},
    'synthetic_keep100': {'probs': ps.tolist(), 'keep': 1.0, 'cells': cell_rule(cams_s, ps, cs, keep=1.0)},
    'percentile': percentile_cases,
})


# ---------------------------------------------------------------- HPA RLE (encode_binary_mask)
def rle_counts(mask):
    """pycocotools rleEncode on a Fortran-order (column-major) binary mask: alternating runs, starting with zeros."""
    flat = np.asarray(mask, np.uint8).flatten(order='F')
    counts = []
    prev, run = 0, 0
    for v in flat:
        if v != prev:
            counts.append(run)
            run = 0
            prev = v
        run += 1
    counts.append(run)
    return counts


def rle_to_string(cnts):
    """pycocotools maskApi.c rleToString: LEB128-like, 5 bits per char + 48, deltas from i - 2 for i > 2."""
    s = []
    for i, x in enumerate(cnts):
        if i > 2:
            x -= cnts[i - 2]
        more = True
        while more:
            c = x & 0x1f
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            c += 48
            s.append(chr(c))
    return ''.join(s)


def encode_binary_mask(mask):
    counts = rle_to_string(rle_counts(mask)).encode()
    return base64.b64encode(zlib.compress(counts, zlib.Z_BEST_COMPRESSION)).decode()


rle_cases = []
for cid in range(1, int(cells1.max()) + 1):
    m = cells1 == cid
    rle_cases.append({'name': f'sim_protein_001 cell {cid}', 'source': 'sample1', 'cell': cid,
                      'counts': rle_to_string(rle_counts(m)), 'encoded': encode_binary_mask(m)})
for name, m in [('empty 3x4', np.zeros((3, 4), bool)), ('full 3x4', np.ones((3, 4), bool)),
                ('random 9x7', rng.random((9, 7)) > 0.5), ('corner 5x6', np.pad(np.ones((2, 2), bool), ((0, 3), (4, 0))))]:
    rle_cases.append({'name': name, 'shape': list(m.shape), 'mask': m.astype(int).flatten().tolist(),
                      'counts': rle_to_string(rle_counts(m)), 'encoded': encode_binary_mask(m)})
dump('rle.json', rle_cases)


# ---------------------------------------------------------------- cell-level mAP at mask IoU 0.6
def iou(a, b):
    inter = np.logical_and(a, b).sum()
    union = np.logical_or(a, b).sum()
    return inter / union if union else 0.0


def average_precision_cells(preds, gts, thr=0.6):
    """One class. preds: [(image, mask, score)], gts: {image: [mask]}. Greedy matching in descending score order
    (each ground-truth mask matched once, to the unmatched one with the highest IoU >= thr), VOC/COCO-style AP =
    sum over ranks of precision at each true positive / number of ground truths (the OID challenge's definition)."""
    npos = sum(len(v) for v in gts.values())
    if npos == 0:
        return None
    order = sorted(range(len(preds)), key=lambda i: -preds[i][2])
    used = {k: [False] * len(v) for k, v in gts.items()}
    tp = []
    for i in order:
        img, m, _ = preds[i]
        best, bj = thr, -1
        for j, g in enumerate(gts.get(img, [])):
            if used[img][j]:
                continue
            v = iou(m, g)
            if v >= best:
                best, bj = v, j
        if bj >= 0:
            used[img][bj] = True
            tp.append(1)
        else:
            tp.append(0)
    tp = np.array(tp, float)
    ctp = np.cumsum(tp)
    prec = ctp / np.arange(1, len(tp) + 1)
    rec = ctp / npos
    # precision envelope (monotone) then the area under the stepped curve, as the OID / VOC 2010+ metric
    mprec = np.concatenate([[0], prec, [0]])
    mrec = np.concatenate([[0], rec, [1]])
    for i in range(len(mprec) - 2, -1, -1):
        mprec[i] = max(mprec[i], mprec[i + 1])
    idx = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mprec[idx + 1]))


# masks as small label images; predictions list (image, cell-label-id in the prediction image, class, score)
gt_img = {'a': np.zeros((10, 12), np.uint8), 'b': np.zeros((10, 12), np.uint8)}
gt_img['a'][0:5, 0:6] = 1
gt_img['a'][0:5, 6:12] = 2
gt_img['a'][5:10, 0:12] = 3
gt_img['b'][1:9, 1:6] = 1
gt_img['b'][1:9, 6:11] = 2
gt_cls = {('a', 1): [0, 5], ('a', 2): [5], ('a', 3): [18], ('b', 1): [0], ('b', 2): [9, 0]}
pr_img = {'a': gt_img['a'].copy(), 'b': np.zeros((10, 12), np.uint8)}
pr_img['a'][0:5, 5] = 1  # cell 1 grows one column into cell 2 (IoU 25/30 with GT 1, 25/30 with GT 2 for cell 2)
pr_img['b'][1:9, 1:4] = 1  # IoU 24/40 = 0.6 exactly with GT 1
pr_img['b'][1:9, 6:9] = 2  # IoU 24/40 = 0.6 with GT 2
pr_img['b'][0, 0:12] = 3  # a spurious cell
preds = [('a', 1, 0, 0.9), ('a', 1, 5, 0.3), ('a', 2, 5, 0.8), ('a', 2, 0, 0.4), ('a', 3, 18, 0.7), ('a', 3, 0, 0.2),
         ('b', 1, 0, 0.6), ('b', 2, 9, 0.5), ('b', 3, 9, 0.95), ('b', 3, 18, 0.1)]
aps = {}
for k in sorted({c for v in gt_cls.values() for c in v} | {p[2] for p in preds}):
    gts = {img: [gt_img[img] == cid for (i2, cid), cl in gt_cls.items() if i2 == img and k in cl] for img in gt_img}
    pk = [(img, pr_img[img] == cid, s) for img, cid, c, s in preds if c == k]
    ap = average_precision_cells(pk, gts)
    if ap is not None:
        aps[str(k)] = ap
dump('map_ref.json', {
    'gt': {img: a.flatten().tolist() for img, a in gt_img.items()}, 'pred': {img: a.flatten().tolist() for img, a in pr_img.items()},
    'shape': [10, 12], 'gt_classes': [[img, cid, cl] for (img, cid), cl in gt_cls.items()],
    'preds': [list(p) for p in preds], 'ap': aps, 'mAP': float(np.mean(list(aps.values()))), 'iou': 0.6,
})


# ---------------------------------------------------------------- tiny models with the demo's IO
class Tiny(nn.Module):
    """AvgPool 32 x 32 -> 1x1 conv 4 -> 8, ReLU -> 1x1 conv 8 -> K (no bias) = class maps; logits = their mean."""

    def __init__(self, k=19, maps=True):
        super().__init__()
        self.pool = nn.AvgPool2d(32)
        self.c1 = nn.Conv2d(4, 8, 1)
        self.c2 = nn.Conv2d(8, k, 1, bias=False)
        self.maps = maps

    def forward(self, x):
        m = self.c2(F.relu(self.c1(self.pool(x))))
        lg = m.mean(dim=(2, 3))
        return (lg, m) if self.maps else lg


def export(model, path, maps=True):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 4, 512, 512), path, opset_version=17, input_names=['input'],
                      output_names=['logits', 'class_maps'] if maps else ['logits'],
                      dynamic_axes={'input': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch'},
                                    **({'class_maps': {0: 'batch', 2: 'h', 3: 'w'}} if maps else {})},
                      do_constant_folding=True)


torch.manual_seed(3)
tiny = Tiny()
with torch.no_grad():
    tiny.c1.weight.mul_(3)
    tiny.c2.weight.mul_(3)
export(tiny, os.path.join(OUT, 'tiny_protein.onnx'))
torch.manual_seed(4)
export(Tiny(k=5), os.path.join(OUT, 'tiny_protein_5cls.onnx'))
torch.manual_seed(5)
tiny_l = Tiny(maps=False)
export(tiny_l, os.path.join(OUT, 'tiny_protein_logits.onnx'), maps=False)
ref = {}
for sid in ('sim_protein_001', 'sim_protein_002'):
    raw = np.stack([np.array(Image.open(os.path.join(SAMPLES, f'{sid}_{ch}.png'))) for ch in CHANNELS])
    with torch.no_grad():
        lg, m = tiny(preprocess(raw))
        lg2 = tiny_l(preprocess(raw))
    ref[sid] = {'logits': lg[0].tolist(), 'probs': torch.sigmoid(lg[0].double()).tolist(),
                'class_maps_shape': list(m.shape), 'logits_only_model': lg2[0].tolist()}
dump('tiny_ref.json', ref)
print('wrote', sorted(os.listdir(OUT)))
