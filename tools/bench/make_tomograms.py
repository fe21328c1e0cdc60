"""Test tomograms for `npm run bench` (never committed): made at bench time in a temp folder.

  /usr/bin/python3 tools/bench/make_tomograms.py jpeg SRC.raw D H W OUT_DIR   slices of a uint8 volume (raw, C order)
                                                                              plus Gaussian noise (sd 8), PIL JPEG q95
The volume comes from the bench (a sample tomogram resized with core's zoomLinear), so the slices
look like a tomogram at the competition's size; the noise keeps the JPEGs as large as real ones.
"""
import os
import sys

import numpy as np
from PIL import Image

kind, src, d, h, w, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
assert kind == 'jpeg'
vol = np.memmap(src, dtype=np.uint8, mode='r', shape=(d, h, w))
rng = np.random.default_rng(17)
os.makedirs(out, exist_ok=True)
for z in range(d):
    s = np.clip(vol[z].astype(np.float32) + rng.normal(0, 8, (h, w)), 0, 255).astype(np.uint8)
    Image.fromarray(s).save(os.path.join(out, 'slice_%04d.jpg' % z), quality=95)
