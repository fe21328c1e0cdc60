"""The "PyTorch + MONAI" comparator of `npm run bench`: MeshNet (its ONNX weights loaded into an
equivalent torch Conv3d/ReLU chain) through MONAI's sliding_window_inference on the same input.

  MONAI_SRC=/path/to/MONAI /usr/bin/python3 tools/bench/monai.py model.onnx input.npy ROI OVERLAP MODE out.npy

MONAI is imported from MONAI_SRC (a source tree: it is not installed here and never vendored).
Last stdout line: JSON with the process's CPU seconds and peak RSS, and the CPU seconds of the
sliding_window_inference call alone (all threads).
"""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.environ['MONAI_SRC'])
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import numpy_helper  # noqa: E402
from monai.inferers import sliding_window_inference  # noqa: E402

model_path, input_path, roi, overlap, mode, out_path = sys.argv[1:7]
torch.set_num_threads(int(os.environ.get('VB_TORCH_THREADS', os.cpu_count())))

g = onnx.load(model_path).graph
weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in g.initializer}
layers = []
for n in g.node:
    if n.op_type == 'Relu':
        layers.append(torch.nn.ReLU())
        continue
    assert n.op_type == 'Conv', f'unsupported op {n.op_type}'
    a = {x.name: onnx.helper.get_attribute_value(x) for x in n.attribute}
    w = weights[n.input[1]]
    conv = torch.nn.Conv3d(w.shape[1], w.shape[0], tuple(w.shape[2:]), dilation=tuple(a['dilations']), padding=tuple(a['pads'][:3]), bias=len(n.input) > 2)
    conv.weight.data = w
    if len(n.input) > 2:
        conv.bias.data = weights[n.input[2]]
    layers.append(conv)
net = torch.nn.Sequential(*layers).eval()

x = torch.from_numpy(np.load(input_path))[None]
r = int(roi)
with torch.no_grad():
    c0 = time.process_time()
    y = sliding_window_inference(x, (r, r, r), 1, net, overlap=float(overlap), mode=mode, sigma_scale=0.125)
    infer_cpu = time.process_time() - c0
np.save(out_path, y[0].numpy())
ru = resource.getrusage(resource.RUSAGE_SELF)
# this process's own peak: ru_maxrss starts at the spawning (bench) process's RSS (fork copies it, exec keeps it)
peak_kb = ru.ru_maxrss
try:
    with open('/proc/self/status') as f:
        peak_kb = next(int(l.split()[1]) for l in f if l.startswith('VmHWM:'))
except (OSError, StopIteration):
    pass
print(json.dumps({'cpuS': ru.ru_utime + ru.ru_stime, 'maxRssMB': peak_kb / 1024, 'inferCpuS': infer_cpu}))
