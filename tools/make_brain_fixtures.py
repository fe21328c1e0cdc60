"""References for the Brain MRI preset (tests/brain*.test.ts): niivue's conform, re-implemented in numpy.

    /usr/bin/python3 tools/make_brain_fixtures.py

What niivue-onnx feeds the MeshNet model is niivue's conform() (niivue 0.44.2, the version niivue-onnx
pins; the steps and links are in src/core/brain/conform.ts) followed by a min-max scaling to [0, 1].
This script computes it independently of the TypeScript, in numpy, on three small real volumes:

- `mr`: tests/fixtures/io/totalseg_example_mr_sm.nii.gz as it is (abdominal MR, 117x91x20 int16,
  3 mm, LPS): reslicing 3 mm -> 1 mm, reorientation LPS -> LIA, the robust 0..0.999 intensity scaling;
- `mr_oblique`: a 60x50x14 crop of the same voxels with a made-up oblique, anisotropic affine
  (rotations of 20, -12 and 8 degrees, 2.5 x 3 x 3.5 mm): trilinear weights on every axis;
- `t1_ras_2mm`: public/demo/meshnet/t1.nii.gz (the demo T1, uint8 256^3 LIA 1 mm) cropped to its centre,
  every second voxel (64^3, 2 mm) and reoriented to RAS: the uint8 path (no intensity scaling) and
  upsampling.

For each it writes <case>.json (the conformed affine, niivue's output-to-input voxel map, the
intensity mapping, SHA-256 / sums / per-slice sums of the uint8 256^3 volume, statistics of the [0, 1]
model input) and <case>.lattice.npy.gz (float32 (3, 32, 32, 32): the resampled values before scaling,
the uint8 volume and the [0, 1] model input on the lattice of every 8th voxel from 3). The matrices follow gl-matrix (float32
storage, double arithmetic), the sums and products are done in the same order as niivue, so the uint8
volume is expected to agree voxel for voxel.

Cross-checks printed (not fixtures): scipy.ndimage.map_coordinates (order 1) at the same positions
agrees with the trilinear values inside the volume; nibabel says the output axes are L, I, A and maps
the output voxel N/2 to the input's centre.

Labels: `labels_<case>.npy.gz` is a 3-class map made from the conformed volume (u8 // 86) taken back to
the native grid by nearest neighbour (src/core/brain/native.ts: c = inv(conformed affine) @ native
affine @ (i, j, k, 1), floor(c + 0.5), 0 outside).
"""
import gzip
import hashlib
import json
import math
import os

import nibabel as nib
import numpy as np
from scipy import ndimage

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'brain')
MR = os.path.join(ROOT, 'tests', 'fixtures', 'io', 'totalseg_example_mr_sm.nii.gz')
T1 = os.path.join(ROOT, 'public', 'demo', 'meshnet', 't1.nii.gz')
N = 256


def f32(v):
    return float(np.float32(v))


# --- gl-matrix 3.4 mat4 (column-major Float32Array), the formulas of invert() and multiply()

def gl_invert(a):
    a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33 = a
    b00 = a00 * a11 - a01 * a10
    b01 = a00 * a12 - a02 * a10
    b02 = a00 * a13 - a03 * a10
    b03 = a01 * a12 - a02 * a11
    b04 = a01 * a13 - a03 * a11
    b05 = a02 * a13 - a03 * a12
    b06 = a20 * a31 - a21 * a30
    b07 = a20 * a32 - a22 * a30
    b08 = a20 * a33 - a23 * a30
    b09 = a21 * a32 - a22 * a31
    b10 = a21 * a33 - a23 * a31
    b11 = a22 * a33 - a23 * a32
    det = b00 * b11 - b01 * b10 + b02 * b09 + b03 * b08 - b04 * b07 + b05 * b06
    det = 1.0 / det
    out = [
        (a11 * b11 - a12 * b10 + a13 * b09) * det,
        (a02 * b10 - a01 * b11 - a03 * b09) * det,
        (a31 * b05 - a32 * b04 + a33 * b03) * det,
        (a22 * b04 - a21 * b05 - a23 * b03) * det,
        (a12 * b08 - a10 * b11 - a13 * b07) * det,
        (a00 * b11 - a02 * b08 + a03 * b07) * det,
        (a32 * b02 - a30 * b05 - a33 * b01) * det,
        (a20 * b05 - a22 * b02 + a23 * b01) * det,
        (a10 * b10 - a11 * b08 + a13 * b06) * det,
        (a01 * b08 - a00 * b10 - a03 * b06) * det,
        (a30 * b04 - a31 * b02 + a33 * b00) * det,
        (a21 * b02 - a20 * b04 - a23 * b00) * det,
        (a11 * b07 - a10 * b09 - a12 * b06) * det,
        (a00 * b09 - a01 * b07 + a02 * b06) * det,
        (a31 * b01 - a30 * b03 - a32 * b00) * det,
        (a20 * b03 - a21 * b01 + a22 * b00) * det,
    ]
    return [f32(v) for v in out]


def gl_multiply(a, b):
    out = [0.0] * 16
    for c in range(4):
        b0, b1, b2, b3 = b[4 * c:4 * c + 4]
        for r in range(4):
            out[4 * c + r] = f32(b0 * a[r] + b1 * a[4 + r] + b2 * a[8 + r] + b3 * a[12 + r])
    return out


def conform_vox2vox(affine, in_dims, mm=1.0):
    """niivue conformVox2Vox(inDims, inAffine, 256, mm, toRAS=false): LIA output affine, output->input voxel map."""
    a = [f32(v) for v in np.asarray(affine, dtype=np.float64).ravel()]  # mat4.fromValues: row-major values, float32
    half = [d / 2 for d in in_dims]
    centre = [f32(a[4 * r] * half[0] + a[4 * r + 1] * half[1] + a[4 * r + 2] * half[2] + a[4 * r + 3] * 1) for r in range(3)]
    vol_centre = [f32(-mm * N) * 0.5, f32(mm * N) * 0.5, f32(-mm * N) * 0.5]  # Mdc @ (N, N, N) * mm / 2
    t = [f32(centre[i] - vol_centre[i]) for i in range(3)]
    out = [-mm, 0, 0, t[0], 0, 0, mm, t[1], 0, -mm, 0, t[2], 0, 0, 0, 1]
    out = [f32(v) for v in out]
    vox2vox = gl_multiply(a, gl_invert(out))
    return np.array(out, dtype=np.float64).reshape(4, 4), gl_invert(vox2vox)


def positions(inv, z):
    """Input voxel positions of the output slice z (arrays over (y, x)), as niivue sums them."""
    i0, i1, i2, i3, i4, i5, i6, i7, i8, i9, i10, i11 = inv[:12]
    y = np.arange(N, dtype=np.float64)[:, None]
    x = np.arange(N, dtype=np.float64)[None, :]
    ix = x * i0 + (y * i1 + z * i2 + i3)
    iy = x * i4 + (y * i5 + z * i6 + i7)
    iz = x * i8 + (y * i9 + z * i10 + i11)
    return ix, iy, iz


def resample_linear(img, inv):
    """niivue's trilinear resampling; img is (z, y, x) float32, output (z, y, x) float32, 0 outside."""
    dz, dy, dx = img.shape
    flat = img.astype(np.float64).ravel()
    out = np.zeros((N, N, N), dtype=np.float32)
    for z in range(N):
        ix, iy, iz = positions(inv, z)
        fx, fy, fz = np.floor(ix), np.floor(iy), np.floor(iz)
        ok = (fx >= 0) & (fy >= 0) & (fz >= 0) & (np.ceil(ix) < dx) & (np.ceil(iy) < dy) & (np.ceil(iz) < dz)
        if not ok.any():
            continue
        ix, iy, iz, fx, fy, fz = (v[ok] for v in (ix, iy, iz, fx, fy, fz))
        rcx, rcy, rcz = ix - fx, iy - fy, iz - fz
        rfx, rfy, rfz = 1 - rcx, 1 - rcy, 1 - rcz
        f = (fx + fy * dx + fz * dx * dy).astype(np.int64)
        dxy = dx * dy

        def at(o):
            # niivue reads past the end of the array (a weight-0 neighbour of the last slice): undefined -> NaN
            return np.where(f + o < flat.size, flat[np.minimum(f + o, flat.size - 1)], np.nan)
        v = at(0) * rfx * rfy * rfz
        v = v + at(dxy) * rfx * rfy * rcz
        v = v + at(dx) * rfx * rcy * rfz
        v = v + at(dx + dxy) * rfx * rcy * rcz
        v = v + at(1) * rcx * rfy * rfz
        v = v + at(1 + dxy) * rcx * rfy * rcz
        v = v + at(1 + dx) * rcx * rcy * rfz
        v = v + at(1 + dx + dxy) * rcx * rcy * rcz
        sl = np.zeros((N, N), dtype=np.float32)
        sl[ok] = v.astype(np.float32)
        out[z] = sl
    return out


def get_scale(data, is_uint8, f_low=0.0, f_high=0.999):
    """niivue getScale(volume, 0, 255, f_low, f_high) with the global min/max of all voxels (niivue 0.44.2)."""
    d = data.astype(np.float64).ravel()
    mn, mx = float(d.min()), float(d.max())
    if is_uint8:
        return mn, mx, 1.0
    n = d.size
    nz = int(np.count_nonzero(np.abs(d) >= 1e-15))
    bin_size = (mx - mn) / 1000
    bins = np.minimum(np.floor((d - mn) / bin_size), 999).astype(np.int64)
    cs = np.cumsum(np.bincount(bins, minlength=1000))
    nth = math.floor(f_low * n)
    lo = 0
    while lo < 1000 and not cs[lo] >= nth:
        lo += 1
    nth = n - math.floor((1.0 - f_high) * nz)
    hi = 0
    while hi < 999 and not cs[hi + 1] >= nth:
        hi += 1
    src_min = lo * bin_size + mn
    src_max = hi * bin_size + mn
    return src_min, src_max, (255 / (src_max - src_min) if src_min != src_max else 1.0)


def scale_uint8(r, src_min, scale):
    v = 0 + scale * (r.astype(np.float64) - src_min)
    return np.trunc(np.clip(np.nan_to_num(v), 0, 255)).astype(np.uint8)


def minmax_input(u8):
    x = u8.astype(np.float32)
    mn, mx = float(x.min()), float(x.max())
    return ((x.astype(np.float64) - mn) * (1 / (mx - mn))).astype(np.float32)


def labels_to_native(labels, conformed_affine, native_affine, native_shape):
    """src/core/brain/native.ts labelsToNative: nearest conformed voxel (floor(c + 0.5)), 0 outside."""
    o = conformed_affine
    r = o[:3, :3]
    # the same cofactor inverse and left-to-right sums as invertAffine / multiplyAffine
    a00, a01, a02 = r[0]
    a10, a11, a12 = r[1]
    a20, a21, a22 = r[2]
    c00, c01, c02 = a11 * a22 - a12 * a21, a02 * a21 - a01 * a22, a01 * a12 - a02 * a11
    det = a00 * c00 + a10 * c01 + a20 * c02
    ri = [
        [c00 / det, c01 / det, c02 / det],
        [(a12 * a20 - a10 * a22) / det, (a00 * a22 - a02 * a20) / det, (a02 * a10 - a00 * a12) / det],
        [(a10 * a21 - a11 * a20) / det, (a01 * a20 - a00 * a21) / det, (a00 * a11 - a01 * a10) / det],
    ]
    t = o[:3, 3]
    inv = [ri[k] + [-(ri[k][0] * t[0] + ri[k][1] * t[1] + ri[k][2] * t[2])] for k in range(3)] + [[0, 0, 0, 1]]
    b = native_affine
    m = [[inv[rr][0] * b[0][c] + inv[rr][1] * b[1][c] + inv[rr][2] * b[2][c] + inv[rr][3] * b[3][c] for c in range(4)] for rr in range(3)]
    D, H, W = native_shape
    k, j, i = np.meshgrid(np.arange(D, dtype=np.float64), np.arange(H, dtype=np.float64), np.arange(W, dtype=np.float64), indexing='ij')
    cx, cy, cz = (np.floor(m[q][0] * i + m[q][1] * j + m[q][2] * k + m[q][3] + 0.5).astype(np.int64) for q in range(3))
    ok = (cx >= 0) & (cy >= 0) & (cz >= 0) & (cx < N) & (cy < N) & (cz < N)
    out = np.zeros(native_shape, dtype=np.uint8)
    out[ok] = labels[cz[ok], cy[ok], cx[ok]]
    return out


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def save_npy_gz(name, arr):
    with gzip.GzipFile(os.path.join(OUT, name), 'wb', mtime=0) as f:
        np.save(f, np.ascontiguousarray(arr))


def save_nifti(name, data_xyz, affine):
    img = nib.Nifti1Image(data_xyz, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    path = os.path.join(OUT, name)
    nib.save(img, path)
    # nibabel writes the gzip time stamp; rewrite with mtime 0 so that reruns give the same bytes
    raw = gzip.decompress(open(path, 'rb').read())
    with gzip.GzipFile(path, 'wb', mtime=0) as f:
        f.write(raw)
    return path


def rot(axis, deg):
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    m = np.eye(3)
    i, j = [k for k in range(3) if k != axis]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def make_inputs():
    os.makedirs(OUT, exist_ok=True)
    mr = nib.load(MR)
    mr_data = np.asanyarray(mr.dataobj)
    # oblique: a crop of the MR's voxels, rotated and anisotropic, centred near the original centre
    crop = np.ascontiguousarray(mr_data[30:90, 20:70, 3:17])
    lin = rot(2, 20) @ rot(1, -12) @ rot(0, 8) @ np.diag([2.5, 3.0, 3.5])
    centre = mr.affine @ np.array([58.5, 45.5, 10, 1])
    aff = np.eye(4)
    aff[:3, :3] = lin
    aff[:3, 3] = centre[:3] - lin @ (np.array(crop.shape) / 2)
    save_nifti('mr_oblique.nii.gz', crop.astype(np.int16), aff)
    # T1: centre crop, every second voxel, reoriented LIA -> RAS
    t1 = nib.load(T1)
    sub = np.asanyarray(t1.dataobj)[64:192:2, 64:192:2, 64:192:2]
    a2 = t1.affine.copy()
    a2[:3, :3] = t1.affine[:3, :3] * 2
    a2[:3, 3] = (t1.affine @ np.array([64, 64, 64, 1]))[:3]
    small = nib.Nifti1Image(np.ascontiguousarray(sub).astype(np.uint8), a2)
    ras = small.as_reoriented(nib.orientations.ornt_transform(nib.io_orientation(a2), nib.orientations.axcodes2ornt('RAS')))
    save_nifti('t1_ras_2mm.nii.gz', np.ascontiguousarray(np.asanyarray(ras.dataobj)).astype(np.uint8), ras.affine)


CASES = {
    'mr': MR,
    'mr_oblique': os.path.join(OUT, 'mr_oblique.nii.gz'),
    't1_ras_2mm': os.path.join(OUT, 't1_ras_2mm.nii.gz'),
}


def run_case(name, path):
    img = nib.load(path)
    raw = np.asanyarray(img.dataobj)
    is_uint8 = raw.dtype == np.uint8
    data = np.asarray(img.get_fdata(dtype=np.float32)) if not is_uint8 else raw
    zyx = np.ascontiguousarray(np.transpose(data, (2, 1, 0))).astype(np.float32)  # C-order (z, y, x), x fastest
    affine = img.affine
    out_affine, inv = conform_vox2vox(affine, list(img.shape[:3]))
    resampled = resample_linear(zyx, inv)
    src_min, src_max, scale = get_scale(zyx, is_uint8)
    u8 = scale_uint8(resampled, src_min, scale)
    x01 = minmax_input(u8)

    # cross-checks: scipy's trilinear at the same positions, nibabel's orientation and centre
    zs = np.arange(0, N, 16)
    worst = 0.0
    for z in zs:
        ix, iy, iz = positions(inv, float(z))
        ok = (np.floor(ix) >= 0) & (np.floor(iy) >= 0) & (np.floor(iz) >= 0) & (np.ceil(ix) < zyx.shape[2]) & (np.ceil(iy) < zyx.shape[1]) & (np.ceil(iz) < zyx.shape[0])
        if ok.any():
            ref = ndimage.map_coordinates(zyx.astype(np.float64), [iz[ok], iy[ok], ix[ok]], order=1)
            worst = max(worst, float(np.abs(ref - resampled[z][ok]).max()))
    codes = nib.aff2axcodes(out_affine)
    centre_in = affine @ np.append(np.array(img.shape[:3]) / 2, 1)
    centre_out = out_affine @ np.array([N / 2, N / 2, N / 2, 1])
    print(f'{name}: shape {img.shape} {raw.dtype}, axes {codes}, centre offset {np.abs(centre_in - centre_out).max():.2e} mm, '
          f'scipy order-1 max diff {worst:.2e}, intensity src {src_min:.4f}..{src_max:.4f} scale {scale:.6f}, '
          f'{np.count_nonzero(u8)} non-zero')
    assert codes == ('L', 'I', 'A')
    assert worst <= 1e-4 * max(1.0, float(np.abs(zyx).max())), worst

    # a lattice of every 8th voxel (from 3): the resampled values, the uint8 volume and the model input
    lat = np.s_[3::8, 3::8, 3::8]
    save_npy_gz(f'{name}.lattice.npy.gz', np.stack([resampled[lat], u8[lat].astype(np.float32), x01[lat]]))

    ref = {
        'input': os.path.relpath(path, ROOT),
        'inputShape': [int(v) for v in zyx.shape],
        'dtype': str(raw.dtype),
        'conformedAffine': out_affine.tolist(),
        'invVox2Vox': inv,
        'intensity': {'srcMin': src_min, 'srcMax': src_max, 'scale': scale},
        'sha256': sha(u8),
        'nonZero': int(np.count_nonzero(u8)),
        'sum': int(u8.sum(dtype=np.int64)),
        'sliceSums': [u8.sum(axis=(1, 2), dtype=np.int64).tolist(), u8.sum(axis=(0, 2), dtype=np.int64).tolist(), u8.sum(axis=(0, 1), dtype=np.int64).tolist()],
        'inputStats': {'min': float(x01.min()), 'max': float(x01.max()), 'sum': float(x01.astype(np.float64).sum())},
    }
    if name != 't1_ras_2mm':
        labels = (u8 // 86).astype(np.uint8)
        native = labels_to_native(labels, out_affine, affine, zyx.shape)
        save_npy_gz(f'labels_{name}.npy.gz', native)
        ref['nativeLabels'] = {'sha256': sha(native), 'counts': np.bincount(native.ravel(), minlength=3).tolist()}
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')


def main():
    make_inputs()
    for name, path in CASES.items():
        run_case(name, path)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'wrote {OUT} ({total / 1e6:.2f} MB)')


if __name__ == '__main__':
    main()
