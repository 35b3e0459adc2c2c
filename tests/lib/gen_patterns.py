# gen_patterns.py N SEED [KIND [HUGE]]: N random pattern records (or records
# of KIND) on stdout, ids gen/F.mid#barB; with HUGE record 3 has a velocity
# of 3e38 (the loss overflows). For tests/lib/model.sh; no msgpack module.
import random, struct, sys
def pk(o):
    if isinstance(o, int): return b'\xd3' + struct.pack('>q', o)
    if isinstance(o, float): return b'\xcb' + struct.pack('>d', o)
    if isinstance(o, str): o = o.encode(); return b'\xdb' + struct.pack('>I', len(o)) + o
    if isinstance(o, bytes): return b'\xc6' + struct.pack('>I', len(o)) + o
    return b'\xdf' + struct.pack('>I', len(o)) + b''.join(pk(k) + pk(v) for k, v in o.items())
n, rnd = int(sys.argv[1]), random.Random(int(sys.argv[2]))
kind = sys.argv[3] if len(sys.argv) > 3 else 'pattern'
out = []
for i in range(n):
    g = []
    for s in range(64):
        h = [1.0 if rnd.random() < 0.2 else 0.0 for _ in range(9)]
        g += h + [rnd.random() * x for x in h] + [rnd.uniform(-.5, .5) * x for x in h]
    if len(sys.argv) > 4 and i == 3: g[9] = 3e38
    out.append(pk({'kind': kind, 'v': 1, 'id': 'gen/%d.mid#bar%d' % (i // 4, 1 + 4 * (i % 4)),
        'steps': 64, 'classes': 9, 'qpm': 80.0 + i % 40, 'groove': struct.pack('<1728f', *g),
        'source': 'gen/%d.mid' % (i // 4), 'bar': 1 + 4 * (i % 4), 'split': 'train'}))
sys.stdout.buffer.write(b''.join(out))
