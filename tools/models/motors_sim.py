"""Simulated cryo-ET tomograms with bacterial flagellar motor-like particles.

A scene lives in the coordinates of a whole tomogram (z, y, x voxels, 40 A per voxel by
convention) and can be rendered on any window of it, so training crops and whole held-out
tomograms come from the same generator.

Content (densities; protein is rendered dark in the final 8-bit image, as in cryo-ET):
- 0 to 2 bacterial cells: ellipsoids much wider than the slab, with an outer and an inner
  membrane (Gaussian sheets 6 to 8 voxels apart) and a faint peptidoglycan layer, a denser
  cytoplasm packed with ribosome-like blobs, and sometimes storage granules;
- filaments (straight or gently curved tubes, hollow microtubule-like or solid), vesicles
  (spherical membranes, ring-like in every slice: a hard negative), gold-fiducial-like dots,
  bare flagellum-like rods crossing the membranes (another hard negative);
- zero or one motor: a C-ring (cylindrical shell of radius R = 6 to 10 voxels) under a
  bell-shaped cone reaching up to the inner membrane, an MS-ring disc, a rod through both
  membranes and a flagellum leaving the cell, oriented along the local membrane normal.
  The label is the centre of the C-ring.

Image formation: densities + Gaussian noise, low-pass (Gaussian, sigma 0.8 to 1.3 voxels) and a
missing wedge (tilt axis y, +-(55..65) degrees: Fourier components within the wedge around kz
are removed, which elongates everything along z), structured texture from a real cryo-ET
reconstruction (cylindra's 14-protofilament microtubule tomogram, high-passed, as extra
non-Gaussian background), more white noise, then a per-tomogram linear stretch of mean -+ 3.2
std to 0..255 and rounding to uint8.
"""
import os

import numpy as np
from scipy import ndimage
from scipy.special import expit

from common import ROOT

SPACING_A = 40.0  # simulated voxel spacing (Angstrom)
TEXTURE_PATH = os.path.join(ROOT, 'tests', 'fixtures', 'io', '14pf_MT_derived_int16.rec')
_texture = None


def texture_volume():
    global _texture
    if _texture is None:
        import mrcfile

        with mrcfile.open(TEXTURE_PATH, permissive=True) as m:
            t = m.data.astype(np.float32)
        t = t - ndimage.gaussian_filter(t, 4.0)  # keep the fine structure and noise
        _texture = (t - t.mean()) / t.std()
    return _texture


def _unit(v):
    return v / np.linalg.norm(v)


def _frame(n):
    """Two unit vectors perpendicular to n."""
    a = np.array([1.0, 0, 0]) if abs(n[0]) < 0.9 else np.array([0, 1.0, 0])
    e1 = _unit(np.cross(n, a))
    e2 = np.cross(n, e1)
    return e1, e2


def _line_points(p0, p1, step=0.5):
    n = max(2, int(np.linalg.norm(p1 - p0) / step) + 1)
    t = np.linspace(0, 1, n)[:, None]
    return p0[None] * (1 - t) + p1[None] * t


def _curve_points(rng, start, direction, length, curvature=0.0, step=0.5):
    pts = [start]
    d = _unit(direction)
    for _ in range(int(length / step)):
        if curvature > 0:
            d = _unit(d + rng.normal(0, curvature * step, 3))
        pts.append(pts[-1] + d * step)
    return np.array(pts)


def _tube_points(axis_pts, radius, rng, step=0.6):
    """Points on a hollow tube around a polyline (for microtubule-like filaments)."""
    out = []
    n_ang = max(6, int(2 * np.pi * radius / step))
    ang = np.linspace(0, 2 * np.pi, n_ang, endpoint=False)
    for i in range(0, len(axis_pts) - 1, 1):
        d = _unit(axis_pts[i + 1] - axis_pts[i])
        e1, e2 = _frame(d)
        ring = axis_pts[i][None] + radius * (np.cos(ang)[:, None] * e1 + np.sin(ang)[:, None] * e2)
        out.append(ring)
    return np.concatenate(out) if out else np.zeros((0, 3))


def _sphere_points(c, r, step=0.6):
    n = max(20, int(4 * np.pi * r * r / (step * step)))
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    th = np.pi * (1 + 5 ** 0.5) * i
    return c[None] + r * np.stack([np.cos(phi), np.sin(phi) * np.sin(th), np.sin(phi) * np.cos(th)], 1)


class Cell:
    def __init__(self, center, radii, rot, gap):
        self.c = np.asarray(center, np.float64)
        self.r = np.asarray(radii, np.float64)  # semi-axes along (z, u, v): u, v rotated in the y-x plane
        self.rot = rot
        self.gap = gap  # distance between the outer and inner membrane

    def local(self, z, y, x):
        ca, sa = np.cos(self.rot), np.sin(self.rot)
        dz, dy, dx = z - self.c[0], y - self.c[1], x - self.c[2]
        return dz, ca * dy + sa * dx, -sa * dy + ca * dx

    def signed_distance(self, z, y, x):
        """Approximate signed distance to the outer membrane (negative inside)."""
        w, u, v = self.local(z, y, x)
        a, b, c = self.r
        r = np.sqrt((w / a) ** 2 + (u / b) ** 2 + (v / c) ** 2) + 1e-9
        g = np.sqrt((w / a ** 2) ** 2 + (u / b ** 2) ** 2 + (v / c ** 2) ** 2) / r + 1e-9
        return (r - 1) / g

    def surface_point(self, dirn):
        """Point on the outer membrane in direction dirn (local frame) and its outward normal (global)."""
        w, u, v = dirn
        a, b, c = self.r
        s = 1.0 / np.sqrt((w / a) ** 2 + (u / b) ** 2 + (v / c) ** 2)
        lw, lu, lv = w * s, u * s, v * s
        nw, nu, nv = lw / a ** 2, lu / b ** 2, lv / c ** 2
        ca, sa = np.cos(self.rot), np.sin(self.rot)
        p = self.c + np.array([lw, ca * lu - sa * lv, sa * lu + ca * lv])
        n = _unit(np.array([nw, ca * nu - sa * nv, sa * nu + ca * nv]))
        return p, n


def make_scene(rng, shape, motor=None):
    """A random scene for a tomogram of `shape` (z, y, x). motor: True/False/None (50 %)."""
    D, H, W = shape
    if motor is None:
        motor = rng.random() < 0.5
    sc = {'shape': tuple(shape), 'cells': [], 'points': {0.7: [], 1.0: [], 1.4: []}, 'weights': {0.7: [], 1.0: [], 1.4: []},
          'spheres': [], 'motor': None}

    def add(sigma, pts, w):
        if len(pts):
            sc['points'][sigma].append(np.asarray(pts, np.float64))
            sc['weights'][sigma].append(np.full(len(pts), w, np.float64))

    n_cells = rng.choice([1, 1, 2, 2, 0] if not motor else [1, 1, 1, 2])
    for _ in range(n_cells):
        for _try in range(20):
            b = rng.uniform(65, 140)  # 260..560 nm half-width
            c = b * rng.uniform(1.0, 2.5)
            a = rng.uniform(0.7, 1.5) * D
            center = [D / 2 + rng.uniform(-0.2, 0.2) * D, rng.uniform(0, H), rng.uniform(0, W)]
            cell = Cell(center, (a, b, c), rng.uniform(0, np.pi), rng.uniform(6, 8.5))
            if all(np.linalg.norm(np.array(center[1:]) - o.c[1:]) > (b + o.r[1]) * 1.05 for o in sc['cells']):
                sc['cells'].append(cell)
                break
    sc['cyto'] = rng.uniform(0.12, 0.3)
    sc['mem'] = rng.uniform(0.7, 1.1)

    vol = D * H * W
    # ribosome-like blobs and other small complexes: inside cells (dense) and a few outside
    n_rib = int(vol * rng.uniform(1 / 900, 1 / 350))
    pts = np.stack([rng.uniform(0, D, n_rib), rng.uniform(0, H, n_rib), rng.uniform(0, W, n_rib)], 1)
    inside = np.zeros(n_rib, bool)
    for cell in sc['cells']:
        inside |= cell.signed_distance(*pts.T) < -cell.gap - 2.5
    keep = inside | (rng.random(n_rib) < 0.08)
    add(1.4, pts[keep], rng.uniform(12, 22))
    # storage granules (solid spheres) inside cells
    for cell in sc['cells']:
        for _ in range(rng.poisson(1.0)):
            p = np.array([rng.uniform(0, D), rng.uniform(0, H), rng.uniform(0, W)])
            if cell.signed_distance(*p) < -cell.gap - 12:
                sc['spheres'].append((p, rng.uniform(4, 10), rng.uniform(0.4, 0.9)))
    # filaments: microtubule-like hollow tubes (radius ~3) and thin solid ones (actin-like)
    for _ in range(rng.poisson(2.5)):
        start = np.array([rng.uniform(0, D), rng.uniform(0, H), rng.uniform(0, W)])
        d = np.array([rng.normal(0, 0.25), rng.normal(), rng.normal()])
        axis = _curve_points(rng, start - _unit(d) * 150, d, 300 + rng.uniform(0, 100), curvature=rng.uniform(0, 0.03))
        if rng.random() < 0.5:
            add(0.7, _tube_points(axis[::2], rng.uniform(2.5, 3.5), rng), rng.uniform(0.10, 0.18))
        else:
            add(1.0, axis, rng.uniform(0.6, 1.0))
    # vesicles (ring-like in every slice)
    for _ in range(rng.poisson(2.0)):
        c = np.array([rng.uniform(0, D), rng.uniform(0, H), rng.uniform(0, W)])
        add(0.7, _sphere_points(c, rng.uniform(5, 16)), rng.uniform(0.10, 0.16))
    # gold fiducials (very dense dots)
    for _ in range(rng.poisson(1.0)):
        c = np.array([rng.uniform(0, D), rng.uniform(0, H), rng.uniform(0, W)])
        add(1.0, [c], rng.uniform(50, 80))

    def membrane_site(cell, margin):
        for _try in range(200):
            dirn = _unit(np.array([rng.normal(0, 0.3), rng.normal(), rng.normal()]))
            p, n = cell.surface_point(dirn)
            if (margin[0] <= p[0] <= D - margin[0] and margin[1] <= p[1] <= H - margin[1]
                    and margin[1] <= p[2] <= W - margin[1]):
                return p, n
        return None

    # bare flagellum-like rods through the membranes (hard negatives)
    for cell in sc['cells']:
        for _ in range(rng.poisson(0.6)):
            site = membrane_site(cell, (6, 6))
            if site:
                p, n = site
                rod = _curve_points(rng, p - n * (cell.gap + 4), n, rng.uniform(25, 80), curvature=0.02)
                add(1.0, rod, rng.uniform(0.6, 1.0))

    if motor and sc['cells']:
        cell = sc['cells'][rng.integers(len(sc['cells']))]
        R = rng.uniform(6.0, 10.0)
        site = membrane_site(cell, (max(6.0, 0.12 * D), 12.0))
        if site is not None:
            p, n = site
            n = _unit(n + rng.normal(0, 0.15, 3))  # not exactly normal
            e1, e2 = _frame(n)
            im = p - n * cell.gap  # inner membrane point
            h = rng.uniform(0.5, 0.8) * R  # from the C-ring centre up to the inner membrane
            c = im - n * h
            w = rng.uniform(0.9, 1.25)  # motor density scale
            ang = np.linspace(0, 2 * np.pi, int(2 * np.pi * R / 0.5), endpoint=False)
            circ = np.cos(ang)[:, None] * e1 + np.sin(ang)[:, None] * e2
            ring_h = rng.uniform(0.35, 0.6) * R
            cring = np.concatenate([c[None] + R * circ + t * n for t in np.arange(-ring_h / 2, ring_h / 2 + 1e-6, 0.5)])
            add(0.7, cring, 0.4 * w)
            # bell: cone from the top of the C-ring to the inner membrane
            bell = []
            for t in np.arange(0, h + 1e-6, 0.5):
                rr = R * (1 - 0.55 * t / h)
                a2 = np.linspace(0, 2 * np.pi, max(8, int(2 * np.pi * rr / 0.6)), endpoint=False)
                bell.append(c[None] + (ring_h / 2 + t * (1 - ring_h / (2 * h))) * n
                            + rr * (np.cos(a2)[:, None] * e1 + np.sin(a2)[:, None] * e2))
            add(0.7, np.concatenate(bell), 0.2 * w)
            # MS-ring disc near the inner membrane
            disc = []
            for rr in np.arange(0.5, 0.5 * R, 0.6):
                a2 = np.linspace(0, 2 * np.pi, max(6, int(2 * np.pi * rr / 0.6)), endpoint=False)
                disc.append(im[None] - n * 1.5 + rr * (np.cos(a2)[:, None] * e1 + np.sin(a2)[:, None] * e2))
            add(0.7, np.concatenate(disc), 0.25 * w)
            # rod and hook/flagellum leaving the cell
            add(1.0, _line_points(c - n * 0.3 * R, p + n * 2), 1.2 * w)
            add(1.0, _curve_points(rng, p + n * 2, n, rng.uniform(15, 90), curvature=0.03), 0.8 * w)
            sc['motor'] = c
            sc['motor_radius'] = R
    sc['noise1'] = rng.uniform(0.3, 0.65)  # before the wedge filter (relative to membrane density ~1)
    sc['noise2'] = rng.uniform(0.015, 0.04)  # after
    sc['blur'] = rng.uniform(0.8, 1.3)
    sc['wedge'] = rng.uniform(55, 65)
    sc['texture'] = rng.uniform(0.015, 0.045)
    sc['tex_flip'] = rng.integers(0, 2, 3)
    sc['tex_off'] = rng.integers(0, 1000, 3)
    sc['bg_grad'] = rng.normal(0, 0.08, 3)
    for k in list(sc['points']):
        sc['points'][k] = np.concatenate(sc['points'][k]) if sc['points'][k] else np.zeros((0, 3))
        sc['weights'][k] = np.concatenate(sc['weights'][k]) if sc['weights'][k] else np.zeros(0)
    return sc


def _splat(grid, pts, w):
    """Trilinear splat of weighted points into grid (points in grid index coordinates)."""
    S = np.array(grid.shape)
    f = np.floor(pts).astype(np.int64)
    t = pts - f
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                idx = f + np.array([dz, dy, dx])
                ww = w * (t[:, 0] if dz else 1 - t[:, 0]) * (t[:, 1] if dy else 1 - t[:, 1]) * (t[:, 2] if dx else 1 - t[:, 2])
                ok = np.all((idx >= 0) & (idx < S), 1)
                np.add.at(grid, (idx[ok, 0], idx[ok, 1], idx[ok, 2]), ww[ok])


def render_density(sc, origin, shape):
    """Density on the window [origin, origin + shape) (float32)."""
    o = np.asarray(origin, np.float64)
    S = np.asarray(shape)
    z, y, x = np.meshgrid(*[np.arange(o[i], o[i] + S[i]) for i in range(3)], indexing='ij', sparse=True)
    rho = np.zeros(tuple(S), np.float32)
    for cell in sc['cells']:
        d = cell.signed_distance(z, y, x).astype(np.float32)
        g = cell.gap
        rho += sc['mem'] * (np.exp(-d ** 2 / (2 * 0.8 ** 2)) + np.exp(-(d + g) ** 2 / (2 * 0.8 ** 2)))
        rho += 0.25 * sc['mem'] * np.exp(-(d + g / 2) ** 2 / (2 * 1.0 ** 2))
        rho += sc['cyto'] * expit(-(d + g + 1.5) / 0.7)
    for c, r, a in sc['spheres']:
        lo = np.maximum(np.floor(c - r - 3 - o).astype(int), 0)
        hi = np.minimum(np.ceil(c + r + 3 - o).astype(int), S)
        if np.any(hi <= lo):
            continue
        zz, yy, xx = np.meshgrid(*[np.arange(lo[i], hi[i]) + o[i] for i in range(3)], indexing='ij', sparse=True)
        dist = np.sqrt((zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2)
        rho[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] += a * expit(-(dist - r) / 0.8)
    for sigma, pts in sc['points'].items():
        if not len(pts):
            continue
        m = 4 * sigma + 2
        local = pts - o
        ok = np.all((local > -m) & (local < S + m), 1)
        if not ok.any():
            continue
        pad = int(np.ceil(m))
        g = np.zeros(tuple(S + 2 * pad), np.float32)
        _splat(g, local[ok] + pad, sc['weights'][sigma][ok])
        g = ndimage.gaussian_filter(g, sigma, mode='constant', truncate=3.0)
        rho += g[pad:pad + S[0], pad:pad + S[1], pad:pad + S[2]]
    return rho


def image_formation(sc, rho, origin, rng):
    """Noise, low-pass, missing wedge, texture, more noise. Returns float32 'contrast' (dense = low)."""
    S = rho.shape
    x = rho + rng.normal(0, sc['noise1'], S).astype(np.float32)
    kz = np.fft.fftfreq(S[0])[:, None, None]
    ky = np.fft.fftfreq(S[1])[None, :, None]
    kx = np.fft.rfftfreq(S[2])[None, None, :]
    lowpass = np.exp(-2 * (np.pi * sc['blur']) ** 2 * (kz ** 2 + ky ** 2 + kx ** 2))
    wedge = np.abs(kx) >= np.tan(np.deg2rad(90 - sc['wedge'])) * np.abs(kz)
    wedge = wedge | (kz == 0)
    x = np.fft.irfftn(np.fft.rfftn(x) * (lowpass * wedge), s=S).astype(np.float32)
    # real cryo-ET texture (high-passed), tiled with mirroring over the window
    t = texture_volume()
    idx = []
    for i in range(3):
        n = t.shape[i]
        j = (np.arange(S[i]) + int(origin[i]) + int(sc['tex_off'][i])) % (2 * n)
        j = np.where(j < n, j, 2 * n - 1 - j)
        if sc['tex_flip'][i]:
            j = n - 1 - j
        idx.append(j)
    x += sc['texture'] * t[np.ix_(*idx)]
    x += rng.normal(0, sc['noise2'], S).astype(np.float32)
    zz, yy, xx = np.meshgrid(*[(np.arange(S[i]) + origin[i]) / sc['shape'][i] - 0.5 for i in range(3)], indexing='ij', sparse=True)
    x += sc['bg_grad'][0] * zz + sc['bg_grad'][1] * yy + sc['bg_grad'][2] * xx
    return -x


def to_uint8(img, mean, std):
    v = 127.5 + img * (127.5 / (3.2 * std)) - mean * (127.5 / (3.2 * std))
    return np.clip(np.rint(v), 0, 255).astype(np.uint8)


def render_window(sc, origin, shape, rng, margin=8, stats=None):
    """uint8 window. stats: (mean, std) of the whole tomogram's image, else the window's own."""
    o = np.asarray(origin) - margin
    S = np.asarray(shape) + 2 * margin
    rho = render_density(sc, o, S)
    img = image_formation(sc, rho, o, rng)
    img = img[margin:-margin, margin:-margin, margin:-margin]
    if stats is None:
        stats = (float(img.mean()), float(img.std()))
    return to_uint8(img, *stats)


def render_tomogram(sc, rng):
    return render_window(sc, (0, 0, 0), sc['shape'], rng)


def heatmap_target(sc, origin, shape, stride, sigma):
    """Gaussian heatmap at the model's output grid: cell i covers voxels [i*s, (i+1)*s), its centre
    is at voxel index i*s + (s-1)/2."""
    out = tuple(int(s) // stride for s in shape)
    hm = np.zeros(out, np.float32)
    if sc['motor'] is None:
        return hm
    c = sc['motor']
    g = [np.arange(out[i]) * stride + (stride - 1) / 2 + origin[i] for i in range(3)]
    z, y, x = np.meshgrid(*g, indexing='ij', sparse=True)
    d2 = (z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2
    return np.exp(-d2 / (2 * (sigma * stride) ** 2)).astype(np.float32)
