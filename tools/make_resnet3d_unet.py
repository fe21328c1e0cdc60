"""A ResNet3D U-Net of the BYU flagellar-motor solution's width, with random fixed weights, for
the GPU benchmark (tools/gpuBench.ts, tools/device-bench.sh). Not committed: made at run time.

Encoder: 3D ResNet with Bottleneck blocks (expansion 4), layers [3, 24, 36, 3] by default
(ResNet-200's depth), base width 64: channels 256, 512, 1024, 2048 at strides 4, 8, 16, 32. The
stem is two strided 3D convolutions (no MaxPool3d, which onnxruntime-web's WebGPU backend does not
run). Decoder: nearest x2 upsampling written as Reshape/Expand (no Resize or ConvTranspose3d,
which WebGPU does not run in 3D), skip concatenation and a 3x3x3 conv per level, up to stride 4;
a 1x1x1 head gives one logit map at 1/4 resolution, like the demo motor model.

    python3 tools/make_resnet3d_unet.py --layers 3,24,36,3 --width 64 --out model.onnx
"""
import argparse
import inspect

import torch
from torch import nn


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1):
        super().__init__()
        cout = planes * self.expansion
        self.conv1 = nn.Conv3d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv3d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm3d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.down is None else self.down(x)))


def up2(x):
    """Nearest x2 upsampling with Reshape/Expand only."""
    n, c, d, h, w = x.shape
    x = x.reshape(n, c, d, 1, h, 1, w, 1).expand(n, c, d, 2, h, 2, w, 2)
    return x.reshape(n, c, d * 2, h * 2, w * 2)


def conv_bn(cin, cout, k=3, stride=1):
    return nn.Sequential(nn.Conv3d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class ResNet3dUNet(nn.Module):
    def __init__(self, layers, width=64):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(1, width, 7, 2), conv_bn(width, width, 3, 2))
        chans = []
        blocks = []
        cin = width
        for i, n in enumerate(layers):
            planes = width * 2**i
            stride = 1 if i == 0 else 2
            seq = [Bottleneck(cin, planes, stride)]
            cin = planes * Bottleneck.expansion
            seq += [Bottleneck(cin, planes) for _ in range(n - 1)]
            blocks.append(nn.Sequential(*seq))
            chans.append(cin)
        self.layers = nn.ModuleList(blocks)
        dec = []
        c = chans[-1]
        for skip in reversed(chans[:-1]):
            out = max(width, skip // 4)
            dec.append(conv_bn(c + skip, out))
            c = out
        self.decoder = nn.ModuleList(dec)
        self.head = nn.Conv3d(c, 1, 1)

    def forward(self, x):
        x = self.stem(x)
        skips = []
        for layer in self.layers:
            x = layer(x)
            skips.append(x)
        for conv, skip in zip(self.decoder, reversed(skips[:-1])):
            x = conv(torch.cat([up2(x), skip], 1))
        return self.head(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--layers', default='3,24,36,3')
    ap.add_argument('--width', type=int, default=64)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    layers = [int(v) for v in a.layers.split(',')]
    torch.manual_seed(0)
    m = ResNet3dUNet(layers, a.width).eval()
    params = sum(p.numel() for p in m.parameters())
    x = torch.rand(1, 1, 32, 64, 64)
    kw = {}
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kw['dynamo'] = False
    with torch.no_grad():
        torch.onnx.export(
            m, x, a.out, input_names=['input'], output_names=['heatmap'], opset_version=17,
            dynamic_axes={'input': {0: 'n', 2: 'd', 3: 'h', 4: 'w'}, 'heatmap': {0: 'n', 2: 'd4', 3: 'h4', 4: 'w4'}}, **kw,
        )
    print(f'{a.out}: ResNet3D U-Net, Bottleneck layers {layers}, width {a.width}, {params / 1e6:.1f} M parameters')


if __name__ == '__main__':
    main()
