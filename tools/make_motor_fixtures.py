"""Small references for the flagellar-motor pipeline tests (tests/motors*.test.ts).

Run with Debian's python (numpy, scipy, PIL, torch 1.13):  /usr/bin/python3 tools/make_motor_fixtures.py
Writes tests/fixtures/motors/:
  zoom/<case>_in.npy, zoom/<case>_out.npy + zoom/cases.json   scipy.ndimage.zoom(order=1, grid_mode=False) on uint8
  weight_maps.json                                              the 30 %-margin rule at a few roi sizes
  quantile.json                                                 pandas-style quantiles (np.percentile(x, q * 100))
  coords.json                                                   argmax -> (index + 0.5) / heatmap_shape * original_shape
  stack_u8.tif, stack_u8_lzw.tif, stack_u16.tif (+ .npy)        multi-page TIFF stacks written by PIL
  tiny_motor.onnx                                               (N,1,D,H,W) -> (N,1,D/2,H/2,W/2) logits
  tiny_motor_2ch.onnx                                           a wrong model: two output channels
scikit-learn is not installed here, so the F-beta cases are worked by hand in the tests.
"""
import json
import os

import numpy as np
import scipy
from scipy import ndimage
from PIL import Image
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'motors')
ZOOM = os.path.join(OUT, 'zoom')
os.makedirs(ZOOM, exist_ok=True)
rng = np.random.default_rng(4)


def dump(name, obj):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, indent=1)
        f.write('\n')


# ---- resize: scipy zoom, order 1, corner-aligned, on uint8 (scipy rounds half up and clips)
zoom_cases = {
    'up_mixed': ((5, 7, 9), (8, 4, 13)),
    'odd': ((3, 10, 10), (7, 19, 5)),
    'overshoot': ((8, 6, 4), (26, 6, 3)),  # 7 * (7 / 25) > 7 in double: scipy zeroes that plane
    'single_in': ((1, 5, 6), (3, 5, 2)),
    'single_out': ((4, 4, 4), (1, 7, 4)),
    'down': ((12, 20, 20), (5, 9, 11)),
    'halves': ((6, 9, 9), (11, 17, 17)),  # n -> 2n - 1: weights of exactly 0.5 (round half up)
    'pipeline_like': ((20, 42, 42), (8, 28, 28)),
    'identity': ((3, 4, 5), (3, 4, 5)),
}
index = {}
for name, (shp_in, shp_out) in zoom_cases.items():
    if name == 'pipeline_like':  # smooth data, like a tomogram, plus noise
        z, y, x = np.meshgrid(*[np.linspace(0, 3, n) for n in shp_in], indexing='ij')
        x = np.clip(120 + 60 * np.sin(z + y) * np.cos(x) + rng.normal(0, 20, shp_in), 0, 255).astype(np.uint8)
    else:
        x = rng.integers(0, 256, shp_in, dtype=np.uint8)
    factors = tuple(o / i for o, i in zip(shp_out, shp_in))
    y = ndimage.zoom(x, factors, order=1, grid_mode=False)
    assert y.shape == shp_out, (name, y.shape)
    assert y.dtype == np.uint8
    np.save(os.path.join(ZOOM, f'{name}_in.npy'), x)
    np.save(os.path.join(ZOOM, f'{name}_out.npy'), y)
    index[name] = {'in': list(shp_in), 'out': list(shp_out)}
with open(os.path.join(ZOOM, 'cases.json'), 'w') as f:
    json.dump({'scipy': scipy.__version__, 'cases': index}, f, indent=1)
    f.write('\n')


# ---- the pipeline's weight map: ones, m = int(0.3 * n) voxels on each side of each axis set to 1e-3
def byu_weight_map(roi, margin=0.3, floor=1e-3):
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


ref = np.load(os.path.join(ROOT, 'tests', 'fixtures', 'parity', 'byu_weight_map', 'weight_map.npy'))
assert np.array_equal(byu_weight_map(ref.shape), ref), 'the rule does not reproduce the parity weight map'
wm = []
for roi in [(10, 32, 32), (7, 3, 11), (1, 2, 5), (8, 84, 84), (16, 48, 48), (64, 672, 672)]:
    entry = {'roi': list(roi), 'margin': [int(0.3 * n) for n in roi]}
    if np.prod(roi) < 1e6:  # small enough to store: the per-axis profiles and the sum over the full map
        w = byu_weight_map(roi)
        entry['sum'] = float(w.astype(np.float64).sum())
        entry['ones'] = int((w == 1).sum())
    wm.append(entry)
dump('weight_maps.json', wm)


# ---- quantile as pandas computes it: Series.quantile(q) = np.percentile(values, q * 100), linear
qcases = []
for n, q in [(1, 0.545), (2, 0.545), (3, 0.5), (5, 0.545), (10, 0.545), (11, 0.5), (7, 0.0), (7, 1.0), (13, 0.25), (20, 0.545), (4, 0.9999)]:
    v = rng.random(n).round(6)
    qcases.append({'values': [float(a) for a in v], 'q': q, 'pandas': float(np.percentile(v, q * 100)), 'numpy': float(np.quantile(v, q))})
qcases.append({'values': [0.3, 0.1, 0.1, 0.7, 0.3, 0.9], 'q': 0.545, 'pandas': float(np.percentile([0.3, 0.1, 0.1, 0.7, 0.3, 0.9], 54.5)), 'numpy': float(np.quantile([0.3, 0.1, 0.1, 0.7, 0.3, 0.9], 0.545))})
dump('quantile.json', qcases)


# ---- argmax -> coordinate in original voxels
ccases = []
for hs, os_ in [((16, 84, 84), (500, 924, 956)), ((8, 21, 21), (300, 959, 928)), ((16, 48, 48), (64, 192, 192)), ((5, 7, 3), (11, 13, 17))]:
    h = rng.random(hs).astype(np.float32)
    i = np.unravel_index(int(np.argmax(h)), hs)
    coord = [(int(i[a]) + 0.5) / hs[a] * os_[a] for a in range(3)]
    ccases.append({'heatmapShape': list(hs), 'originalShape': list(os_), 'index': [int(a) for a in i], 'point': coord})
dump('coords.json', ccases)


# ---- multi-page TIFF stacks (PIL)
stack = rng.integers(0, 256, (5, 12, 10), dtype=np.uint8)
imgs = [Image.fromarray(s) for s in stack]
imgs[0].save(os.path.join(OUT, 'stack_u8.tif'), save_all=True, append_images=imgs[1:])
imgs[0].save(os.path.join(OUT, 'stack_u8_lzw.tif'), save_all=True, append_images=imgs[1:], compression='tiff_lzw')
np.save(os.path.join(OUT, 'stack_u8.npy'), stack)
s16 = (rng.integers(0, 4000, (4, 9, 7)) + 1000).astype(np.uint16)
imgs16 = [Image.fromarray(s, mode='I;16') for s in s16]
imgs16[0].save(os.path.join(OUT, 'stack_u16.tif'), save_all=True, append_images=imgs16[1:])
np.save(os.path.join(OUT, 'stack_u16.npy'), s16)
Image.fromarray(stack[0]).save(os.path.join(OUT, 'stack_mixed.tif'), save_all=True, append_images=[Image.fromarray(stack[1, :, :8])])
# what the loader gives: min..max over the stack -> 0..255, rounded half up
lo, hi = int(s16.min()), int(s16.max())
np.save(os.path.join(OUT, 'stack_u16_as_u8.npy'), np.floor((s16.astype(np.float64) - lo) * (255 / (hi - lo)) + 0.5).astype(np.uint8))


# ---- single images: PNG in several colour types, and a JPEG, with what PIL decodes
img = rng.integers(0, 256, (5, 7), dtype=np.uint8)
Image.fromarray(img).save(os.path.join(OUT, 'png_gray8.png'))
np.save(os.path.join(OUT, 'png_gray8.npy'), img)
rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
Image.fromarray(rgb).save(os.path.join(OUT, 'png_rgb.png'))
np.save(os.path.join(OUT, 'png_rgb.npy'), np.array(Image.fromarray(rgb).convert('L')))  # PIL luma
rgba = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
Image.fromarray(rgba).save(os.path.join(OUT, 'png_rgba.png'))
np.save(os.path.join(OUT, 'png_rgba.npy'), np.array(Image.fromarray(rgba).convert('RGB').convert('L')))
pal = Image.fromarray(rgb).quantize(colors=6)
pal.save(os.path.join(OUT, 'png_palette.png'))
np.save(os.path.join(OUT, 'png_palette.npy'), np.array(pal.convert('RGB').convert('L')))
g16 = rng.integers(0, 65536, (5, 7)).astype(np.uint16)
Image.fromarray(g16.astype(np.int32), mode='I').save(os.path.join(OUT, 'png_gray16.png'))
assert np.array_equal(np.array(Image.open(os.path.join(OUT, 'png_gray16.png'))), g16)
np.save(os.path.join(OUT, 'png_gray16.npy'), (g16 >> 8).astype(np.uint8))  # the high byte
yy, xx = np.mgrid[0:24, 0:32]
smooth = np.clip(128 + 100 * np.sin(xx / 5.0) * np.cos(yy / 7.0) + rng.normal(0, 8, (24, 32)), 0, 255).astype(np.uint8)
Image.fromarray(smooth).save(os.path.join(OUT, 'slice_gray.jpg'), quality=90)
np.save(os.path.join(OUT, 'slice_gray_pil.npy'), np.array(Image.open(os.path.join(OUT, 'slice_gray.jpg'))))


# ---- tiny ONNX models: brightness -> logits at half resolution
class TinyMotor(nn.Module):
    def __init__(self, channels=1):
        super().__init__()
        self.conv = nn.Conv3d(1, channels, 3, padding=1)
        self.pool = nn.AvgPool3d(2)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[:, 0, 1, 1, 1] = 20.0  # 20 * x - 10: bright voxels -> positive logits
            self.conv.bias.fill_(-10.0)

    def forward(self, x):
        return self.pool(self.conv(x))


torch.manual_seed(0)
for name, ch in [('tiny_motor', 1), ('tiny_motor_2ch', 2)]:
    m = TinyMotor(ch).eval()
    axes = {0: 'n', 2: 'd', 3: 'h', 4: 'w'}
    torch.onnx.export(m, torch.zeros(1, 1, 8, 8, 8), os.path.join(OUT, f'{name}.onnx'), opset_version=17,
                      input_names=['input'], output_names=['heatmap'], dynamic_axes={'input': axes, 'heatmap': axes})
print('wrote', OUT)
