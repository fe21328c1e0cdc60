"""JPEG decoding references: PIL (libjpeg-turbo) gray bytes of every JPEG slice the tests decode.

Run with Debian's python (PIL built on libjpeg-turbo):  /usr/bin/python3 tools/make_jpeg_fixtures.py
Copies a few real slices into tests/fixtures/motors/jpeg/ (tomo_cyl13pf, tomo_cyl14pf: see
ATTRIBUTION.md there), writes a few colour/progressive JPEGs made here, and writes
tests/fixtures/motors/jpeg/pil.json: for each file (repo-relative path) its shape and the sha256 of
`Image.open(f).convert('L')` bytes, over those files and every slice of the bundled sample folders
(public/samples/tomograms/*/). tests/jpegDecode.test.ts decodes the same files and compares byte for byte.
"""
import glob
import hashlib
import json
import os
import shutil

import numpy as np
from PIL import Image, features

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'motors', 'jpeg')
SHARED = os.environ.get('VB_SHARED', os.path.join(ROOT, '..', 'shared'))
REAL = os.path.join(SHARED, 'data', 'cryoet', 'byu_style_jpeg')
os.makedirs(OUT, exist_ok=True)

# real slices: both folders whole (80 slices, 1.1 MB), so that the tests compare every real slice
# with PIL without the shared data collection
for tomo in ['tomo_cyl13pf', 'tomo_cyl14pf']:
    os.makedirs(os.path.join(OUT, tomo), exist_ok=True)
    for src in sorted(glob.glob(os.path.join(REAL, tomo, 'slice_*.jpg'))):
        shutil.copyfile(src, os.path.join(OUT, tomo, os.path.basename(src)))

# made here: colour (4:2:0 and 4:4:4), progressive, restart markers, odd sizes
rng = np.random.default_rng(7)
base = np.asarray(Image.open(os.path.join(OUT, 'tomo_cyl14pf', 'slice_0021.jpg')).convert('L'), dtype=np.float32)
h, w = base.shape
noise = rng.normal(0, 12, (h, w))
gray = np.clip(base + noise, 0, 255).astype(np.uint8)
rgb = np.stack([gray, (gray * 0.6 + 40).astype(np.uint8), 255 - gray], -1)
Image.fromarray(rgb).save(os.path.join(OUT, 'made_rgb420.jpg'), quality=90)
Image.fromarray(rgb).save(os.path.join(OUT, 'made_rgb444.jpg'), quality=90, subsampling=0)
Image.fromarray(gray).save(os.path.join(OUT, 'made_gray_progressive.jpg'), quality=85, progressive=True)
Image.fromarray(gray[:77, :53]).save(os.path.join(OUT, 'made_gray_odd.jpg'), quality=75)

files = sorted(glob.glob(os.path.join(OUT, '**', '*.jpg'), recursive=True))
files += sorted(glob.glob(os.path.join(ROOT, 'public', 'samples', 'tomograms', '*', '*.jpg')))
ref = {'pil': Image.__version__, 'libjpeg_turbo': features.version('libjpeg_turbo'), 'files': {}}
for f in files:
    a = np.asarray(Image.open(f).convert('L'))
    ref['files'][os.path.relpath(f, ROOT)] = {'shape': list(a.shape), 'sha256': hashlib.sha256(a.tobytes()).hexdigest()}
with open(os.path.join(OUT, 'pil.json'), 'w') as fh:
    json.dump(ref, fh, indent=1)
    fh.write('\n')
print(f'{len(files)} files')
