"""References for the spine preset tests (tests/spine*.test.ts), computed in Python on the committed samples.

    /usr/bin/python3 tools/make_spine_fixtures.py

- DICOM: pydicom reads public/samples/ct/sim_neck (uncompressed) and real_totalseg_j2k (JPEG 2000
  lossless, decoded by pydicom's Pillow handler, i.e. Pillow's own OpenJPEG build, not the WASM one the
  app uses): per-file header values, stored-value sums/min/max and SHA-256 of the stored pixels.
- Preprocessing (tools/models/spine.py, the code the demo models were trained with): slice indices
  for several n, area-resize checks with non-integer factors, the uint8 128^3 volume of sim_neck
  (SHA-256, per-slice sums, three slices).
- Stage 1: the ONNX graph of public/models/spine_seg.onnx executed op by op with PyTorch (a small
  interpreter below: onnxruntime is not installed for Python here) on the preprocessed sim_neck tensor:
  statistics, a strided subsample of the logits, per-class Dice against the 128^3 ground truth.
- Stage 2: the probabilities quantised to multiples of 1/64 (stored as uint8 counts, so that both
  sides crop from identical numbers), the crops of spine.py's vertebra_crops on them (indices, boxes,
  per-slice-channel sums, SHA-256, one full crop slice), the fracture model (same interpreter) on
  those crops: per-slice logits and C_k.
- Metric: the RSNA 2022 weighted log loss on a few hand-made cases.
"""
import gzip
import hashlib
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'models'))
import common  # noqa: E402
import spine  # noqa: E402
import spine_sim as sim  # noqa: E402

ROOT = common.ROOT
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'spine')
CT = os.path.join(ROOT, 'public', 'samples', 'ct')


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def save_gz(name, arr):
    with gzip.GzipFile(os.path.join(OUT, name), 'wb', mtime=0) as f:
        np.save(f, np.ascontiguousarray(arr))


# ------------------------------------------------------------------------------------------------
# a small ONNX interpreter in PyTorch (the ops of the two demo models)


def run_onnx_torch(path, x):
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    g = m.graph
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in g.initializer}
    env[g.input[0].name] = x
    for n in g.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        ins = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == 'Constant':
            out = torch.from_numpy(numpy_helper.to_array(a['value']).copy())
        elif op == 'Conv':
            w = ins[1]
            b = ins[2] if len(ins) > 2 else None
            k = w.dim() - 2
            pads = a.get('pads', [0] * 2 * k)
            assert pads[:k] == pads[k:], 'asymmetric pads'
            conv = F.conv3d if k == 3 else F.conv2d
            out = conv(ins[0], w, b, stride=a.get('strides', [1] * k), padding=pads[:k], dilation=a.get('dilations', [1] * k), groups=a.get('group', 1))
        elif op == 'Add':
            out = ins[0] + ins[1]
        elif op == 'Sub':
            out = ins[0] - ins[1]
        elif op == 'Mul':
            out = ins[0] * ins[1]
        elif op == 'Relu':
            out = torch.relu(ins[0])
        elif op == 'Concat':
            out = torch.cat(ins, dim=a['axis'])
        elif op in ('ReduceMean', 'ReduceMax', 'ReduceSum'):
            axes = a.get('axes')
            if axes is None and len(ins) > 1 and ins[1] is not None:
                axes = [int(v) for v in ins[1].tolist()]
            keep = bool(a.get('keepdims', 1))
            if op == 'ReduceMean':
                out = ins[0].mean(dim=tuple(axes), keepdim=keep)
            elif op == 'ReduceSum':
                out = ins[0].sum(dim=tuple(axes), keepdim=keep)
            else:
                out = ins[0].amax(dim=tuple(axes), keepdim=keep)
        elif op == 'Resize':
            assert a['mode'] == b'linear' and a['coordinate_transformation_mode'] in (b'half_pixel', b'pytorch_half_pixel')
            scales = ins[2]
            if scales is not None and scales.numel() > 0:
                size = [int(round(s * f)) for s, f in zip(ins[0].shape[2:], scales.tolist()[2:])]
            else:
                size = [int(v) for v in ins[3].tolist()[2:]]
            mode = 'trilinear' if ins[0].dim() == 5 else 'bilinear'
            out = F.interpolate(ins[0], size=size, mode=mode, align_corners=False)
        elif op == 'Gemm':
            A, B = ins[0], ins[1]
            if a.get('transA', 0):
                A = A.t()
            if a.get('transB', 0):
                B = B.t()
            out = a.get('alpha', 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                out = out + a.get('beta', 1.0) * ins[2]
        elif op == 'MaxPool':
            k = len(a['kernel_shape'])
            pads = a.get('pads', [0] * 2 * k)
            pool = F.max_pool2d if k == 2 else F.max_pool3d
            out = pool(ins[0], a['kernel_shape'], a.get('strides', a['kernel_shape']), pads[:k], ceil_mode=bool(a.get('ceil_mode', 0)))
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = out
    return [env[o.name] for o in g.output]


# ------------------------------------------------------------------------------------------------


def read_series(folder):
    import pydicom

    files = sorted([f for f in os.listdir(folder) if f.endswith('.dcm')])
    rows = []
    for f in files:
        ds = pydicom.dcmread(os.path.join(folder, f))
        px = ds.pixel_array
        rows.append({
            'name': f,
            'position': [float(v) for v in ds.ImagePositionPatient],
            'instance': int(ds.InstanceNumber) if 'InstanceNumber' in ds else None,
            'sum': int(px.astype(np.int64).sum()), 'min': int(px.min()), 'max': int(px.max()),
            'hu_mean': float((px.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)).mean()),
            'sha256': sha(px.astype('<u2' if px.dtype.kind == 'u' else '<i2')),
            'corner': [int(v) for v in px[:2, :3].ravel()], 'centre': int(px[px.shape[0] // 2, px.shape[1] // 2]),
        })
    ds = pydicom.dcmread(os.path.join(folder, files[0]))
    info = {
        'transferSyntax': str(ds.file_meta.TransferSyntaxUID), 'rows': int(ds.Rows), 'cols': int(ds.Columns),
        'pixelSpacing': [float(v) for v in ds.PixelSpacing], 'orientation': [float(v) for v in ds.ImageOrientationPatient],
        'slope': float(ds.RescaleSlope), 'intercept': float(ds.RescaleIntercept),
        'studyUid': str(ds.get('StudyInstanceUID', '')), 'seriesUid': str(ds.get('SeriesInstanceUID', '')),
        'bitsStored': int(ds.BitsStored), 'pixelRepresentation': int(ds.PixelRepresentation),
    }
    # head first: largest patient z first
    order = sorted(range(len(files)), key=lambda i: -rows[i]['position'][2])
    return files, rows, info, order


def stored_stack(folder, names):
    import pydicom

    return np.stack([pydicom.dcmread(os.path.join(folder, f)).pixel_array for f in names])


def write_syntaxes():
    """Three sim_neck slices re-encoded as implicit VR little endian, explicit VR big endian and RLE
    lossless (pydicom's own encoders), for the decoder tests."""
    import pydicom
    from pydicom.uid import ImplicitVRLittleEndian, ExplicitVRBigEndian, RLELossless

    src = os.path.join(CT, 'sim_neck')
    for key, uid in (('implicit', ImplicitVRLittleEndian), ('bigendian', ExplicitVRBigEndian), ('rle', RLELossless)):
        d = os.path.join(OUT, 'syntaxes', key)
        os.makedirs(d, exist_ok=True)
        for i in (30, 31, 32):
            ds = pydicom.dcmread(os.path.join(src, f'{i}.dcm'))
            px = ds.pixel_array
            if uid == RLELossless:
                ds.compress(RLELossless, px)
            else:
                ds.file_meta.TransferSyntaxUID = uid
                ds.is_little_endian = uid != ExplicitVRBigEndian
                ds.is_implicit_VR = uid == ImplicitVRLittleEndian
                if uid == ExplicitVRBigEndian:
                    ds.PixelData = px.astype('>u2').tobytes()
            ds.save_as(os.path.join(d, f'{i}.dcm'), write_like_original=False)
            back = pydicom.dcmread(os.path.join(d, f'{i}.dcm')).pixel_array
            assert np.array_equal(back, px), key


def rsna_metric(y, p):
    """RSNA 2022: per-row weights (1/2 for C1..C7, 7/14 for patient_overall), sum(w * l) / sum(w)."""
    y = np.asarray(y, np.float64)  # (studies, 8): C1..C7, patient_overall
    p = np.clip(np.asarray(p, np.float64), 1e-15, 1 - 1e-15)
    w = np.where(y > 0, [2] * 7 + [14], [1] * 7 + [7]).astype(np.float64)
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float((w * loss).sum() / w.sum()), ((w * loss).sum(1) / w.sum(1)).tolist()


def main():
    common.setup(0)
    os.makedirs(OUT, exist_ok=True)
    ref = {'note': 'written by tools/make_spine_fixtures.py; see its docstring'}

    # ---- DICOM
    for key, folder in (('sim_neck', os.path.join(CT, 'sim_neck')), ('real_totalseg_j2k', os.path.join(CT, 'real_totalseg_j2k'))):
        files, rows, info, order = read_series(folder)
        info['files'] = rows
        info['positionOrder'] = [files[i] for i in order]
        info['volumeSha256'] = sha(stored_stack(folder, info['positionOrder']).astype('<u2'))
        ref[key] = info
        print(key, info['transferSyntax'], len(files), 'files')

    write_syntaxes()

    # ---- preprocessing
    ref['sampleIndices'] = {str(n): sim.sample_indices(n, 128).tolist() for n in (2, 3, 20, 92, 100, 127, 128, 129, 200, 255, 301, 500, 1001)}
    area = []
    for (h, w, oh, ow) in ((37, 53, 16, 16), (160, 160, 128, 128), (512, 512, 128, 128), (300, 250, 128, 128), (129, 131, 128, 128)):
        yy, xx = np.mgrid[:h, :w]
        img = ((yy * 131 + xx * 71 + (yy * xx) % 97) % 4096).astype(np.float64)  # the test builds the same image
        out = common.area_resize_2d(img, (oh, ow))
        area.append({'shape': [h, w], 'out': [oh, ow], 'sum': float(out.sum()), 'sample': out.ravel()[::97].tolist()})
    ref['area'] = area
    names = [r['name'] for r in ref['sim_neck']['files']]
    order = ref['sim_neck']['positionOrder']
    stored = stored_stack(os.path.join(CT, 'sim_neck'), order).astype(np.int64)
    u8 = spine.preprocess_series(stored)  # (rows, cols, slices)
    idx = sim.sample_indices(stored.shape[0], 128)
    resized = np.matmul(np.matmul(common.area_matrix(stored.shape[1], 128), stored[idx].astype(np.float64)), common.area_matrix(stored.shape[2], 128).T)
    ref['preprocess'] = {
        'indices': idx.tolist(), 'u8Sha256': sha(u8.transpose(2, 0, 1)), 'sliceSums': [int(v) for v in u8.astype(np.int64).sum((0, 1))],
        'resizedMin': float(resized.min()), 'resizedMax': float(resized.max()), 'resizedSliceSums': resized.sum((1, 2)).tolist(),
        'slices': [0, 64, 127],
    }
    save_gz('sim_neck_u8_slices.npy.gz', u8[:, :, [0, 64, 127]].transpose(2, 0, 1))

    # ---- stage 1 (PyTorch on the ONNX graph)
    x = spine.to_input(u8)
    with torch.no_grad():
        logits = run_onnx_torch(os.path.join(ROOT, 'public', 'models', 'spine_seg.onnx'), x)[0][0].numpy()  # (7, rows, cols, slices)
    prob = 1 / (1 + np.exp(-logits.astype(np.float64)))
    save_gz('sim_neck_logits_sub.npy.gz', logits[:, ::4, ::4, ::8].astype(np.float32))
    # ground truth on the grid
    import nibabel as nib

    lab = np.asarray(nib.load(os.path.join(CT, 'sim_neck_labels.nii.gz')).dataobj).transpose(2, 1, 0)  # (slices, rows, cols)
    gt = spine.labels_128(lab[idx])
    ref['stage1'] = {
        'logitSum': logits.astype(np.float64).sum((1, 2, 3)).tolist(), 'logitMin': float(logits.min()), 'logitMax': float(logits.max()),
        'probSum': prob.sum((1, 2, 3)).tolist(), 'above02': [int((prob[k] > 0.2).sum()) for k in range(7)],
        'diceGrid05': [common.dice(prob[k] > 0.5, gt == k + 1) for k in range(7)],
        'diceGrid02': [common.dice(prob[k] > 0.2, gt == k + 1) for k in range(7)],
        'subsample': '[:, ::4, ::4, ::8] of the (7, rows, cols, slices) logits',
    }
    print('stage 1 Dice (grid, 0.5):', np.round(ref['stage1']['diceGrid05'], 3))

    # ---- stage 2 on quantised probabilities
    q = np.round(prob * 64).astype(np.uint8)
    save_gz('sim_neck_prob_q64.npy.gz', q.transpose(0, 3, 1, 2))  # (7, slices, rows, cols)
    pq = (q.astype(np.float32) / np.float32(64))  # exact
    crops_all, verts = [], []
    for cid in range(7):
        cr, inds, _ = spine.vertebra_crops(stored, pq, cid)
        if cr is None:
            verts.append(None)
            continue
        crops_all.append(cr)
        verts.append({'indices': inds.tolist(), 'sha256': sha(cr), 'sums': cr.astype(np.int64).sum((2, 3)).tolist()})
    ref['crops'] = verts
    save_gz('sim_neck_crop_c4_s7.npy.gz', crops_all[3][7])
    crops = np.concatenate(crops_all)
    with torch.no_grad():
        fl = run_onnx_torch(os.path.join(ROOT, 'public', 'models', 'spine_fracture.onnx'), torch.from_numpy(crops.astype(np.float32) / 255.0))[0][:, 0].numpy()
    sig = 1 / (1 + np.exp(-fl.astype(np.float64)))
    ck = np.clip(sig.reshape(-1, 15).mean(1), 1e-4, 0.9999)
    ref['stage2'] = {'logits': fl.tolist(), 'C': ck.tolist(), 'patientProduct': float(np.clip(1 - np.prod(1 - ck), 1e-4, 0.9999))}
    print('stage 2 C_k:', np.round(ck, 4))

    # ---- a tiny classifier with a patient head (second output), exported here, run in PyTorch
    class TinyPatient(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(6, 1)
            self.pfc = torch.nn.Linear(6, 1)

        def forward(self, x):
            f = (x.mean((2, 3)) - 0.3) * 8.0
            return self.fc(f), self.pfc(f.mean(0, keepdim=True))

    torch.manual_seed(5)
    tiny = TinyPatient().eval()
    path = os.path.join(OUT, 'tiny_patient.onnx')
    with torch.no_grad():
        torch.onnx.export(tiny, torch.zeros(2, 6, 224, 224), path, opset_version=17, input_names=['input'],
                          output_names=['logits', 'patient'], dynamic_axes={'input': {0: 'n'}, 'logits': {0: 'n'}})
        tl, tp = tiny(torch.from_numpy(crops.astype(np.float32) / 255.0))
    tsig = 1 / (1 + np.exp(-tl[:, 0].numpy().astype(np.float64)))
    ref['tinyPatient'] = {'C': np.clip(tsig.reshape(-1, 15).mean(1), 1e-4, 0.9999).tolist(),
                          'patient': float(np.clip(1 / (1 + np.exp(-float(tp[0, 0]))), 1e-4, 0.9999))}
    print('tiny patient head:', ref['tinyPatient'])

    # ---- metric
    y = [[0, 0, 0, 0, 1, 0, 0, 1], [0] * 8, [1, 1, 0, 0, 0, 0, 1, 1]]
    p = [[0.1, 0.2, 0.05, 0.3, 0.7, 0.2, 0.1, 0.8], [0.01, 0.5, 0.9, 0.0, 1.0, 0.3, 0.2, 0.4], [0.6, 0.4, 0.2, 0.1, 0.1, 0.1, 0.5, 0.9]]
    loss, per = rsna_metric(y, p)
    ref['metric'] = {'labels': y, 'predictions': p, 'loss': loss, 'perStudy': per}
    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')
    print('wrote', os.path.relpath(OUT, ROOT))


if __name__ == '__main__':
    main()
