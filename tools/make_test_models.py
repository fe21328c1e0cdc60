"""Tiny deterministic models and volumes for the unit and e2e tests.

Run with Debian's python (torch 1.13, nibabel):  /usr/bin/python3 tools/make_test_models.py
Writes tests/fixtures/models/*.onnx and tests/fixtures/volumes/*, plus reference outputs
computed by PyTorch on the whole volume, so tests can compare the TypeScript pipeline.
"""
import json
import os

import nibabel as nib
import numpy as np
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
MODELS = os.path.join(ROOT, 'tests', 'fixtures', 'models')
VOLUMES = os.path.join(ROOT, 'tests', 'fixtures', 'volumes')
os.makedirs(MODELS, exist_ok=True)
os.makedirs(VOLUMES, exist_ok=True)
torch.manual_seed(0)
np.random.seed(0)


class Tiny3d(nn.Module):
    """Conv3d -> ReLU -> Conv3d, 1 -> 3 channels, same spatial size: a stand-in segmenter."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv3d(1, 4, 3, padding=1)
        self.b = nn.Conv3d(4, 3, 3, padding=1)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


def export(model, shape, path, dynamic=True):
    model.eval()
    x = torch.zeros(shape)
    axes = {0: 'n', 2: 'd', 3: 'h', 4: 'w'} if dynamic else None
    torch.onnx.export(model, x, path, opset_version=17, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': axes, 'output': axes} if dynamic else None)


tiny = Tiny3d()
export(tiny, (1, 1, 8, 8, 8), os.path.join(MODELS, 'tiny3d.onnx'))
# the same network declared with fixed 16^3 input (to exercise dim relaxing)
export(tiny, (1, 1, 16, 16, 16), os.path.join(MODELS, 'tiny3d_fixed16.onnx'), dynamic=False)



class TinyUp(nn.Module):
    """Conv3d -> ConvTranspose3d stride 2: output at twice the input resolution. onnxruntime-web's
    WebGPU backend fails on 3D ConvTranspose at run time, so this exercises the WASM fallback
    and outputs at another resolution (zoom 2)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv3d(1, 2, 3, padding=1)
        self.up = nn.ConvTranspose3d(2, 1, 2, stride=2)

    def forward(self, x):
        return self.up(torch.relu(self.a(x)))


export(TinyUp(), (1, 1, 4, 4, 4), os.path.join(MODELS, 'tiny_convtranspose3d.onnx'))

# A small volume (z, y, x) = (12, 20, 16): a bright ball on a ramp, stored as NIfTI int16 with a
# rotated, shifted affine so that writers must carry the space through.
z, y, x = np.mgrid[0:12, 0:20, 0:16].astype(np.float32)
vol = (100 * np.exp(-((z - 6) ** 2 + (y - 9) ** 2 + (x - 8) ** 2) / 20.0) + 2 * x).astype(np.int16)
aff = np.array([[0, -1.5, 0, 10], [1.2, 0, 0, -5], [0, 0, 2.0, 3], [0, 0, 0, 1]], dtype=np.float64)
img = nib.Nifti1Image(np.ascontiguousarray(vol.transpose(2, 1, 0)), aff)  # nibabel wants (x, y, z)
img.set_qform(aff, code=1)
img.set_sform(aff, code=1)
nib.save(img, os.path.join(VOLUMES, 'ball_int16.nii.gz'))

with torch.no_grad():
    inp = torch.from_numpy(vol.astype(np.float32) / 255.0)[None, None]
    ref = tiny(inp)[0].numpy().astype(np.float32)
np.save(os.path.join(VOLUMES, 'ball_int16_tiny3d_whole.npy'), ref)
json.dump({'input': 'ball_int16.nii.gz', 'scale': 1 / 255.0, 'model': 'tiny3d.onnx',
           'output': 'ball_int16_tiny3d_whole.npy', 'note': 'PyTorch output on the whole volume (no tiling), input / 255'},
          open(os.path.join(VOLUMES, 'ball_int16_tiny3d_whole.json'), 'w'), indent=1)
print('ok')
