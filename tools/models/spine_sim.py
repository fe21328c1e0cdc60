"""Simulated neck CT with labelled cervical vertebrae C1..C7 and optional fractures.

Patient coordinates in mm: x = patient left (image columns), y = posterior (image rows),
z = superior. A phantom is a set of parametric shapes; `render` evaluates it on any rectilinear
grid (slice positions z, row positions y, column positions x), so the same phantom gives the
full-resolution DICOM series and the 128^3 training tensors.

Anatomy (adult sizes scaled by 0.85..1.15, with per-level jitter):
- neck outline (fat layer over muscle), airway (pharynx/trachea), lung apices and clavicles at
  the bottom, mandible, hyoid and skull base (occipital bone with condyles) at the top;
- C1 (atlas: anterior and posterior arch, lateral masses, transverse processes; no body),
  C2 (body, dens reaching up into the atlas ring, large spinous process), C3..C7 (body, pedicles
  and laminae around the canal, articular pillars, transverse processes, spinous process; C7 the
  longest), then T1 and T2 with ribs (labelled background), intervertebral discs;
- cervical lordosis, flexion/lateral tilt, axial rotation, random FOV and slice count.
HU: cortical bone 700..1300, cancellous 180..380, discs 70..110, muscle 35..65, fat -120..-80,
air -1000, CSF 5..20; Gaussian noise 8..30 HU. Stored values are HU + 1024 (RescaleIntercept
-1024, unsigned), 0 outside the reconstruction circle.

A fracture is a thin plane (0.8..2.2 mm) through part of one vertebra (body, or arch/pillar)
where bone is replaced by soft tissue and one side is shifted by up to 1.5 mm (a cortical step).
"""
import numpy as np

LEVELS = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7', 'T1', 'T2']
# body semi-axes LR (a), AP (b), height H (mm); canal semi-axes (cu, cw); spinous length Ls
BODY = {
    'C2': (8.0, 7.5, 15.0), 'C3': (8.0, 7.5, 13.0), 'C4': (8.5, 7.5, 13.0), 'C5': (9.0, 8.0, 13.0),
    'C6': (10.0, 8.0, 13.5), 'C7': (11.0, 8.5, 14.5), 'T1': (12.0, 9.0, 16.0), 'T2': (12.5, 10.0, 17.0),
}
CANAL = {'C2': (10.5, 7.5), 'C3': (11.5, 7.0), 'C4': (12.0, 7.0), 'C5': (12.0, 7.0), 'C6': (12.0, 7.0),
         'C7': (11.0, 7.0), 'T1': (9.5, 7.5), 'T2': (8.0, 7.5)}
SPINOUS = {'C2': 15.0, 'C3': 9.0, 'C4': 10.0, 'C5': 11.0, 'C6': 14.0, 'C7': 21.0, 'T1': 23.0, 'T2': 24.0}


def _ell(u, w, a, b):
    """Approximate signed distance to an ellipse (negative inside)."""
    r = np.sqrt((u / a) ** 2 + (w / b) ** 2)
    return (r - 1.0) * np.minimum(a, b)


def _seg(p, a, b, r):
    """Capsule: distance from points p (tuple of arrays) to segment a-b minus r."""
    ab = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    L2 = float(ab @ ab) + 1e-12
    ap = [p[i] - a[i] for i in range(3)]
    t = np.clip((ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / L2, 0, 1)
    d2 = sum((ap[i] - t * ab[i]) ** 2 for i in range(3))
    return np.sqrt(d2) - r


def _rot(ax, ang):
    c, s = np.cos(ang), np.sin(ang)
    if ax == 'x':
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if ax == 'y':
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


class Phantom:
    """All geometry in mm, patient (x, y, z)."""

    def __init__(self, rng, fracture_prob=0.0, fracture_levels=None):
        self.rng = rng
        s = rng.uniform(0.85, 1.15)
        self.scale = s
        self.center = np.array([rng.uniform(-8, 8), rng.uniform(-6, 10), 0.0])  # neck centre offset
        self.hu = {
            'cortical': rng.uniform(700, 1300), 'cancellous': rng.uniform(180, 380), 'disc': rng.uniform(70, 110),
            'muscle': rng.uniform(35, 65), 'fat': rng.uniform(-120, -80), 'csf': rng.uniform(5, 20),
        }
        self.noise = rng.uniform(8, 30)
        # vertebra stack: heights from T2 (bottom) up to C1, along a curved, tilted centreline
        lv = {}
        jit = lambda: rng.uniform(0.93, 1.07)  # noqa: E731
        for name in LEVELS[1:]:
            a, b, H = BODY[name]
            lv[name] = {'a': a * s * jit(), 'b': b * s * jit(), 'H': H * s * jit(), 'canal': tuple(c * s * jit() for c in CANAL[name]),
                        'Ls': SPINOUS[name] * s * jit()}
        discs = {n: rng.uniform(4.0, 6.0) * s for n in LEVELS[1:]}  # the disc below each level (C2..T2)
        # arclength positions (centre of each body) from the bottom
        order = LEVELS[1:][::-1]  # T2, T1, C7 ... C2
        pos = {}
        t = 0.0
        for i, name in enumerate(order):
            t += lv[name]['H'] / 2
            pos[name] = t
            t += lv[name]['H'] / 2 + (discs.get(order[i + 1], 4.0 * s) if i + 1 < len(order) else 0)
        c2top = pos['C2'] + lv['C2']['H'] / 2
        dens_len = rng.uniform(12, 15) * s
        pos['C1'] = c2top + dens_len * 0.55
        lv['C1'] = {'H': 10 * s * jit(), 'canal': (13.0 * s * jit(), 9.0 * s * jit())}
        self.L = pos['C1'] + 12 * s  # total length incl. the occipital condyles region
        self.lv, self.pos, self.discs, self.dens_len = lv, pos, discs, dens_len
        self.lordosis = rng.uniform(0, 12) * s
        self.tilt_x = np.deg2rad(rng.uniform(-14, 14))  # flexion/extension
        self.tilt_y = np.deg2rad(rng.uniform(-7, 7))  # lateral
        self.rot_z = np.deg2rad(rng.uniform(-8, 8))
        self.spine_y = rng.uniform(8, 20)  # the spine lies posterior of the neck centre
        # z of the bottom of T2 (scanner coordinates) is chosen by the FOV, see volume_geometry
        self.z0 = 0.0
        self.frames = {name: self._frame(self.pos[name], name) for name in LEVELS}
        # other anatomy
        self.neck = (rng.uniform(48, 66) * s, rng.uniform(45, 60) * s)
        self.fat = rng.uniform(3, 9)
        self.airway_r = rng.uniform(6, 10) * s
        self.mandible = rng.random() < 0.9
        self.metal = rng.random() < 0.15
        # fractures
        self.fracture = {}
        cand = LEVELS[:7] if fracture_levels is None else fracture_levels
        for name in cand:
            if rng.random() < fracture_prob:
                self.fracture[name] = self._make_fracture(name)

    # -- geometry ----------------------------------------------------------------------------
    def centreline(self, t):
        """Point (mm) on the spine centreline at arclength t from the bottom of T2, and the tangent."""
        L = self.L
        y = -self.lordosis * np.sin(np.pi * np.clip(t / L, 0, 1))
        p = np.array([0.0, y, t])
        dy = -self.lordosis * np.pi / L * np.cos(np.pi * np.clip(t / L, 0, 1))
        tan = np.array([0.0, dy, 1.0])
        R = _rot('y', self.tilt_y) @ _rot('x', self.tilt_x)
        p = R @ p
        tan = R @ tan
        return p, tan / np.linalg.norm(tan)

    def _frame(self, t, name):
        p, h = self.centreline(t)
        u = np.array([1.0, 0, 0])
        u = u - h * (u @ h)
        u /= np.linalg.norm(u)
        w = np.cross(h, u)  # posterior
        rz = self.rot_z + self.rng.uniform(-0.05, 0.05)
        c, s = np.cos(rz), np.sin(rz)
        u, w = c * u + s * w, -s * u + c * w
        origin = p + np.array([self.center[0], self.center[1] + self.spine_y, self.z0])
        return {'o': origin, 'u': u, 'w': w, 'h': h}

    def set_z0(self, z0):
        self.z0 = z0
        for name in LEVELS:
            self.frames[name]['o'][2] += z0 - self.frames[name].get('z0', 0.0)
            self.frames[name]['z0'] = z0

    def z_range(self):
        """(bottom of T2, top of the skull-base region) in scanner z."""
        lo = min(f['o'][2] for f in self.frames.values()) - 12
        hi = self.frames['C1']['o'][2] + 30 * self.scale
        return lo, hi

    def _make_fracture(self, name):
        rng = self.rng
        f = {}
        if name == 'C1':
            site = np.array([rng.choice([-1, 1]) * rng.uniform(8, 18), rng.uniform(-12, 22), 0]) * self.scale
        elif rng.random() < 0.7:  # body
            a, b = self.lv[name]['a'], self.lv[name]['b']
            site = np.array([rng.uniform(-0.5, 0.5) * a, rng.uniform(-0.5, 0.5) * b, rng.uniform(-0.2, 0.2) * self.lv[name]['H']])
        else:  # arch / pillar / lamina
            b, (cu, cw) = self.lv[name]['b'], self.lv[name]['canal']
            ang = rng.uniform(0.2, np.pi - 0.2)
            site = np.array([np.cos(ang) * (cu + 2), b + cw + np.sin(ang) * (cw + 2), 0.0])
        # plane normal mostly horizontal (vertical fracture planes are seen in many axial slices)
        th = rng.uniform(0, np.pi)
        n = np.array([np.cos(th), np.sin(th), rng.normal(0, 0.35)])
        f['site'] = site
        f['n'] = n / np.linalg.norm(n)
        f['width'] = rng.uniform(0.8, 2.2)
        f['radius'] = rng.uniform(9, 16) * self.scale
        f['shift'] = rng.uniform(0.3, 1.5) * rng.choice([-1, 1]) * _unit3(rng)
        return f

    # -- rendering ---------------------------------------------------------------------------
    def _local(self, name, X, Y, Z):
        f = self.frames[name]
        d = (X - f['o'][0], Y - f['o'][1], Z - f['o'][2])
        u = d[0] * f['u'][0] + d[1] * f['u'][1] + d[2] * f['u'][2]
        w = d[0] * f['w'][0] + d[1] * f['w'][1] + d[2] * f['w'][2]
        h = d[0] * f['h'][0] + d[1] * f['h'][1] + d[2] * f['h'][2]
        return u, w, h

    def vertebra_sdf(self, name, u, w, h):
        s = self.scale
        if name == 'C1':
            cu, cw = self.lv['C1']['canal']
            H = self.lv['C1']['H']
            dens_w = -0.2 * self.lv['C2']['b']
            # ring around dens + canal: centre behind the dens
            wc = dens_w + cw * 0.9
            outer = _ell(u, w - wc, cu + 4.5 * s, cw + 7.0 * s)
            inner = -_ell(u, w - wc, cu + 0.5 * s, cw + 3.5 * s)
            ring = np.maximum(np.maximum(outer, inner), np.abs(h) - H * 0.35)
            lm = _ell(np.abs(u) - (cu + 1.0 * s), w - (wc - 3 * s), 6.5 * s, 8.5 * s)
            lm = np.maximum(lm, np.abs(h) - H * 0.55)
            tp = _seg((np.abs(u), w, h), (cu, wc - 2 * s, 0), (cu + 20 * s, wc - 1 * s, -1 * s), 3.2 * s)
            tub = _seg((u, w, h), (0, wc + cw + 6 * s, 0), (0, wc + cw + 10 * s, -1 * s), 3.0 * s)
            return np.minimum(np.minimum(ring, lm), np.minimum(tp, tub))
        L = self.lv[name]
        a, b, H = L['a'], L['b'], L['H']
        cu, cw = L['canal']
        body = np.maximum(_ell(u, w, a, b), np.abs(h) - H / 2)
        wc = b + cw - 0.5 * s  # canal centre
        t = 3.2 * s
        arch = np.maximum(_ell(u, w - wc, cu + t, cw + t), -_ell(u, w - wc, cu, cw))
        arch = np.maximum(arch, np.maximum(np.abs(h + 0.1 * H) - 0.38 * H, -(w - b * 0.3)))
        pill = _seg((np.abs(u), w, h), (cu + 1.5 * s, wc - 0.3 * cw, -H / 2 - 1.5 * s), (cu + 1.5 * s, wc - 0.3 * cw, H / 2 + 1.0 * s), 4.2 * s)
        tp_len = (9 if name not in ('T1', 'T2') else 12) * s
        tp = _seg((np.abs(u), w, h), (a - 1 * s, 0.3 * b, 0), (a + tp_len, 0.5 * b + (4 * s if name in ('T1', 'T2') else 0), -1.5 * s), 2.8 * s)
        Ls = L['Ls']
        drop = 0.35 if name.startswith('C') else 0.8
        sp0 = (0, wc + cw + t - 1.5 * s, -0.15 * H)
        sp1 = (0, wc + cw + t + Ls, -0.15 * H - drop * Ls)
        sp = _seg((u, w, h), sp0, sp1, (3.4 if name in ('C2', 'C7', 'T1', 'T2') else 2.6) * s)
        sd = np.minimum(np.minimum(body, arch), np.minimum(np.minimum(pill, tp), sp))
        if name == 'C2':
            dens = _seg((u, w, h), (0, -0.2 * b, H / 2 - 2 * s), (0, -0.2 * b, H / 2 + self.dens_len - 4.5 * s), 4.5 * s)
            sd = np.minimum(sd, dens)
        return sd

    def bbox(self, name):
        """Axis-aligned box (mm) that contains the vertebra (and its disc below)."""
        f = self.frames[name]
        s = self.scale
        if name == 'C1':
            lr, front, back, down, up = 42 * s, 18 * s, 40 * s, 9 * s, 9 * s
        else:
            L = self.lv[name]
            cu, cw = L['canal']
            lr = max(L['a'] + (12 if name in ('T1', 'T2') else 9) * s + 4 * s, cu + 8 * s)
            front = L['b'] + 3
            back = L['b'] + 2 * cw + 4 * s + L['Ls'] + 5 * s
            drop = 0.35 if name.startswith('C') else 0.8
            down = L['H'] / 2 + max(self.discs[name] + 1, 0.15 * L['H'] + drop * L['Ls'] + 4 * s, 3 * s)
            up = L['H'] / 2 + 3 * s + (self.dens_len if name == 'C2' else 0)
        corners = []
        for du in (-lr, lr):
            for dw in (-front, back):
                for dh in (-down, up):
                    corners.append(f['o'] + du * f['u'] + dw * f['w'] + dh * f['h'])
        c = np.array(corners)
        return c.min(0), c.max(0)

    def render(self, zs, ys, xs, rng=None, noise=True):
        """HU (float32), labels (uint8 0..7) and the fracture map (uint8: the vertebra's label where a
        fracture removed or moved bone, else 0) on the grid zs x ys x xs (monotonic 1-D mm arrays)."""
        zs, ys, xs = (np.asarray(a, np.float64) for a in (zs, ys, xs))
        shape = (len(zs), len(ys), len(xs))
        hu = np.full(shape, -1000.0, np.float32)
        lab = np.zeros(shape, np.uint8)
        frac = np.zeros(shape, np.uint8)  # 0, or the label (1..7) of the fractured vertebra
        s = self.scale
        c = self.center
        H = self.hu

        def box(lo, hi):
            """Index slices of the grid inside the mm box [lo, hi] (x, y, z), or None."""
            out = []
            for arr, a, b in ((zs, lo[2], hi[2]), (ys, lo[1], hi[1]), (xs, lo[0], hi[0])):
                idx = np.nonzero((arr >= a) & (arr <= b))[0]
                if len(idx) == 0:
                    return None
                out.append(slice(int(idx[0]), int(idx[-1]) + 1))
            return tuple(out)

        def grid(sl):
            Z, Y, X = np.meshgrid(zs[sl[0]].astype(np.float32), ys[sl[1]].astype(np.float32), xs[sl[2]].astype(np.float32),
                                  indexing='ij', sparse=True)
            return X, Y, Z

        def paint_bone(sl, sd, label=0):
            sd = np.broadcast_to(sd, hu[sl].shape)
            region, lregion = hu[sl], lab[sl]
            region[sd <= 0] = H['cortical']
            region[sd <= -1.3] = H['cancellous']
            lregion[sd <= 0] = label

        def capsule_bone(p0, p1, r, label=0):
            p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
            sl = box(np.minimum(p0, p1) - r - 1, np.maximum(p0, p1) + r + 1)
            if sl is not None:
                paint_bone(sl, _seg(grid(sl), p0, p1, r), label)

        full = (slice(None),) * 3
        X, Y, Z = grid(full)
        top = self.frames['C1']['o'][2]
        bottom = self.frames['T1']['o'][2]
        # neck outline: widening towards the shoulders (below C7) and towards the head (above C2)
        widen_low = np.clip(-(Z - self.frames['C7']['o'][2]) / 40.0, 0, 1.6)
        widen_high = np.clip((Z - self.frames['C2']['o'][2]) / 30.0, 0, 1.0)
        ax = self.neck[0] * (1 + 0.9 * widen_low + 0.15 * widen_high)
        ay = self.neck[1] * (1 + 0.2 * widen_low + 0.25 * widen_high)
        dn = _ell(X - c[0], Y - (c[1] - 4 * widen_high), ax, ay)
        hu[dn < 0] = H['fat']
        hu[dn < -self.fat] = H['muscle']
        # airway anterior to the spine, lung apices below T1
        fz = np.array([self.frames[n]['o'][2] for n in LEVELS[::-1]])
        fy = np.array([self.frames[n]['o'][1] for n in LEVELS[::-1]])
        fx = np.array([self.frames[n]['o'][0] for n in LEVELS[::-1]])
        air_y = np.interp(Z, fz, fy) - 24 * s
        air_x = np.interp(Z, fz, fx)
        airway = (np.sqrt((X - air_x) ** 2 + ((Y - air_y) / 0.8) ** 2) < self.airway_r * (1 + 0.5 * widen_high)) & (Z < top + 10)
        hu[np.broadcast_to(airway, shape)] = -1000.0
        for side in (-1, 1):
            lx, ly = c[0] + side * 35 * s, self.frames['T1']['o'][1] - 5 * s
            r = np.clip((bottom - Z + 5) * 1.1, 0, 45 * s)
            hu[np.broadcast_to(np.sqrt((X - lx) ** 2 + (Y - ly) ** 2) < r, shape)] = -900.0
        # clavicles, first ribs, mandible (+ dental metal), hyoid, skull base: background bone
        for side in (-1, 1):
            capsule_bone([c[0] + side * 12 * s, c[1] - 35 * s, bottom - 10 * s], [c[0] + side * 75 * s, c[1] - 5 * s, bottom + 5 * s], 5.5 * s)
            for lvname in ('T1', 'T2'):
                f = self.frames[lvname]
                q0 = f['o'] + side * (self.lv[lvname]['a'] + 8 * s) * f['u'] + 4 * s * f['w']
                q1 = f['o'] + side * 55 * s * f['u'] - 25 * s * f['w'] - 12 * s * f['h']
                capsule_bone(q0, q1, 3.8 * s)
        if self.mandible:
            mz = self.frames['C2']['o'][2] - 2 * s
            my = c[1] - 40 * s
            sl = box([c[0] - 45 * s, my - 40 * s, mz - 10 * s], [c[0] + 45 * s, my + 10 * s, mz + 10 * s])
            if sl is not None:
                Xs, Ys, Zs = grid(sl)
                ring = np.maximum(_ell(Xs - c[0], Ys - my, 42 * s, 38 * s), -_ell(Xs - c[0], Ys - my, 36 * s, 32 * s))
                ring = np.maximum(ring, np.maximum(Ys - (my + 8 * s), np.abs(Zs - mz) - 9 * s))
                paint_bone(sl, ring)
            if self.metal:
                p0, p1 = np.array([c[0] - 10 * s, my - 34 * s, mz + 6 * s]), np.array([c[0] + 10 * s, my - 34 * s, mz + 6 * s])
                sl = box(np.minimum(p0, p1) - 4, np.maximum(p0, p1) + 4)
                if sl is not None:
                    region = hu[sl]
                    region[np.broadcast_to(_seg(grid(sl), p0, p1, 2.5 * s) <= 0, region.shape)] = 3071.0
            hz = self.frames['C3']['o'][2] + 2 * s
            hyc = c[1] - 22 * s
            sl = box([c[0] - 17 * s, hyc - 13 * s, hz - 3 * s], [c[0] + 17 * s, hyc + 1, hz + 3 * s])
            if sl is not None:
                Xs, Ys, Zs = grid(sl)
                hy = np.maximum(_ell(Xs - c[0], Ys - hyc, 16 * s, 12 * s), -_ell(Xs - c[0], Ys - hyc, 13 * s, 9 * s))
                paint_bone(sl, np.maximum(hy, np.maximum(Ys - hyc, np.abs(Zs - hz) - 2.5 * s)))
        f1 = self.frames['C1']
        occ_z = f1['o'][2] + self.lv['C1']['H'] * 0.55 + 3 * s
        oc = f1['o'] + 12 * s * f1['w']
        sl = box([oc[0] - 62 * s, oc[1] - 62 * s, occ_z - 1], [oc[0] + 62 * s, oc[1] + 62 * s, occ_z + 80])
        if sl is not None:
            Xs, Ys, Zs = grid(sl)
            occ = np.maximum(_ell(Xs - oc[0], Ys - oc[1], 60 * s, 60 * s), -_ell(Xs - oc[0], Ys - oc[1], 54 * s, 54 * s))
            occ = np.maximum(occ, occ_z - Zs)
            # only the posterior and lateral part of the skull base (the face is in front)
            occ = np.maximum(occ, -(Ys - (oc[1] - 30 * s)))
            paint_bone(sl, occ)
        for sd_ in (-1, 1):
            capsule_bone(f1['o'] + sd_ * 13 * s * f1['u'] + (occ_z + 1.5 * s - f1['o'][2]) * f1['h'],
                         f1['o'] + sd_ * 13 * s * f1['u'] + (occ_z + 10 * s - f1['o'][2]) * f1['h'], 6 * s)
        capsule_bone(f1['o'] - 5 * s * f1['w'] + (occ_z + 5 * s - f1['o'][2]) * f1['h'],
                     f1['o'] - 25 * s * f1['w'] + (occ_z + 30 * s - f1['o'][2]) * f1['h'], 7 * s)

        # intervertebral discs (below C2 .. T1), spinal canal contents, then the vertebrae
        for i, name in enumerate(LEVELS[1:-1]):
            lo_, hi_ = self.bbox(name)
            sl = box(lo_, hi_)
            if sl is None:
                continue
            u, w, h = self._local(name, *grid(sl))
            Hn = self.lv[name]['H']
            gap = self.discs[name]
            disc = np.maximum(_ell(u, w, self.lv[name]['a'] * 0.97, self.lv[name]['b'] * 0.97), np.abs(h + Hn / 2 + gap / 2) - gap / 2 - 0.4)
            region = hu[sl]
            region[np.broadcast_to(disc <= 0, region.shape)] = H['disc']
        for k, name in enumerate(LEVELS):
            lo_, hi_ = self.bbox(name)
            sl = box(lo_, hi_)
            if sl is None:
                continue
            u, w, h = self._local(name, *grid(sl))
            label = k + 1 if k < 7 else 0
            sd = self.vertebra_sdf(name, u, w, h)
            if name in self.fracture:
                fr = self.fracture[name]
                d = (u - fr['site'][0], w - fr['site'][1], h - fr['site'][2])
                side = d[0] * fr['n'][0] + d[1] * fr['n'][1] + d[2] * fr['n'][2]
                near = np.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2) < fr['radius']
                sh = fr['shift']
                sd_shift = self.vertebra_sdf(name, u - sh[0], w - sh[1], h - sh[2])
                sd2 = np.where(near & (side > 0), sd_shift, sd)
                gapm = near & (np.abs(side) < fr['width'] / 2)
                sd2 = np.where(gapm, np.maximum(sd2, 0.5), sd2)
                changed = ((sd <= 0) != (sd2 <= 0)) | (gapm & (sd <= 0))
                # removed bone becomes soft tissue (haematoma); fragments keep their label
                region = hu[sl]
                removed = np.broadcast_to((sd <= 0) & (sd2 > 0), region.shape)
                region[removed] = H['muscle'] + 15
                lab[sl][removed] = 0
                frac[sl][np.broadcast_to(changed, region.shape)] = label
                sd = sd2
            paint_bone(sl, sd, label)
        if noise:
            rng = rng if rng is not None else self.rng
            hu += np.float32(self.noise) * rng.standard_normal(hu.shape, dtype=np.float32)
        return hu, lab, frac


def _unit3(rng):
    v = rng.normal(0, 1, 3)
    return v / np.linalg.norm(v)


class Geometry:
    """A CT acquisition: n slices (thickness dz) of n_px x n_px pixels (spacing dx), slice 1 at the top."""

    def __init__(self, ph, rng, n_px=None, n_slices=None):
        self.n_px = int(n_px if n_px is not None else rng.choice([160, 192, 224, 256, 288]))
        fov = rng.uniform(115, 190)
        self.dx = fov / self.n_px
        lo, hi = ph.z_range()
        # FOV in z: from 5..40 mm above C1 down to 10..60 mm below C7
        c1 = ph.frames['C1']['o'][2]
        c7 = ph.frames['C7']['o'][2]
        top = c1 + rng.uniform(8, 40) * ph.scale
        bot = c7 - rng.uniform(12, 55) * ph.scale
        if n_slices is None:
            self.dz = float(rng.choice([0.625, 0.8, 1.0, 1.25, 1.5]))
            n = int((top - bot) / self.dz)
            if n > 300:
                self.dz = (top - bot) / 300
                n = 300
        else:
            n = int(n_slices)
            self.dz = (top - bot) / n
        self.n = n
        self.z_top = top
        self.zs = top - np.arange(n) * self.dz  # slice i (file i+1) at z_top - i * dz
        half = (self.n_px - 1) / 2 * self.dx
        self.ys = np.linspace(-half, half, self.n_px)
        self.xs = np.linspace(-half, half, self.n_px)
        self.circle = rng.random() < 0.6


def stored_values(hu, geo):
    """HU -> stored uint16 (HU + 1024), 0 outside the reconstruction circle when geo.circle."""
    v = np.clip(np.rint(hu + 1024.0), 0, 4095)
    if geo.circle:
        yy, xx = np.meshgrid(geo.ys, geo.xs, indexing='ij')
        out = yy ** 2 + xx ** 2 > (geo.ys[-1] + geo.dx / 2) ** 2
        v[:, out] = 0
    return v.astype(np.uint16)


def sample_indices(n, k=128):
    """round(quantile(range(n), linspace(0, 1, k))) (numpy's round: half to even)."""
    return np.round(np.quantile(np.arange(n), np.linspace(0, 1, k))).astype(int)
