# mp.py: just enough MessagePack for the drumvae tests (no msgpack module),
# little-endian payload helpers and hand-made notes, pattern and latent
# records. Reads and writes bytes or record files; used by the Python tests
# (through drumvae_test.py) and by the sh tests as `import mp`.
import struct

def pack(o):
    if o is None: return b'\xc0'
    if o is True or o is False: return b'\xc3' if o else b'\xc2'
    if isinstance(o, int):
        if 0 <= o < 128: return bytes([o])
        if -32 <= o < 0: return struct.pack('b', o)
        return b'\xd3' + struct.pack('>q', o)
    if isinstance(o, float): return b'\xcb' + struct.pack('>d', o)
    if isinstance(o, str):
        b = o.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else b'\xdb' + struct.pack('>I', len(b))) + b
    if isinstance(o, (bytes, bytearray)): return b'\xc6' + struct.pack('>I', len(o)) + bytes(o)
    if isinstance(o, (list, tuple)): return b'\xdd' + struct.pack('>I', len(o)) + b''.join(pack(x) for x in o)
    if isinstance(o, dict):
        return b'\xdf' + struct.pack('>I', len(o)) + b''.join(pack(k) + pack(v) for k, v in o.items())
    raise TypeError(o)

def unpack(b, i=0):
    c = b[i]; i += 1
    if c < 0x80: return c, i
    if c >= 0xe0: return c - 256, i
    if 0x80 <= c <= 0x8f or c in (0xde, 0xdf):
        n = c & 15
        if c > 0x8f:
            w = 2 if c == 0xde else 4; n = int.from_bytes(b[i:i+w], 'big'); i += w
        d = {}
        for _ in range(n):
            k, i = unpack(b, i); v, i = unpack(b, i); d[k] = v
        return d, i
    if 0x90 <= c <= 0x9f or c in (0xdc, 0xdd):
        n = c & 15
        if c > 0x9f:
            w = 2 if c == 0xdc else 4; n = int.from_bytes(b[i:i+w], 'big'); i += w
        a = []
        for _ in range(n):
            v, i = unpack(b, i); a.append(v)
        return a, i
    if 0xa0 <= c <= 0xbf or c in (0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6):
        n = c & 31
        if c > 0xbf:
            w = {0xd9: 1, 0xda: 2, 0xdb: 4, 0xc4: 1, 0xc5: 2, 0xc6: 4}[c]
            n = int.from_bytes(b[i:i+w], 'big'); i += w
        s = bytes(b[i:i+n]); i += n
        return (s if c in (0xc4, 0xc5, 0xc6) else s.decode()), i
    if c == 0xc0: return None, i
    if c in (0xc2, 0xc3): return c == 0xc3, i
    if c == 0xca: return struct.unpack('>f', b[i:i+4])[0], i + 4
    if c == 0xcb: return struct.unpack('>d', b[i:i+8])[0], i + 8
    for code, fmt, w in ((0xcc, '>B', 1), (0xcd, '>H', 2), (0xce, '>I', 4), (0xcf, '>Q', 8),
                         (0xd0, '>b', 1), (0xd1, '>h', 2), (0xd2, '>i', 4), (0xd3, '>q', 8)):
        if c == code: return struct.unpack(fmt, b[i:i+w])[0], i + w
    raise ValueError('byte 0x%02x at %d' % (c, i - 1))

def records(b):
    """the records of the bytes b"""
    i, out = 0, []
    while i < len(b):
        r, i = unpack(b, i); out.append(r)
    return out

def stream(recs): return b''.join(pack(r) for r in recs)
def load(path):
    with open(path, 'rb') as f: return records(f.read())
def write(path, recs):
    with open(path, 'wb') as f: f.write(stream(recs))

def bins(fmt, a): return struct.pack('<%d%s' % (len(a), fmt), *a)
def unbin(fmt, b): return list(struct.unpack('<%d%s' % (len(b) // struct.calcsize(fmt), fmt), b))
def f32(x): return struct.unpack('<f', struct.pack('<f', x))[0]
def f32s(a): return bins('f', a)
def unf32(b): return unbin('f', b)

def notes_rec(id, notes, qpm=120.0, tempos=None, ts=((0.0, 4, 4),), end_s=None, tpq=480, **extra):
    """notes: (on_s, off_s, pitch, velocity[, channel]) tuples, sorted here"""
    notes = sorted(notes, key=lambda n: (n[0], n[2]))
    tempos = tempos if tempos is not None else [(0.0, qpm)]
    if end_s is None:
        end_s = max([n[1] for n in notes] + [0.0])
    r = {'kind': 'notes', 'v': 1, 'id': id, 'source': id, 'tpq': tpq, 'end_s': end_s,
         'ntempo': len(tempos), 'tempo_s': bins('d', [t[0] for t in tempos]),
         'tempo_qpm': bins('d', [t[1] for t in tempos]),
         'nts': len(ts), 'ts_s': bins('d', [t[0] for t in ts]),
         'ts_num': bytes(t[1] for t in ts), 'ts_den': bytes(t[2] for t in ts),
         'n': len(notes), 'on_s': bins('d', [n[0] for n in notes]),
         'off_s': bins('d', [n[1] for n in notes]), 'pitch': bytes(n[2] for n in notes),
         'velocity': bytes(n[3] for n in notes),
         'channel': bytes((n[4] if len(n) > 4 else 9) for n in notes)}
    r.update(extra)
    return r

def latent(id, mu, sigma=None, z=None, qpm=120.0, **extra):
    r = {'kind': 'latent', 'v': 1, 'id': id, 'zdim': len(mu), 'qpm': qpm, 'mu': f32s(mu),
         'sigma': f32s(sigma if sigma is not None else [0.0] * len(mu)),
         'z': f32s(z if z is not None else mu)}
    r.update(extra); return r

def pattern(id, hits=(), qpm=120.0, **extra):
    """hits: (step, class, velocity 0..1, offset) tuples"""
    g = [0.0] * (64 * 27)
    for s, c, v, o in hits:
        g[s*27 + c] = 1.0; g[s*27 + 9 + c] = v; g[s*27 + 18 + c] = o
    r = {'kind': 'pattern', 'v': 1, 'id': id, 'steps': 64, 'classes': 9, 'qpm': qpm,
         'groove': f32s(g)}
    r.update(extra); return r

def expect(path, id, want, absent=(), tol=1e-6):
    """the record `id` of file `path` has the keys of `want` (numbers within
    tol) and none of `absent`; prints each difference, returns the count"""
    bad = 0
    recs = [r for r in load(path) if r.get('id') == id]
    if len(recs) != 1:
        print('%s: %d records with id %r' % (path, len(recs), id)); return 1
    r = recs[0]
    for k, v in want.items():
        if k not in r:
            print('%s: %s: key %r missing' % (path, id, k)); bad += 1
        elif isinstance(v, float) and isinstance(r[k], (int, float)):
            if not abs(r[k] - v) <= tol:
                print('%s: %s: %r = %r, want %r (diff %g)' % (path, id, k, r[k], v, r[k] - v)); bad += 1
        elif r[k] != v:
            print('%s: %s: %r = %r, want %r' % (path, id, k, r[k], v)); bad += 1
    for k in absent:
        if k in r:
            print('%s: %s: key %r should be absent, is %r' % (path, id, k, r[k])); bad += 1
    return bad
