"""Fixtures and reference values for the volume readers in src/core/io (NIfTI, MRC).

Run with Debian's python (numpy, nibabel, mrcfile):  /usr/bin/python3 tools/make_io_fixtures.py [DATA_DIR]

1. Copies a few small real files from DATA_DIR (default /work/shared/data, see ATTRIBUTION.md) into
   tests/fixtures/io/ so that the tests never read outside the repository.
2. Writes small synthetic files with nibabel and mrcfile: every MRC mode the reader supports,
   big-endian MRC and NIfTI, an extended MRC header, NIfTI-2, NIfTI-1 with rotated sform/qform,
   qform only, no transform at all, scl_slope/scl_inter, and a 4D image.
3. Writes tests/fixtures/io/reference.json with what the TypeScript readers must return for each
   file, as read by nibabel / mrcfile, in the workbench's convention (Volume in src/core/volume.ts):
   shape in C order [D, H, W] or [C, D, H, W] (nibabel's arrays are (x, y, z, t), so they are
   transposed), spacing [sD, sH, sW], the NIfTI affine on (i, j, k) = (W, H, D), checksums and a few
   voxel values at [z, y, x] (or [t, z, y, x]) indices. Small files also get the whole expected array
   as <file>.expected.npy.
"""
import gzip
import json
import os
import shutil
import struct
import sys

import mrcfile
import nibabel as nib
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'io')
DATA = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/data'
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(0)

REAL = {
    'EMD-3197.map': 'cryoet/mrcfile_testdata/EMD-3197.map',
    'emd_3197.map.gz': 'cryoet/mrcfile_testdata/emd_3197.map.gz',
    '14pf_MT_derived_int16.rec': 'cryoet/cylindra/14pf_MT_derived_int16.rec',
    'totalseg_example_mr_sm.nii.gz': 'mri/totalseg_example_mr_sm.nii.gz',
    'totalseg_example_ct_sm.nii.gz': 'ct/totalseg_example_ct_sm.nii.gz',
}
FULL_ARRAY_LIMIT = 64 * 1024  # bytes: write <file>.expected.npy only below this

IMOD_STAMP = 1146047817


def path(name):
    return os.path.join(OUT, name)


def write_gz(name, raw):
    # mtime=0 keeps the bytes reproducible from run to run
    with open(path(name), 'wb') as f:
        f.write(gzip.compress(raw, mtime=0))


def rotation(ax, ay, az):
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def affine_from(rot, zooms, offset, flip_k=False):
    a = np.eye(4)
    a[:3, :3] = rot @ np.diag(zooms)
    if flip_k:
        a[:3, 2] *= -1
    a[:3, 3] = offset
    return a


def samples(arr, n=8):
    """Corners, the centre and a few seeded random voxels, as ([index...], value)."""
    idx = [tuple(0 for _ in arr.shape), tuple(s - 1 for s in arr.shape), tuple(s // 2 for s in arr.shape)]
    for _ in range(n):
        idx.append(tuple(int(rng.integers(0, s)) for s in arr.shape))
    return [{'index': list(i), 'value': float(arr[i])} for i in idx]


def describe(name, fmt, arr, dtype, affine, spacing, unit):
    """Reference entry for one file; arr is in C order [(C,) D, H, W] as the reader must return it."""
    arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder('='))  # native byte order
    entry = {
        'file': name,
        'format': fmt,
        'shape': list(arr.shape),
        'dtype': dtype,
        'affine': np.asarray(affine, dtype=np.float64).tolist(),
        'spacing': [float(s) for s in spacing],
        'unit': unit,
        'sum': float(arr.astype(np.float64).sum()),
        'min': float(arr.min()),
        'max': float(arr.max()),
        'samples': samples(arr),
    }
    if arr.nbytes <= FULL_ARRAY_LIMIT:
        npy = name + '.expected.npy'
        np.save(path(npy), arr)
        entry['expected_npy'] = npy
    return entry


def nifti_entry(name, affine=None):
    """Reference for a NIfTI file as nibabel reads it. affine overrides nibabel's (no-transform case)."""
    img = nib.load(path(name))
    scaled = img.dataobj.slope != 1 or img.dataobj.inter != 0
    data = np.asanyarray(img.dataobj) if not scaled else img.get_fdata(dtype=np.float32)
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    arr = data.transpose(tuple(reversed(range(data.ndim))))  # (x, y, z[, t]) -> ([t,] z, y, x)
    zooms = img.header.get_zooms()[:3]
    return describe(name, 'nifti', arr, arr.dtype.name,
                    img.affine if affine is None else affine, list(reversed(zooms)), 'mm')


def mrc_entry(name, dtype=None):
    with mrcfile.open(path(name), permissive=True) as m:
        data = np.array(m.data)
        vs = m.voxel_size
        origin = m.header.origin
        vx, vy, vz = float(vs.x), float(vs.y), float(vs.z)
        affine = np.diag([vx or 1.0, vy or 1.0, vz or 1.0, 1.0])
        affine[:3, 3] = [float(origin.x), float(origin.y), float(origin.z)]
    if dtype == 'uint8':  # mrcfile always reads mode 0 as int8; the IMOD flag says unsigned
        data = data.view(np.uint8)
    if dtype == 'float32' and data.dtype == np.float16:
        data = data.astype(np.float32)
    return describe(name, 'mrc', data, dtype or data.dtype.name,
                    affine, [vz or 1.0, vy or 1.0, vx or 1.0], 'angstrom')


def patch_int32(name, offset, value, little=True):
    with open(path(name), 'r+b') as f:
        f.seek(offset)
        f.write(struct.pack('<i' if little else '>i', value))


def new_mrc(name):
    """mrcfile.new, with the timestamped label it writes replaced so that reruns give the same bytes."""
    m = mrcfile.new(path(name), overwrite=True)
    m.header.label[0] = b'voxelbench io fixture (tools/make_io_fixtures.py)'
    return m


entries = []

# ---- real files ----
for dst, src in REAL.items():
    shutil.copyfile(os.path.join(DATA, src), path(dst))
for name in ['totalseg_example_mr_sm.nii.gz', 'totalseg_example_ct_sm.nii.gz']:
    entries.append(nifti_entry(name))
for name in ['EMD-3197.map', 'emd_3197.map.gz', '14pf_MT_derived_int16.rec']:
    entries.append(mrc_entry(name))

# ---- synthetic MRC: one file per mode, shape (nz, ny, nx) = (3, 4, 5) ----
ramp = np.arange(60, dtype=np.float64).reshape(3, 4, 5)
mrc_cases = [
    ('mode0_int8.mrc', (ramp - 30).astype(np.int8), None),
    ('mode1_int16.mrc', (ramp * 997 - 30000).astype(np.int16), None),
    ('mode2_float32.mrc', (ramp * 0.37 - 5).astype(np.float32), None),
    ('mode6_uint16.mrc', (ramp * 1000 + 5).astype(np.uint16), None),
    ('mode12_float16.mrc', (ramp * 0.37 - 5).astype(np.float16), 'float32'),
    ('mode2_bigendian.mrc', (ramp * 0.5 - 7).astype('>f4'), 'float32'),
]
for name, data, dtype in mrc_cases:
    with new_mrc(name) as m:
        m.set_data(data)
        m.voxel_size = (2.0, 3.0, 4.0)  # x, y, z
    entries.append(mrc_entry(name, dtype))

# mode 0 with the IMOD stamp and the "signed" flag clear: unsigned bytes
name = 'mode0_imod_uint8.mrc'
u8 = ((ramp * 5 + 3) % 256).astype(np.uint8)
with new_mrc(name) as m:
    m.set_data(u8.view(np.int8))
patch_int32(name, 152, IMOD_STAMP)
patch_int32(name, 156, 0)
entries.append(mrc_entry(name, 'uint8'))

# non-cubic voxels, an origin and a 160-byte extended header (data starts at 1024 + NSYMBT)
name = 'mode2_exthdr_origin.mrc'
with new_mrc(name) as m:
    m.set_data((ramp[:, :, ::-1] * 1.25).astype(np.float32).copy())
    m.voxel_size = (1.5, 2.0, 2.5)
    m.header.origin = (10.0, -20.0, 30.5)
    m.set_extended_header(np.arange(40, dtype=np.int32))
entries.append(mrc_entry(name))

# ---- synthetic NIfTI ----
xyz = np.arange(4 * 5 * 6, dtype=np.float64).reshape(4, 5, 6)  # nibabel order (x, y, z)

# NIfTI-2, float64, rotated sform
name = 'nifti2_float64.nii'
aff = affine_from(rotation(0.1, -0.2, 0.3), (1.5, 2.0, 2.5), (-10.0, 20.0, 5.5))
nib.save(nib.Nifti2Image(xyz * 0.25 - 3, aff), path(name))
entries.append(nifti_entry(name))

# NIfTI-1 int16 with scl_slope/scl_inter; qform (code 1) and a different sform (code 2): sform wins
name = 'nifti1_rot_scl.nii.gz'
img = nib.Nifti1Image((xyz * 3 - 100).astype(np.int16), None)
qaff = affine_from(rotation(0.2, 0.1, -0.4), (0.8, 0.9, 1.2), (12.0, -7.0, 3.0), flip_k=True)
saff = affine_from(rotation(-0.3, 0.25, 0.5), (0.8, 0.9, 1.2), (1.0, 2.0, -3.0))
img.set_qform(qaff, code=1)
img.set_sform(saff, code=2)
img.header.set_slope_inter(0.5, -3.0)
write_gz(name, img.to_bytes())
entries.append(nifti_entry(name))

# NIfTI-1 uint16 with qform only (left-handed: qfac = -1) and sform_code 0
name = 'nifti1_qform_only.nii'
img = nib.Nifti1Image((xyz * 7).astype(np.uint16), None)
img.set_qform(qaff, code=1)
img.set_sform(None, code=0)
img.to_filename(path(name))
entries.append(nifti_entry(name))

# NIfTI-1 with neither transform: the reader's affine is diag(pixdim), no translation
name = 'nifti1_nocodes.nii'
hdr = nib.Nifti1Header()
hdr.set_data_dtype(np.int32)
img = nib.Nifti1Image((xyz - 50).astype(np.int32), None, header=hdr)
img.header.set_zooms((2.0, 3.0, 4.0))  # after the image has set the shape
img.set_qform(None, code=0)
img.set_sform(None, code=0)
img.to_filename(path(name))
assert nib.load(path(name)).header['qform_code'] == 0 and nib.load(path(name)).header['sform_code'] == 0
entries.append(nifti_entry(name, affine=np.diag([2.0, 3.0, 4.0, 1.0])))

# NIfTI-1 4D uint8: (x, y, z, t) = (5, 4, 3, 2) -> [C, D, H, W] = [2, 3, 4, 5]
name = 'nifti1_4d_uint8.nii.gz'
x4 = (np.arange(5 * 4 * 3 * 2).reshape(5, 4, 3, 2) * 2).astype(np.uint8)
img = nib.Nifti1Image(x4, affine_from(np.eye(3), (1.0, 1.0, 2.0), (0.0, 0.0, 0.0)))
write_gz(name, img.to_bytes())
entries.append(nifti_entry(name))

# NIfTI-1 big-endian float32
name = 'nifti1_bigendian.nii'
img = nib.Nifti1Image((xyz * 0.5 - 1).astype(np.float32), affine_from(np.eye(3), (1.1, 1.2, 1.3), (3, 2, 1)),
                      header=nib.Nifti1Header(endianness='>'))
img.to_filename(path(name))
assert open(path(name), 'rb').read(4) == struct.pack('>i', 348)
entries.append(nifti_entry(name))

with open(path('reference.json'), 'w') as f:
    json.dump({'generator': 'tools/make_io_fixtures.py', 'nibabel': nib.__version__, 'mrcfile': mrcfile.__version__,
               'numpy': np.__version__, 'files': entries}, f, indent=1)
    f.write('\n')
print(f'wrote {len(entries)} reference entries to {os.path.relpath(OUT, ROOT)}')
