"""Simulated HPA-style RGBY fields of view (512 x 512, 8-bit) with per-cell protein localisation labels.

red = microtubules (filaments from a centrosome near the nucleus), blue = nuclei (ellipses with nucleoli),
yellow = ER (perinuclear mesh), green = protein of interest in one or more of the 19 HPA classes.
Each cell gets its own subset of the image's classes (as in HPA 2021, cells differ); the image label is the union.
"""
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi

S = 512
CLASSES = ['Nucleoplasm', 'Nuclear membrane', 'Nucleoli', 'Nucleoli fibrillar center', 'Nuclear speckles', 'Nuclear bodies',
           'Endoplasmic reticulum', 'Golgi apparatus', 'Intermediate filaments', 'Actin filaments', 'Microtubules',
           'Mitotic spindle', 'Centrosome', 'Plasma membrane', 'Mitochondria', 'Aggresome', 'Cytosol',
           'Vesicles and punctate cytosolic patterns', 'Negative']
# how often each class is the image's first class (rough HPA order of frequency, flattened so rare classes get examples)
FREQ = np.sqrt(np.array([20, 4, 7, 4, 5, 5, 4, 6, 4, 3, 4, 1, 5, 8, 7, 1.5, 12, 8, 3], float))
FREQ /= FREQ.sum()
NUCLEAR = {0, 1, 2, 3, 4, 5}
YY, XX = np.mgrid[0:S, 0:S].astype(np.float32)


def _noise_bank():
    """One 1024 x 1024 smooth-noise field per feature size, made once (fixed seed); samples take random crops of it."""
    g = np.random.default_rng(12345)
    bank = {}
    for cell in (6, 7, 10, 16, 48):
        n = 1024 // cell + 3
        z = torch.from_numpy(g.random((n, n), dtype=np.float32))[None, None]
        z = F.interpolate(z, size=(n * cell, n * cell), mode='bilinear', align_corners=False)
        bank[cell] = z[0, 0, :1024, :1024].numpy().copy()
    return bank


_BANK = _noise_bank()


def smooth_noise(rng, cell, out=S):
    """Smooth noise in [0, 1] with features about `cell` pixels: a random crop (and orientation) of the bank's field."""
    y, x = rng.integers(0, 1024 - out, 2)
    z = _BANK[cell][y:y + out, x:x + out]
    k = int(rng.integers(0, 4))
    return np.rot90(z, k) if k else z


class Canvas:
    """Point sprites grouped by blur width; rendered as gaussian blobs with peak = amplitude."""

    def __init__(self):
        self.layers = {}

    def add(self, y, x, amp, sigma):
        y = np.asarray(y, np.float32).ravel()
        x = np.asarray(x, np.float32).ravel()
        amp = np.broadcast_to(np.asarray(amp, np.float32), y.shape).ravel()
        iy, ix = np.round(y).astype(int), np.round(x).astype(int)
        ok = (iy >= 0) & (iy < S) & (ix >= 0) & (ix < S)
        if not ok.any():
            return
        lay, box = self.layers.get(sigma, (None, None))
        if lay is None:
            lay, box = np.zeros((S, S), np.float32), [S, S, 0, 0]
        np.add.at(lay, (iy[ok], ix[ok]), amp[ok])
        box = [min(box[0], iy[ok].min()), min(box[1], ix[ok].min()), max(box[2], iy[ok].max() + 1), max(box[3], ix[ok].max() + 1)]
        self.layers[sigma] = (lay, box)

    def render(self):
        out = np.zeros((S, S), np.float32)
        for sigma, (lay, box) in self.layers.items():
            p = int(np.ceil(3 * sigma)) + 1
            sl = (slice(max(box[0] - p, 0), min(box[2] + p, S)), slice(max(box[1] - p, 0), min(box[3] + p, S)))
            out[sl] += ndi.gaussian_filter(lay[sl], sigma, truncate=3.0, mode='constant') * (2 * np.pi * sigma ** 2)
        return out


def polyline_points(y, x, step=0.7):
    """Dense points along a polyline (arrays of vertices)."""
    pts_y, pts_x = [], []
    for i in range(len(y) - 1):
        d = max(1, int(np.hypot(y[i + 1] - y[i], x[i + 1] - x[i]) / step))
        t = np.arange(d) / d
        pts_y.append(y[i] + (y[i + 1] - y[i]) * t)
        pts_x.append(x[i] + (x[i + 1] - x[i]) * t)
    return np.concatenate(pts_y), np.concatenate(pts_x)


def walk(rng, y0, x0, theta0, n, step, curv):
    """Random-walk filaments: arrays (K, n) of y, x."""
    k = len(y0)
    th = np.asarray(theta0)[:, None] + np.cumsum(rng.normal(0, curv, (k, n)), 1)
    y = y0[:, None] + np.cumsum(step * np.sin(th), 1)
    x = x0[:, None] + np.cumsum(step * np.cos(th), 1)
    return y, x


def layout(rng):
    """Cells: label image (0 background, 1..n), nuclei (ellipses) and per-cell geometry."""
    n_target = int(rng.integers(3, 9))
    seeds = []
    for _ in range(400):
        p = rng.uniform(30, S - 30, 2)
        if all(np.hypot(*(p - q)) > 150 for q in seeds):
            seeds.append(p)
        if len(seeds) == n_target:
            break
    seeds = np.array(seeds, np.float32)
    radii = rng.uniform(95, 140, len(seeds)).astype(np.float32)
    wobble = (smooth_noise(rng, 48) - 0.5) * 0.35
    # nearest seed in normalised distance (only pixels within 1.2 radii can belong to a cell)
    best = np.full((S, S), 4.0, np.float32)
    cells = np.zeros((S, S), np.int32)
    for i, ((sy, sx), r) in enumerate(zip(seeds, radii)):
        sl = (slice(max(int(sy - 1.2 * r), 0), min(int(sy + 1.2 * r) + 1, S)), slice(max(int(sx - 1.2 * r), 0), min(int(sx + 1.2 * r) + 1, S)))
        d2 = ((YY[sl] - sy) ** 2 + (XX[sl] - sx) ** 2) / (r * r)
        closer = d2 < best[sl]
        best[sl][closer] = d2[closer]
        cells[sl][closer] = i + 1
    cells[best >= (1 + wobble) ** 2] = 0
    # keep only the connected part of each cell that holds its seed
    out = np.zeros_like(cells)
    geo = []
    boxes = ndi.find_objects(cells)
    for i, ((sy, sx), r) in enumerate(zip(seeds, radii)):
        if i >= len(boxes) or boxes[i] is None:
            continue
        sl = boxes[i]
        comp, _ = ndi.label(cells[sl] == i + 1)
        c = comp[int(sy) - sl[0].start, int(sx) - sl[1].start] if (sl[0].start <= int(sy) < sl[0].stop and sl[1].start <= int(sx) < sl[1].stop) else 0
        if c == 0:
            continue
        m = comp == c
        if m.sum() < 3000:
            continue
        out[sl][m] = len(geo) + 1
        k = len(geo) + 1
        a = r * rng.uniform(0.36, 0.48)
        b = a * rng.uniform(0.7, 1.0)
        ang = rng.uniform(0, np.pi)
        cy, cx = sy + rng.normal(0, 0.08 * r), sx + rng.normal(0, 0.08 * r)
        geo.append(dict(k=k, cy=cy, cx=cx, a=a, b=b, ang=ang, r=r))
    return out, geo


def ellipse_rho(g, y=YY, x=XX):
    dy, dx = y - g['cy'], x - g['cx']
    c, s = np.cos(g['ang']), np.sin(g['ang'])
    u, v = dx * c + dy * s, -dx * s + dy * c
    return np.sqrt((u / g['a']) ** 2 + (v / g['b']) ** 2)


def point_in_ellipse(rng, g, n, rmax=0.8):
    rr = rmax * np.sqrt(rng.random(n))
    t = rng.uniform(0, 2 * np.pi, n)
    u, v = rr * np.cos(t) * g['a'], rr * np.sin(t) * g['b']
    c, s = np.cos(g['ang']), np.sin(g['ang'])
    return g['cy'] + u * s + v * c, g['cx'] + u * c - v * s


def point_around(rng, g, n, dmin, dmax, phi=None, spread=np.pi):
    """Points at (dmin..dmax) x nucleus radius from the nucleus centre, angles around phi."""
    t = (rng.uniform(0, 2 * np.pi, n) if phi is None else phi + rng.uniform(-spread, spread, n))
    rad = rng.uniform(dmin, dmax, n) * (g['a'] + g['b']) / 2
    return g['cy'] + rad * np.sin(t), g['cx'] + rad * np.cos(t)


def choose_labels(rng):
    first = int(rng.choice(19, p=FREQ))
    if first == 18:
        return [18]
    labels = [first]
    for p in (0.4, 0.15):
        if rng.random() < p:
            k = int(rng.choice(19, p=FREQ))
            if k != 18 and k not in labels:
                labels.append(k)
    return sorted(labels)


def simulate(rng, labels=None):
    """Returns rgby uint8 (4, S, S) in order red, green, blue, yellow; cell label image; per-cell label lists; image labels."""
    labels = choose_labels(rng) if labels is None else labels
    cells, geo = layout(rng)
    n = len(geo)
    inside = cells > 0
    rho_of = np.full((S, S), 9.0, np.float32)
    boxes = []
    for g, b in zip(geo, ndi.find_objects(cells)):
        sl = (slice(max(b[0].start - 8, 0), min(b[0].stop + 8, S)), slice(max(b[1].start - 8, 0), min(b[1].stop + 8, S)))
        boxes.append(sl)
        m = cells[sl] == g['k']
        rho = ellipse_rho(g, YY[sl], XX[sl])
        rho_of[sl][m] = rho[m]
    nucleus = (rho_of < 1.0) & inside
    cyto = inside & ~nucleus
    # per-cell labels: a subset of the image labels, sometimes none (negative cells)
    cell_labels = []
    mitotic = -1
    if 11 in labels:
        mitotic = int(rng.integers(0, n))
    for i in range(n):
        if labels == [18]:
            cell_labels.append([18])
            continue
        ls = [k for k in labels if k != 11 and rng.random() < 0.85]
        if i == mitotic:
            ls = sorted(set(ls) | {11})
        if not ls and rng.random() < 0.5:
            ls = [k for k in labels if k != 11]
        cell_labels.append(sorted(ls) if ls else [18])
    image_labels = sorted({k for ls in cell_labels for k in ls if k != 18}) or [18]

    tex_fine = smooth_noise(rng, 6)
    tex_mid = smooth_noise(rng, 16)
    red, green, blue, yellow = (np.zeros((S, S), np.float32) for _ in range(4))
    red_c, green_c, blue_c = Canvas(), Canvas(), Canvas()
    # ER mesh texture: ridges of two band-limited noises
    e1, e2 = smooth_noise(rng, 10) - 0.5, smooth_noise(rng, 7) - 0.5
    expr = rng.uniform(0.45, 1.0)  # expression level of the protein in this image
    nucleoli_mask = np.zeros((S, S), bool)
    mt_per_cell = {}
    for i, g in enumerate(geo):
        sl = boxes[g['k'] - 1]
        Y, X = YY[sl], XX[sl]
        m = cells[sl] == g['k']
        mnuc = m & nucleus[sl]
        mcyt = m & cyto[sl]
        rho = rho_of[sl]
        dist_nuc = np.clip(rho - 1, 0, None) * (g['a'] + g['b']) / 2  # approx pixels from the nuclear edge
        is_mit = i == mitotic
        # blue: nucleus (or condensed chromosomes for a mitotic cell)
        if is_mit:
            ang = g['ang']
            u = (X - g['cx']) * np.cos(ang) + (Y - g['cy']) * np.sin(ang)
            v = -(X - g['cx']) * np.sin(ang) + (Y - g['cy']) * np.cos(ang)
            plate = np.exp(-(u / 6) ** 2) * (np.abs(v) < g['a'] * 0.8)
            blue[sl] += plate * m * (0.6 + 0.4 * tex_fine[sl]) * 0.9
        else:
            blue[sl] += mnuc * rng.uniform(0.45, 0.8) * (0.7 + 0.3 * tex_mid[sl])
        # nucleoli (2-4 blobs inside the nucleus)
        nol_y, nol_x = point_in_ellipse(rng, g, int(rng.integers(2, 5)), 0.55)
        nol_r = rng.uniform(6, 11, len(nol_y))
        nol = np.zeros(m.shape, bool)
        for y, x, r in zip(nol_y, nol_x, nol_r):
            nol |= (Y - y) ** 2 + (X - x) ** 2 < r ** 2
        nol &= mnuc
        if not is_mit:
            nucleoli_mask[sl] |= nol
        # centrosome / microtubule organising centre next to the nucleus
        phi_c = rng.uniform(0, 2 * np.pi)
        cy, cx = point_around(rng, g, 1, 1.15, 1.3, phi_c, 0.0)
        # red: microtubules from the centrosome, stopped at the cell edge
        k = int(rng.integers(30, 55))
        fy, fx = walk(rng, np.full(k, cy[0]), np.full(k, cx[0]), rng.uniform(0, 2 * np.pi, k), 260, 1.0, 0.06)
        iy, ix = np.clip(np.round(fy).astype(int), 0, S - 1), np.clip(np.round(fx).astype(int), 0, S - 1)
        alive = np.cumprod(cells[iy, ix] == g['k'], 1).astype(bool)
        mt_y, mt_x = fy[alive], fx[alive]
        amp_mt = rng.uniform(0.1, 0.18)
        red_c.add(mt_y, mt_x, amp_mt, 1.0)
        red[sl] += mcyt * 0.08
        mt_per_cell[i] = (mt_y, mt_x)
        # yellow: ER mesh, dense near the nucleus, plus the nuclear envelope
        env = np.exp(-dist_nuc / (0.35 * g['r'])) * mcyt
        mesh = np.exp(-(e1[sl] / 0.06) ** 2) + np.exp(-(e2[sl] / 0.06) ** 2)
        er = (0.25 + 0.75 * mesh) * env * rng.uniform(0.4, 0.7)
        ring = np.exp(-((rho - 1) * (g['a'] + g['b']) / 2 / 2.5) ** 2) * m
        yellow[sl] += er + 0.3 * ring
        # green: the cell's own classes
        for cls in cell_labels[i]:
            w = rng.uniform(0.6, 1.0)
            if cls == 0:
                green[sl] += w * 0.55 * mnuc * (0.65 + 0.35 * tex_mid[sl]) * (1 - 0.7 * nol)
            elif cls == 1:
                green[sl] += w * 0.8 * ring
            elif cls == 2:
                green[sl] += w * 0.8 * ndi.gaussian_filter(nol.astype(np.float32), 1.5)
            elif cls == 3:
                for y, x, r in zip(nol_y, nol_x, nol_r):
                    j = int(rng.integers(2, 5))
                    green_c.add(y + rng.uniform(-0.6, 0.6, j) * r, x + rng.uniform(-0.6, 0.6, j) * r, w * 0.9, 1.5)
            elif cls == 4:
                j = int(rng.integers(12, 26))
                y, x = point_in_ellipse(rng, g, j, 0.85)
                green_c.add(y, x, w * rng.uniform(0.5, 0.9, j), 3.0)
                green[sl] += w * 0.12 * mnuc
            elif cls == 5:
                j = int(rng.integers(1, 7))
                y, x = point_in_ellipse(rng, g, j, 0.8)
                green_c.add(y, x, w * 0.9, 2.0)
            elif cls == 6:
                green[sl] += w * 1.1 * er
            elif cls == 7:
                j = int(rng.integers(6, 16))
                y, x = point_around(rng, g, j, 1.05, 1.5, rng.uniform(0, 2 * np.pi), 0.6)
                green_c.add(y, x, w * rng.uniform(0.4, 0.8, j), 3.0)
            elif cls == 8:
                j = int(rng.integers(8, 16))
                t0 = rng.uniform(0, 2 * np.pi, j)
                rad = rng.uniform(1.1, 2.0, j) * (g['a'] + g['b']) / 2
                y0, x0 = g['cy'] + rad * np.sin(t0), g['cx'] + rad * np.cos(t0)
                fy, fx = walk(rng, y0, x0, t0 + np.pi / 2 + rng.normal(0, 0.3, j), 220, 1.0, 0.03)
                iy, ix = np.clip(np.round(fy).astype(int), 0, S - 1), np.clip(np.round(fx).astype(int), 0, S - 1)
                ok = (cells[iy, ix] == g['k']) & (rho_of[iy, ix] > 1.02)
                green_c.add(fy[ok], fx[ok], w * 0.2, 1.5)
            elif cls == 9:
                psi = rng.uniform(0, np.pi)
                j = int(rng.integers(6, 16))
                off = rng.uniform(-g['r'], g['r'], j)
                tt = np.linspace(-1.5 * g['r'], 1.5 * g['r'], 400)
                y = g['cy'] + off[:, None] * np.cos(psi) + tt[None] * np.sin(psi)
                x = g['cx'] - off[:, None] * np.sin(psi) + tt[None] * np.cos(psi)
                iy, ix = np.clip(np.round(y).astype(int), 0, S - 1), np.clip(np.round(x).astype(int), 0, S - 1)
                ok = cells[iy, ix] == g['k']
                green_c.add(y[ok], x[ok], w * 0.2, 1.0)
                edge = m & ~ndi.binary_erosion(m, iterations=2, border_value=1)
                green[sl] += w * 0.35 * ndi.gaussian_filter(edge.astype(np.float32), 1.0)
            elif cls == 10:
                green_c.add(mt_y, mt_x, w * 0.22, 1.0)
            elif cls == 11 and is_mit:
                ang = g['ang']
                d = g['a'] * 0.9
                poles = [(g['cy'] + d * np.sin(ang), g['cx'] + d * np.cos(ang)), (g['cy'] - d * np.sin(ang), g['cx'] - d * np.cos(ang))]
                for py, px in poles:
                    for v in np.linspace(-0.7, 0.7, 14) * g['a']:
                        ty, tx = g['cy'] - v * np.cos(ang), g['cx'] + v * np.sin(ang)
                        yy, xx = polyline_points(np.array([py, ty]), np.array([px, tx]))
                        green_c.add(yy, xx, w * 0.18, 1.2)
                    green_c.add(py, px, w * 0.9, 3.0)
            elif cls == 12:
                green_c.add(cy, cx, w * 1.0, 2.5)
                if rng.random() < 0.5:
                    green_c.add(cy + rng.normal(0, 4), cx + rng.normal(0, 4), w * 0.8, 2.5)
            elif cls == 13:
                edge = m & ~ndi.binary_erosion(m, iterations=3, border_value=1)
                green[sl] += w * 0.9 * ndi.gaussian_filter(edge.astype(np.float32), 1.2)
            elif cls == 14:
                j = int(rng.integers(40, 100))
                y0, x0 = point_around(rng, g, j, 1.05, 2.2)
                fy, fx = walk(rng, y0, x0, rng.uniform(0, 2 * np.pi, j), int(rng.integers(8, 20)), 1.0, 0.15)
                iy, ix = np.clip(np.round(fy).astype(int), 0, S - 1), np.clip(np.round(fx).astype(int), 0, S - 1)
                ok = cells[iy, ix] == g['k']
                green_c.add(fy[ok], fx[ok], w * 0.25, 1.2)
            elif cls == 15:
                y, x = point_around(rng, g, 1, 1.2, 1.5)
                green_c.add(y, x, w * 1.0, float(rng.choice([6.0, 8.0])))
            elif cls == 16:
                green[sl] += w * 0.4 * ndi.gaussian_filter(mcyt.astype(np.float32), 2.0) * (0.7 + 0.3 * tex_mid[sl])
            elif cls == 17:
                j = int(rng.integers(30, 120))
                y, x = point_around(rng, g, j, 1.05, 2.5)
                iy, ix = np.clip(np.round(y).astype(int), 0, S - 1), np.clip(np.round(x).astype(int), 0, S - 1)
                ok = cells[iy, ix] == g['k']
                green_c.add(y[ok], x[ok], w * rng.uniform(0.4, 0.9, int(ok.sum())), 2.0)
    red += red_c.render()
    green = (green + green_c.render()) * expr
    blue = ndi.gaussian_filter(blue * (1 - 0.5 * nucleoli_mask), 1.0)
    chans = []
    for ch, bright in ((red, rng.uniform(0.7, 1.1)), (green, 1.0), (blue, rng.uniform(0.8, 1.1)), (yellow, rng.uniform(0.7, 1.1))):
        x = ch * bright * 255 + rng.uniform(2, 10) + rng.uniform(1.5, 4) * 3.4641 * (rng.random((S, S), dtype=np.float32) - 0.5)
        chans.append(np.clip(np.round(x), 0, 255).astype(np.uint8))
    target = np.zeros(19, np.float32)
    target[image_labels] = 1
    return np.stack(chans), cells.astype(np.uint8), cell_labels, target
