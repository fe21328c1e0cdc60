"""Small models of the five real architectures that users bring from the public solutions, exported
as a user would (torch.onnx.export, opset 17, default output names for some, one export with
dynamic spatial axes and one with fixed ones where the solution had fixed ones), with PyTorch
reference outputs and, for the 3D models, MONAI `sliding_window_inference` references.

    PYTHONPATH=/path/to/MONAI /usr/bin/python3 tools/make_real_models.py

MONAI is not a dependency: put a source checkout of Project-MONAI/MONAI on PYTHONPATH while this
runs (its `monai` package imports with torch 1.13). Without it the script stops.

The real block structure at small depth and width, random fixed weights (seed 0; BatchNorm
running statistics randomised too, so that they matter), eval mode:
  byu_*      BYU 2025 motors: 3D U-Net, ResNet3D encoder (7x7x7 stride-2 stem + 3D max-pool,
             Bottleneck blocks [2, 1, 1, 1], widths /16), ConvTranspose3d decoder with skips, one
             heatmap channel at stride 8; forward starts with x / 255.
  hms_*      HMS 2024 resnet34d: deep 3-conv stem, max-pool, BasicBlocks [2, 2, 2, 2] (resnet34 has
             [3, 4, 6, 3]), avg-down shortcuts (AvgPool2d(2, 2, ceil_mode=True,
             count_include_pad=False) + 1x1 conv + BN), global average pool, 6 logits.
  rsna_seg_* RSNA 2022 stage 1: 2D-to-3D resnet18d encoder (deep 3D stem, 3D max-pool,
             BasicBlocks [1, 1, 1, 1], 3D avg-down shortcuts with ceil_mode) + U-Net decoder
             (nearest upsampling, skip concat, 2 convs per block, 5 blocks), 7 channels at full
             resolution.
  rsna_cls_* RSNA 2022 stage 2: a 2.5D CNN per slice (6 channels: 5 neighbouring slices + the
             vertebra mask) + a bidirectional LSTM over the 15 slices; outputs per-slice fracture
             logits (bs, 15) and a per-vertebra logit (bs, 1). Input (bs, 15, 6, H, W): the real
             one is 224 x 224; the 5D export here has dynamic H, W (references at 32 x 32) and the
             4D export with a fixed batch of 15 is declared (15, 6, 224, 224).
  hpa_*      HPA 2021 Puzzle-CAM: SE-ResNeXt (stem 7x7 stride 2 + max-pool, SE-ResNeXt bottlenecks
             [1, 1, 1, 1] with 4 groups), 1x1 conv (no bias) to 19 class maps, logits = global
             average of the maps. Outputs (logits, class maps) under default names.

Writes tests/fixtures/real_models/ (models, inputs, references, manifest.json).
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn


def monai_sliding_window():
    """MONAI's sliding_window_inference (generation time only; imported here so that the model classes
    can be imported without it, e.g. by tools/make_real_pipeline_refs.py)."""
    try:
        from monai.inferers import sliding_window_inference
    except ImportError:
        sys.exit('MONAI is not importable: put a source checkout of Project-MONAI/MONAI on PYTHONPATH (generation time only)')
    return sliding_window_inference


ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'real_models')
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)
manifest = {'generator': 'tools/make_real_models.py', 'torch': torch.__version__, 'onnx': onnx.__version__, 'models': []}


def randomize_bn(model):
    """Random BatchNorm statistics and affine values, so that folding them is exercised."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model.eval()


def export(model, example, name, input_names=None, output_names=None, dynamic_axes=None):
    """torch.onnx.export as a user does it: opset 17, constant folding (the default)."""
    path = os.path.join(OUT, name)
    kw = {}
    if input_names:
        kw['input_names'] = input_names
    if output_names:
        kw['output_names'] = output_names
    if dynamic_axes:
        kw['dynamic_axes'] = dynamic_axes
    with torch.no_grad():
        torch.onnx.export(model, example, path, opset_version=17, **kw)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ins = [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in m.graph.input]
    outs = [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output]
    size = os.path.getsize(path)
    print(f'{name}: {size / 1e3:.0f} KB, inputs {ins}, outputs {outs}, ops {sorted({n.op_type for n in m.graph.node})}')
    return {'file': name, 'bytes': size, 'inputs': [{'name': n, 'dims': d} for n, d in ins], 'outputs': [{'name': n, 'dims': d} for n, d in outs]}


def save(name, arr):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(arr))
    return name


def hash_u8(shape):
    """uint8 values from the flat index (Knuth's multiplicative hash, top 8 bits of 32): the same
    formula in the tests (tests/realModels.ts hashU8) makes large inputs without storing them."""
    i = np.arange(int(np.prod(shape)), dtype=np.uint64)
    return (((i * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)) >> np.uint64(24)).astype(np.uint8).reshape(shape)


def params(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# BYU: ResNet3D (Bottleneck) U-Net, heatmap at stride 8, x / 255 inside


class Bottleneck3d(nn.Module):
    expansion = 4

    def __init__(self, inp, planes, stride=1):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv3d(inp, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(out)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(nn.Conv3d(inp, out, 1, stride=stride, bias=False), nn.BatchNorm3d(out))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + idt)


class ByuUNet(nn.Module):
    """ResNet3D encoder (stem 7x7x7 stride 2 + max-pool, Bottleneck layers at strides 4, 8, 16, 32),
    ConvTranspose3d decoder back to stride 8, 1x1x1 head: one heatmap logit per 8^3 cell."""

    def __init__(self, stem=8, planes=(4, 8, 12, 16), blocks=(2, 1, 1, 1), dec=(16, 8)):
        super().__init__()
        self.conv1 = nn.Conv3d(1, stem, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm3d(stem)
        self.maxpool = nn.MaxPool3d(3, stride=2, padding=1)
        layers, inp = [], stem
        for i, (p, n) in enumerate(zip(planes, blocks)):
            blk = []
            for j in range(n):
                blk.append(Bottleneck3d(inp, p, stride=(1 if i == 0 else 2) if j == 0 else 1))
                inp = p * 4
            layers.append(nn.Sequential(*blk))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        c2, c3, c4 = planes[1] * 4, planes[2] * 4, planes[3] * 4
        self.up4 = nn.ConvTranspose3d(c4, dec[0], 2, stride=2)
        self.dec3 = nn.Sequential(nn.Conv3d(dec[0] + c3, dec[0], 3, padding=1, bias=False), nn.BatchNorm3d(dec[0]), nn.ReLU(inplace=True))
        self.up3 = nn.ConvTranspose3d(dec[0], dec[1], 2, stride=2)
        self.dec2 = nn.Sequential(nn.Conv3d(dec[1] + c2, dec[1], 3, padding=1, bias=False), nn.BatchNorm3d(dec[1]), nn.ReLU(inplace=True))
        self.head = nn.Conv3d(dec[1], 1, 1)

    def forward(self, x):
        x = x / 255
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        f1 = self.layer1(x)
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        f4 = self.layer4(f3)
        y = self.dec3(torch.cat([self.up4(f4), f3], 1))
        y = self.dec2(torch.cat([self.up3(y), f2], 1))
        return self.head(y)


# ---------------------------------------------------------------------------------------------
# HMS: timm resnet34d (deep stem, avg-down)


def conv_bn(cin, cout, k, stride=1, dims=2):
    Conv, BN = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)
    return nn.Sequential(Conv(cin, cout, k, stride=stride, padding=k // 2, bias=False), BN(cout))


class BasicBlock(nn.Module):
    """timm BasicBlock with the 'd' variant's avg-down shortcut (2D or 3D)."""

    def __init__(self, inp, planes, stride=1, dims=2):
        super().__init__()
        self.c1 = conv_bn(inp, planes, 3, stride, dims)
        self.c2 = conv_bn(planes, planes, 3, 1, dims)
        self.downsample = None
        if stride != 1 or inp != planes:
            Pool = nn.AvgPool2d if dims == 2 else nn.AvgPool3d
            pool = Pool(2, stride, ceil_mode=True, count_include_pad=False) if stride != 1 else nn.Identity()
            self.downsample = nn.Sequential(pool, conv_bn(inp, planes, 1, 1, dims))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        return F.relu(self.c2(F.relu(self.c1(x))) + idt)


class DeepStemResNet(nn.Module):
    """resnet*d trunk: stem conv3x3 s2 -> conv3x3 -> conv3x3 (BN + ReLU each), max-pool 3 s2, 4 layers."""

    def __init__(self, cin, stem=(4, 4, 8), planes=(8, 16, 24, 32), blocks=(2, 2, 2, 2), dims=2):
        super().__init__()
        Pool = nn.MaxPool2d if dims == 2 else nn.MaxPool3d
        s = []
        for i, c in enumerate(stem):
            s += [conv_bn(cin if i == 0 else stem[i - 1], c, 3, 2 if i == 0 else 1, dims), nn.ReLU(inplace=True)]
        self.stem = nn.Sequential(*s)
        self.pool = Pool(3, 2, 1)
        inp = stem[-1]
        self.layers = nn.ModuleList()
        for i, (p, n) in enumerate(zip(planes, blocks)):
            blk = []
            for j in range(n):
                blk.append(BasicBlock(inp, p, (1 if i == 0 else 2) if j == 0 else 1, dims))
                inp = p
            self.layers.append(nn.Sequential(*blk))

    def features(self, x):
        x0 = self.stem(x)
        x = self.pool(x0)
        feats = [x0]
        for layer in self.layers:
            x = layer(x)
            feats.append(x)
        return feats


class HmsResNet34d(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = DeepStemResNet(1, stem=(4, 4, 8), planes=(8, 16, 24, 32), blocks=(2, 2, 2, 2))
        self.fc = nn.Linear(32, 6)

    def forward(self, x):
        f = self.trunk.features(x)[-1]
        return self.fc(f.mean((2, 3)))


# ---------------------------------------------------------------------------------------------
# RSNA stage 1: 3D resnet18d encoder + U-Net decoder, 7 vertebrae


class DecoderBlock3d(nn.Module):
    def __init__(self, cin, cskip, cout):
        super().__init__()
        self.c1 = nn.Sequential(conv_bn(cin + cskip, cout, 3, 1, 3), nn.ReLU(inplace=True))
        self.c2 = nn.Sequential(conv_bn(cout, cout, 3, 1, 3), nn.ReLU(inplace=True))

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        if skip is not None:
            x = torch.cat([x, skip], 1)
        return self.c2(self.c1(x))


class RsnaSeg3d(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = DeepStemResNet(3, stem=(4, 4, 8), planes=(8, 12, 16, 24), blocks=(1, 1, 1, 1), dims=3)
        dec = (16, 12, 8, 8, 4)
        skips = (16, 12, 8, 8, 0)  # layer3, layer2, layer1, stem, none
        self.blocks = nn.ModuleList()
        cin = 24
        for c, s in zip(dec, skips):
            self.blocks.append(DecoderBlock3d(cin, s, c))
            cin = c
        self.head = nn.Conv3d(dec[-1], 7, 3, padding=1)

    def forward(self, x):
        x0, l1, l2, l3, l4 = self.enc.features(x)
        y = l4
        for blk, skip in zip(self.blocks, [l3, l2, l1, x0, None]):
            y = blk(y, skip)
        return self.head(y)


# ---------------------------------------------------------------------------------------------
# RSNA stage 2: 2.5D CNN per slice + LSTM over 15 slices


class SliceCnn(nn.Module):
    """A small resnet18-style 2D CNN on one 6-channel slice: stem, 3 stride-2 BasicBlocks, GAP."""

    def __init__(self, cin=6, widths=(8, 12, 16, 24)):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(cin, widths[0], 3, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        self.blocks = nn.Sequential(*[BasicBlock(a, b, 2) for a, b in zip(widths[:-1], widths[1:])])
        self.out = widths[-1]

    def forward(self, x):
        return self.blocks(self.stem(x)).mean((2, 3))


class RsnaStage2(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.cnn = SliceCnn()
        self.lstm = nn.LSTM(self.cnn.out, hidden, num_layers=1, batch_first=True, bidirectional=True)
        self.slice_head = nn.Linear(2 * hidden, 1)
        self.vertebra_head = nn.Linear(2 * hidden, 1)

    def forward(self, x):
        bs, n = x.shape[0], x.shape[1]
        f = self.cnn(x.reshape(bs * n, x.shape[2], x.shape[3], x.shape[4])).reshape(bs, n, -1)
        h, _ = self.lstm(f)
        return self.slice_head(h).squeeze(-1), self.vertebra_head(h.mean(1))


class RsnaStage2Flat(nn.Module):
    """The same network fed one vertebra's 15 slices as a 4D batch (15, 6, H, W)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x.unsqueeze(0))


# ---------------------------------------------------------------------------------------------
# HPA: SE-ResNeXt + 19 class maps + GAP logits (Puzzle-CAM)


class SEModule(nn.Module):
    def __init__(self, c, r=8):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))


class SEResNeXtBottleneck(nn.Module):
    def __init__(self, inp, planes, stride=1, groups=4, base_width=8):
        super().__init__()
        width = planes * base_width // 4
        out = planes * 4
        self.c1 = nn.Sequential(conv_bn(inp, width, 1), nn.ReLU(inplace=True))
        self.c2 = nn.Sequential(nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.c3 = conv_bn(width, out, 1)
        self.se = SEModule(out)
        self.downsample = conv_bn(inp, out, 1, stride) if stride != 1 or inp != out else None

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        return F.relu(self.se(self.c3(self.c2(self.c1(x)))) + idt)


class HpaPuzzleCam(nn.Module):
    def __init__(self, planes=(4, 8, 16, 24)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(4, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        blocks, inp = [], 16
        for i, p in enumerate(planes):
            blocks.append(SEResNeXtBottleneck(inp, p, 1 if i == 0 else 2))
            inp = p * 4
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Conv2d(inp, 19, 1, bias=False)

    def forward(self, x):
        maps = self.classifier(self.blocks(self.stem(x)))
        return maps.mean((2, 3)), maps


# ---------------------------------------------------------------------------------------------
# exports and references


def monai(model, x, roi, sw, overlap, mode='constant', sigma=0.125):
    sliding_window_inference = monai_sliding_window()
    with torch.no_grad():
        return sliding_window_inference(torch.from_numpy(x)[None], roi, sw, model, overlap=overlap, mode=mode, sigma_scale=sigma,
                                        padding_mode='constant', cval=0.0)[0].numpy().astype(np.float32)


def torch_out(model, x):
    with torch.no_grad():
        y = model(torch.from_numpy(x))
    return [t.numpy().astype(np.float32) for t in (y if isinstance(y, tuple) else (y,))]


def add(entry):
    manifest['models'].append(entry)


def main():
    # BYU -------------------------------------------------------------------------------------------
    torch.manual_seed(0)
    byu = randomize_bn(ByuUNet())
    vol = np.random.default_rng(1).integers(0, 256, (40, 80, 72)).astype(np.uint8)
    # smooth it a little so that the random network sees structure, keep uint8 (a resized tomogram)
    vol = np.clip(vol.astype(np.float32) * 0.5 + 64 + 40 * np.sin(np.arange(72) / 7)[None, None], 0, 255).round().astype(np.uint8)
    roi, overlap, sw = (32, 64, 64), (0.5, 0.25, 0.25), 2
    x = vol.astype(np.float32)[None]
    dyn = export(byu, torch.zeros(1, 1, 32, 64, 64), 'byu_unet3d.onnx', ['input'], ['heatmap'],
                 {'input': {0: 'batch', 2: 'depth', 3: 'height', 4: 'width'}, 'heatmap': {0: 'batch', 2: 'depth_out', 3: 'height_out', 4: 'width_out'}})
    fixed = export(byu, torch.zeros(1, 1, *roi), 'byu_unet3d_fixed.onnx')
    window = x[None, :, :roi[0], :roi[1], :roi[2]]
    add({
        'name': 'byu', 'architecture': 'BYU 2025 3D U-Net: ResNet3D encoder (7x7x7 s2 stem + 3D max-pool, Bottleneck [2,1,1,1]), ConvTranspose3d decoder, heatmap at stride 8, x / 255 inside',
        'parameters': params(byu), 'exports': [dyn, fixed], 'inputScaling': 'model divides by 255 (feed 0..255)',
        'input': save('byu_volume_u8.npy', vol), 'inputNote': '(D, H, W) uint8 tomogram, fed as float 0..255 with a channel axis',
        'window': {'input': 'first roi of the volume (1, 1, 32, 64, 64)', 'torch': save('byu_window_torch.npy', torch_out(byu, window)[0])},
        'slidingWindow': {'roi': list(roi), 'overlap': list(overlap), 'swBatch': sw, 'mode': 'constant',
                          'monai': save('byu_monai.npy', monai(byu, x, roi, sw, overlap))},
    })

    # HMS -------------------------------------------------------------------------------------------
    torch.manual_seed(0)
    hms = randomize_bn(HmsResNet34d())
    spec = np.random.default_rng(2).standard_normal((2, 1, 72, 88)).astype(np.float32)
    e = export(hms, torch.zeros(1, 1, 64, 64), 'hms_resnet34d.onnx', ['spectrogram'], ['logits'],
               {'spectrogram': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch'}})
    add({
        'name': 'hms', 'architecture': 'HMS 2024 timm resnet34d: deep stem, max-pool, BasicBlocks [2,2,2,2], avg-down shortcuts (AveragePool ceil_mode=1, count_include_pad=0), 6 logits',
        'parameters': params(hms), 'exports': [e], 'input': save('hms_input.npy', spec),
        'inputNote': '(2, 1, 72, 88) standardised log spectrograms (the real one is 1 x 512 x 512); odd sizes inside the network make ceil_mode matter',
        'torch': [save('hms_logits_torch.npy', torch_out(hms, spec)[0])],
    })

    # RSNA stage 1 ----------------------------------------------------------------------------------
    torch.manual_seed(0)
    seg = randomize_bn(RsnaSeg3d())
    ct = np.random.default_rng(3).integers(0, 256, (36, 36, 32)).astype(np.uint8)
    x = np.repeat((ct.astype(np.float32) / np.float32(255))[None], 3, 0)
    roi, overlap, sw = (32, 32, 32), (0.5, 0.5, 0.5), 2
    e = export(seg, torch.zeros(1, 3, 32, 32, 32), 'rsna_seg3d.onnx', ['volume'], ['vertebrae'],
               {'volume': {0: 'batch', 2: 'd', 3: 'h', 4: 'w'}, 'vertebrae': {0: 'batch', 2: 'd', 3: 'h', 4: 'w'}})
    add({
        'name': 'rsna_seg', 'architecture': 'RSNA 2022 stage 1: 3D resnet18d encoder (deep 3D stem, 3D max-pool, BasicBlocks [1,1,1,1], 3D avg-down with ceil_mode) + U-Net decoder, 7 channels at full resolution',
        'parameters': params(seg), 'exports': [e], 'input': save('rsna_seg_volume_u8.npy', ct),
        'inputNote': '(D, H, W) uint8; the model input is u8 / 255 (float32) repeated to 3 channels: (3, D, H, W)',
        'slidingWindow': {'roi': list(roi), 'overlap': list(overlap), 'swBatch': sw, 'mode': 'gaussian', 'sigmaScale': 0.125,
                          'monai': save('rsna_seg_monai.npy', monai(seg, x, roi, sw, overlap, 'gaussian'))},
    })

    # RSNA stage 2 ----------------------------------------------------------------------------------
    torch.manual_seed(0)
    cls = randomize_bn(RsnaStage2())
    crops = np.random.default_rng(4).integers(0, 256, (2, 15, 6, 32, 32)).astype(np.uint8)
    xc = crops.astype(np.float32) / np.float32(255)
    e5 = export(cls, torch.zeros(1, 15, 6, 32, 32), 'rsna_cls_seq.onnx', ['crops'], ['slice_logits', 'vertebra_logit'],
                {'crops': {0: 'batch', 3: 'height', 4: 'width'}, 'slice_logits': {0: 'batch'}, 'vertebra_logit': {0: 'batch'}})
    flat = RsnaStage2Flat(cls).eval()
    e4 = export(flat, torch.zeros(15, 6, 224, 224), 'rsna_cls_b15.onnx')
    big = hash_u8((15, 6, 224, 224)).astype(np.float32) / np.float32(255)
    s5, v5 = torch_out(cls, xc)
    s4, v4 = torch_out(flat, big)
    add({
        'name': 'rsna_cls', 'architecture': 'RSNA 2022 stage 2: 2.5D CNN per slice (6 channels) + bidirectional LSTM over 15 slices; per-slice logits (bs, 15) and a per-vertebra logit (bs, 1)',
        'parameters': params(cls), 'exports': [e5, e4],
        'input': save('rsna_cls_crops_u8.npy', crops), 'inputNote': '(2, 15, 6, 32, 32) uint8 crops, fed / 255 (the real crops are 224 x 224; the 5D export takes any H, W)',
        'torch': [save('rsna_cls_slice_torch.npy', s5), save('rsna_cls_vertebra_torch.npy', v5)],
        'fixedBatch': {'file': 'rsna_cls_b15.onnx', 'input': 'hashU8((15, 6, 224, 224)) / 255',
                       'torch': [save('rsna_cls_b15_slice_torch.npy', s4), save('rsna_cls_b15_vertebra_torch.npy', v4)]},
    })

    # HPA -------------------------------------------------------------------------------------------
    torch.manual_seed(0)
    hpa = randomize_bn(HpaPuzzleCam())
    img = np.random.default_rng(5).standard_normal((1, 4, 64, 64)).astype(np.float32)
    e = export(hpa, torch.zeros(1, 4, 64, 64), 'hpa_seresnext.onnx', dynamic_axes=None)
    lg, maps = torch_out(hpa, img)
    add({
        'name': 'hpa', 'architecture': 'HPA 2021 Puzzle-CAM: SE-ResNeXt (7x7 s2 stem + max-pool, SE-ResNeXt bottlenecks [1,1,1,1], 4 groups), 1x1 conv to 19 class maps, logits = GAP of the maps',
        'parameters': params(hpa), 'exports': [e], 'input': save('hpa_input.npy', img),
        'inputNote': '(1, 4, 64, 64) normalised RGBY (the real one is 512 x 512); fixed-size export with default names',
        'torch': [save('hpa_logits_torch.npy', lg), save('hpa_maps_torch.npy', maps)],
    })

    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(OUT, p)) for p in os.listdir(OUT))
    print(f'total {total / 1e6:.2f} MB in {os.path.relpath(OUT, ROOT)}')
    for m in manifest['models']:
        print(f"{m['name']}: {m['parameters']:,} parameters")


if __name__ == '__main__':
    main()
