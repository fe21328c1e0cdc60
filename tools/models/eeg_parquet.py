"""Minimal Parquet reader/writer for HMS-style spectrogram tables (no pyarrow needed).

Only what the HMS spectrogram files need: one row group, flat schema of numeric columns
(FLOAT, DOUBLE, INT32, INT64), OPTIONAL or REQUIRED, data pages v1 (and v2 on read),
PLAIN or dictionary encoding on read, UNCOMPRESSED or SNAPPY on read. Writing produces
one uncompressed PLAIN data page per column, OPTIONAL columns with all values defined
(NaN stays a NaN float value, as pandas/pyarrow write it), like the Kaggle HMS files.

The writer is checked against hyparquet (the reader the workbench uses) by the tests.
"""
import struct

import numpy as np

# ---------------------------------------------------------------- thrift compact protocol
T_STOP, T_TRUE, T_FALSE, T_BYTE, T_I16, T_I32, T_I64, T_DOUBLE, T_BINARY, T_LIST, T_SET, T_MAP, T_STRUCT = range(13)


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _zz(n):
    return (n << 1) ^ (n >> 63)


class _W:
    """Writes a thrift struct given as a list of (field id, type, value); value of a struct is such a list."""

    def __init__(self):
        self.b = bytearray()

    def struct(self, fields):
        last = 0
        for fid, ftype, val in fields:
            if val is None:
                continue
            t = ftype if ftype != 'bool' else (T_TRUE if val else T_FALSE)
            delta = fid - last
            if 0 < delta <= 15:
                self.b.append((delta << 4) | t)
            else:
                self.b.append(t)
                self.b += _varint(_zz(fid))
            last = fid
            if ftype != 'bool':
                self.value(ftype, val)
        self.b.append(T_STOP)

    def value(self, t, v):
        if t in (T_I16, T_I32, T_I64):
            self.b += _varint(_zz(int(v)))
        elif t == T_BINARY:
            v = v.encode() if isinstance(v, str) else v
            self.b += _varint(len(v)) + v
        elif t == T_STRUCT:
            self.struct(v)
        elif t == T_LIST:
            et, items = v
            n = len(items)
            self.b.append((n << 4) | et if n < 15 else 0xF0 | et)
            if n >= 15:
                self.b += _varint(n)
            for it in items:
                self.value(et, it)
        else:
            raise ValueError(t)


def _thrift(fields):
    w = _W()
    w.struct(fields)
    return bytes(w.b)


class _R:
    def __init__(self, buf, pos=0):
        self.buf, self.pos = buf, pos

    def varint(self):
        n = shift = 0
        while True:
            b = self.buf[self.pos]
            self.pos += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    def zz(self):
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def struct(self):
        out, last = {}, 0
        while True:
            h = self.buf[self.pos]
            self.pos += 1
            if h == T_STOP:
                return out
            t = h & 0x0F
            fid = last + (h >> 4) if h >> 4 else self.zz()
            last = fid
            out[fid] = self.value(t)

    def value(self, t):
        if t == T_TRUE:
            return True
        if t == T_FALSE:
            return False
        if t == T_BYTE:
            self.pos += 1
            return self.buf[self.pos - 1]
        if t in (T_I16, T_I32, T_I64):
            return self.zz()
        if t == T_DOUBLE:
            self.pos += 8
            return struct.unpack('<d', self.buf[self.pos - 8:self.pos])[0]
        if t == T_BINARY:
            n = self.varint()
            self.pos += n
            return bytes(self.buf[self.pos - n:self.pos])
        if t in (T_LIST, T_SET):
            h = self.buf[self.pos]
            self.pos += 1
            n, et = h >> 4, h & 0x0F
            if n == 15:
                n = self.varint()
            return [self.value(et) for _ in range(n)]
        if t == T_MAP:
            n = self.varint()
            if n == 0:
                return {}
            kv = self.buf[self.pos]
            self.pos += 1
            return {self.value(kv >> 4): self.value(kv & 0x0F) for _ in range(n)}
        if t == T_STRUCT:
            return self.struct()
        raise ValueError(f'thrift type {t}')


# ---------------------------------------------------------------- parquet constants
PT = {'int32': 1, 'int64': 2, 'float32': 4, 'float64': 5}
NP_OF_PT = {1: '<i4', 2: '<i8', 4: '<f4', 5: '<f8'}
OPTIONAL, REQUIRED = 1, 0


def write_parquet(path, columns, created_by='voxelbench tools/models/eeg_parquet.py'):
    """columns: list of (name, 1-D numpy array of float32/float64/int32/int64), all the same length."""
    n = len(columns[0][1])
    out = bytearray(b'PAR1')
    chunks = []
    for name, arr in columns:
        arr = np.ascontiguousarray(arr)
        assert len(arr) == n
        ptype = PT[arr.dtype.name]
        values = arr.astype(NP_OF_PT[ptype]).tobytes()
        # definition levels (all 1), RLE/bit-packed hybrid, bit width 1: one RLE run
        rle = _varint(n << 1) + b'\x01'
        page = struct.pack('<I', len(rle)) + rle + values
        header = _thrift([
            (1, T_I32, 0),  # DATA_PAGE
            (2, T_I32, len(page)),
            (3, T_I32, len(page)),
            (5, T_STRUCT, [(1, T_I32, n), (2, T_I32, 0), (3, T_I32, 3), (4, T_I32, 3)]),
        ])
        offset = len(out)
        out += header + page
        size = len(header) + len(page)
        chunks.append((name, ptype, offset, size))
    schema = [[(4, T_BINARY, 'schema'), (5, T_I32, len(columns))]]
    for name, ptype, _, _ in chunks:
        schema.append([(1, T_I32, ptype), (3, T_I32, OPTIONAL), (4, T_BINARY, name)])
    cols = []
    for name, ptype, offset, size in chunks:
        meta = [(1, T_I32, ptype), (2, T_LIST, (T_I32, [0, 3])), (3, T_LIST, (T_BINARY, [name])), (4, T_I32, 0),
                (5, T_I64, n), (6, T_I64, size), (7, T_I64, size), (9, T_I64, offset)]
        cols.append([(2, T_I64, offset), (3, T_STRUCT, meta)])
    total = sum(c[3] for c in chunks)
    rg = [(1, T_LIST, (T_STRUCT, cols)), (2, T_I64, total), (3, T_I64, n)]
    fmd = _thrift([(1, T_I32, 1), (2, T_LIST, (T_STRUCT, schema)), (3, T_I64, n), (4, T_LIST, (T_STRUCT, [rg])),
                   (6, T_BINARY, created_by)])
    out += fmd + struct.pack('<I', len(fmd)) + b'PAR1'
    with open(path, 'wb') as f:
        f.write(out)


# ---------------------------------------------------------------- reading
def _snappy(buf):
    r = _R(buf)
    n = r.varint()
    out = bytearray()
    p = r.pos
    while p < len(buf):
        tag = buf[p]
        p += 1
        kind = tag & 3
        if kind == 0:
            ln = tag >> 2
            if ln >= 60:
                nb = ln - 59
                ln = int.from_bytes(buf[p:p + nb], 'little')
                p += nb
            ln += 1
            out += buf[p:p + ln]
            p += ln
            continue
        if kind == 1:
            ln = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | buf[p]
            p += 1
        elif kind == 2:
            ln = (tag >> 2) + 1
            off = int.from_bytes(buf[p:p + 2], 'little')
            p += 2
        else:
            ln = (tag >> 2) + 1
            off = int.from_bytes(buf[p:p + 4], 'little')
            p += 4
        for _ in range(ln):
            out.append(out[-off])
    assert len(out) == n, 'snappy: bad length'
    return bytes(out)


def _hybrid(buf, bit_width, count):
    """RLE / bit-packed hybrid decoding (without the length prefix)."""
    r = _R(buf)
    out = []
    bw_bytes = (bit_width + 7) // 8
    while len(out) < count and r.pos < len(buf):
        h = r.varint()
        if h & 1:
            groups = h >> 1
            nbytes = groups * bit_width
            bits = int.from_bytes(buf[r.pos:r.pos + nbytes], 'little')
            r.pos += nbytes
            mask = (1 << bit_width) - 1
            for i in range(groups * 8):
                out.append((bits >> (i * bit_width)) & mask if bit_width else 0)
        else:
            v = int.from_bytes(buf[r.pos:r.pos + bw_bytes], 'little')
            r.pos += bw_bytes
            out += [v] * (h >> 1)
    return np.array(out[:count], dtype=np.int64)


def read_parquet(path):
    """Returns (list of column names, dict name -> float64/int64 numpy array, nulls as NaN)."""
    with open(path, 'rb') as f:
        buf = f.read()
    if buf[:4] != b'PAR1' or buf[-4:] != b'PAR1':
        raise ValueError(f'{path}: not a parquet file')
    n = struct.unpack('<I', buf[-8:-4])[0]
    md = _R(buf, len(buf) - 8 - n).struct()
    schema = md[2][1:]
    names = [s[4].decode() for s in schema]
    out = {}
    for rg in md[4]:
        for ci, cc in enumerate(rg[1]):
            meta = cc[3]
            name = names[ci]
            ptype, codec, nvals = meta[1], meta[4], meta[5]
            optional = schema[ci].get(3, 0) == OPTIONAL
            dt = np.dtype(NP_OF_PT[ptype])
            pos = meta.get(11, meta[9])  # dictionary page first when present
            end = pos + meta[7]
            dictionary = None
            vals = []
            while pos < end:
                r = _R(buf, pos)
                ph = r.struct()
                pos = r.pos
                body = bytes(buf[pos:pos + ph[3]])
                pos += ph[3]
                ptype_page = ph[1]
                if ptype_page == 3:  # DATA_PAGE_V2: levels are not compressed
                    h2 = ph[8]
                    nv, nnull, enc = h2[1], h2[2], h2[4]
                    dl, rl = h2[5], h2[6]
                    levels, data = body[:dl + rl], body[dl + rl:]
                    if h2.get(7, True) and codec == 1:
                        data = _snappy(data)
                    defs = _hybrid(levels[rl:], 1, nv) if optional and dl else np.ones(nv, np.int64)
                else:
                    if codec == 1:
                        body = _snappy(body)
                    elif codec != 0:
                        raise ValueError(f'{path}: codec {codec} not supported')
                    if ptype_page == 2:  # DICTIONARY_PAGE
                        dictionary = np.frombuffer(body, dt, ph[7][1])
                        continue
                    h1 = ph[5]
                    nv, enc = h1[1], h1[2]
                    if optional:
                        ln = struct.unpack('<I', body[:4])[0]
                        defs = _hybrid(body[4:4 + ln], 1, nv)
                        data = body[4 + ln:]
                    else:
                        defs, data = np.ones(nv, np.int64), body
                nd = int(defs.sum())
                if enc == 0:
                    v = np.frombuffer(data, dt, nd)
                elif enc in (2, 8):
                    idx = _hybrid(data[1:], data[0], nd)
                    v = dictionary[idx]
                else:
                    raise ValueError(f'{path}: encoding {enc} not supported')
                full = np.full(nv, np.nan)
                full[defs == 1] = v
                vals.append(full if dt.kind == 'f' or nd < nv else v.astype(np.int64))
            out.setdefault(name, []).extend(vals)
    cols = {k: np.concatenate(v) for k, v in out.items()}
    return names, cols
