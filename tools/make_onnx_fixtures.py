"""ONNX fixtures for the bring-your-own-model tests (issue 5): ConvTranspose3d models, a small 3D
U-Net, a model saved with external data, and PyTorch reference outputs for fixed inputs.

Run with Debian's python (torch 1.13, onnx 1.12):  /usr/bin/python3 tools/make_onnx_fixtures.py
Writes tests/fixtures/onnx/:
  unet_convtranspose3d.onnx          3D U-Net: Conv/InstanceNorm/LeakyRelu/MaxPool, a strided Conv,
                                     ConvTranspose3d k2 s2 (bias) and ConvTranspose3d k3 s2 p1 op1 (bias)
  unet_input.npy, unet_output_torch.npy   (1, 1, 16, 16, 16) input and PyTorch's output on it
  convtranspose3d_s1_p1.onnx         ConvTranspose3d(3, 2, k3, s1, p1), bias
  convtranspose3d_odd.onnx           ConvTranspose3d(2, 3, k(3,2,3), s(2,1,2), p(1,0,1), op(1,0,0)), no bias
  convtranspose3d_dilated.onnx       ConvTranspose3d(2, 2, k3, s2, p2, op1, dilation 2), bias
  <name>_input.npy, <name>_torch.npy for each of those
  resize3d.onnx                      Conv3d -> trilinear upsampling x2 (Resize) -> Conv3d
  external/unet_ext.onnx + external/unet_ext.onnx.data   the U-Net with every tensor in one external file
All models: opset 17, dynamic batch and spatial axes.
The rewritten U-Net (unet_convtranspose3d.webgpu.onnx) and onnxruntime's output on unet_input.npy
(unet_output_ort.npy) come from onnxruntime-node: UPDATE_FIXTURES=1 npx vitest run tests/onnx.test.ts
"""
import os

import numpy as np
import onnx
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'onnx')
os.makedirs(os.path.join(OUT, 'external'), exist_ok=True)
torch.manual_seed(0)
rng = np.random.default_rng(0)


class UNet3d(nn.Module):
    """Two levels down (MaxPool, strided Conv), two ConvTranspose3d up, skip connections."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.InstanceNorm3d(4, affine=True), nn.LeakyReLU(0.01))
        self.pool = nn.MaxPool3d(2)
        self.enc2 = nn.Sequential(nn.Conv3d(4, 8, 3, padding=1), nn.ReLU())
        self.down = nn.Sequential(nn.Conv3d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.up2 = nn.ConvTranspose3d(16, 8, 2, stride=2)
        self.dec2 = nn.Sequential(nn.Conv3d(16, 8, 3, padding=1), nn.ReLU())
        self.up1 = nn.ConvTranspose3d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.dec1 = nn.Sequential(nn.Conv3d(8, 4, 3, padding=1), nn.ReLU())
        self.head = nn.Conv3d(4, 2, 1)

    def forward(self, x):
        s1 = self.enc1(x)
        s2 = self.enc2(self.pool(s1))
        b = self.down(s2)
        d2 = self.dec2(torch.cat([self.up2(b), s2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), s1], 1))
        return self.head(d1)


def export(model, x, path):
    model.eval()
    axes = {0: 'n', 2: 'd', 3: 'h', 4: 'w'}
    torch.onnx.export(model, x, path, opset_version=17, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': axes, 'output': axes})


def reference(model, x, name):
    with torch.no_grad():
        y = model(x).numpy().astype(np.float32)
    np.save(os.path.join(OUT, f'{name}_input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, f'{name}_torch.npy'), y)
    return y


def randomize(model):
    # default inits give tiny outputs for some layers; make every weight and bias matter
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    return model


unet = randomize(UNet3d()).eval()
x = torch.from_numpy(rng.standard_normal((1, 1, 16, 16, 16)).astype(np.float32))
export(unet, x, os.path.join(OUT, 'unet_convtranspose3d.onnx'))
with torch.no_grad():
    y = unet(x).numpy().astype(np.float32)
np.save(os.path.join(OUT, 'unet_input.npy'), x.numpy())
np.save(os.path.join(OUT, 'unet_output_torch.npy'), y)

m = onnx.load(os.path.join(OUT, 'unet_convtranspose3d.onnx'))
for f in ('unet_ext.onnx', 'unet_ext.onnx.data'):  # onnx.save appends to an existing data file
    if os.path.exists(os.path.join(OUT, 'external', f)):
        os.remove(os.path.join(OUT, 'external', f))
onnx.save(m, os.path.join(OUT, 'external', 'unet_ext.onnx'), save_as_external_data=True, all_tensors_to_one_file=True,
          location='unet_ext.onnx.data', size_threshold=0)

cases = {
    'convtranspose3d_s1_p1': (nn.ConvTranspose3d(3, 2, 3, stride=1, padding=1), (1, 3, 6, 7, 5)),
    'convtranspose3d_odd': (nn.ConvTranspose3d(2, 3, (3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0), bias=False),
                            (2, 2, 5, 6, 7)),
    'convtranspose3d_dilated': (nn.ConvTranspose3d(2, 2, 3, stride=2, padding=2, output_padding=1, dilation=2), (1, 2, 4, 5, 6)),
}
for name, (mod, shape) in cases.items():
    mod = randomize(mod).eval()
    xi = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    export(mod, xi, os.path.join(OUT, f'{name}.onnx'))
    reference(mod, xi, name)



class Upsampler(nn.Module):
    """Conv3d -> trilinear x2 (Resize with constant scales) -> Conv3d: float16 keeps Resize's scales float32."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv3d(1, 3, 3, padding=1)
        self.b = nn.Conv3d(3, 2, 3, padding=1)

    def forward(self, x):
        return self.b(torch.relu(nn.functional.interpolate(self.a(x), scale_factor=2, mode='trilinear', align_corners=False)))


up = randomize(Upsampler()).eval()
xi = torch.from_numpy(rng.standard_normal((1, 1, 6, 7, 8)).astype(np.float32))
export(up, xi, os.path.join(OUT, 'resize3d.onnx'))
reference(up, xi, 'resize3d')

for f in sorted(os.listdir(OUT)):
    p = os.path.join(OUT, f)
    if os.path.isfile(p):
        print(f'{f:40s} {os.path.getsize(p):8d}')
