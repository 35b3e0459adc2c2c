# drumvae_test.py: TAP harness for the Python tests: tool runner ($DRUMVAE_BIN),
# ok/skip/fails/done, $GMD (empty when it has no info.csv), a scratch folder
# TMP removed by done(); re-exports mp (MessagePack and hand-made records).
# Use: `from drumvae_test import *` with tests/lib on sys.path.
import os, re, subprocess, sys, tempfile
from mp import *

BIN = os.environ.get('DRUMVAE_BIN') or os.path.join(os.getcwd(), 'bin')
GMD = os.environ.get('GMD', '')
if GMD and not os.path.isfile(os.path.join(GMD, 'info.csv')):
    GMD = ''
TMP = tempfile.mkdtemp(prefix='drumvae-test.')

def run(cmd, inp=b''):
    """cmd: a tool name plus arguments, or a list of such lists (a pipe)"""
    if isinstance(cmd[0], str): cmd = [cmd]
    data, err, st = inp, '', 0
    for c in cmd:
        p = subprocess.run([os.path.join(BIN, c[0])] + list(c[1:]), input=data, capture_output=True)
        data, err, st = p.stdout, err + p.stderr.decode(errors='replace'), p.returncode
        if st:
            break
    return st, data, err

N = [0, 0]
def ok(cond, desc, diag=''):
    N[0] += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', N[0], desc))
    if not cond:
        N[1] += 1
        for l in str(diag).splitlines():
            print('# ' + l)
    sys.stdout.flush()
    return cond

def skip(desc, why):
    N[0] += 1
    print('ok %d - %s # skip %s' % (N[0], desc, why))

def fails(desc, cmd, inp, want, pattern):
    """cmd must exit `want`, print nothing on stdout and match pattern on stderr"""
    st, out, err = run(cmd, inp)
    ok(st == want and not out and re.search(pattern, err), desc,
       'exit %d (want %d), %d bytes on stdout, stderr:\n%s' % (st, want, len(out), err))

def done():
    print('1..%d' % N[0])
    subprocess.run(['rm', '-rf', TMP])
    sys.exit(1 if N[1] else 0)
