#!/usr/bin/python3
"""vae_ref.py: the drumvae model (lib/vae.c, REFERENCE.md section 6) in
PyTorch, as an independent oracle and a speed yardstick.

  vae_ref.py check DIR [--tol T]   read DIR/tensors.json + data.f32 written by
                                   bench/vae-dump, recompute the loss and all
                                   gradients in float64 with autograd using
                                   the same weights, batch, eps and dropout
                                   masks; print the max error per tensor;
                                   exit 1 if any exceeds T.
  vae_ref.py bench [-p PRESET] [-b B] [-t THREADS] [-n STEPS] [--explicit]
                                   time a float32 training step (forward,
                                   backward, clip, Adam) and print a row like
                                   bench-train's: idiomatic PyTorch (nn.LSTM,
                                   nn.Linear, F.dropout; same sizes and
                                   FLOPs, two biases per LSTM as torch has),
                                   or with --explicit this file's
                                   step-by-step model.
Run with /usr/bin/python3 (Debian's python3-torch)."""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch

T, O, C = 64, 27, 9
PRESETS = {
    'groovae': dict(hier=0, enc_h=512, enc_layers=1, dec_h=256, dec_layers=2,
                    cond_h=0, cond_layers=0, z=256, bars=4, free_bits=48.0,
                    beta=0.2, keep=0.3, loss=0),
    'hier': dict(hier=1, enc_h=512, enc_layers=1, dec_h=256, dec_layers=2,
                 cond_h=256, cond_layers=2, z=256, bars=4, free_bits=48.0,
                 beta=0.2, keep=0.3, loss=0),
    'tiny': dict(hier=1, enc_h=16, enc_layers=1, dec_h=16, dec_layers=2,
                 cond_h=16, cond_layers=2, z=8, bars=4, free_bits=48.0,
                 beta=0.2, keep=0.3, loss=0),
}
BALANCED_W = 8.0


def layout(cfg):
    """(name, rows, cols) in lib/vae.c's order."""
    t = []
    E = cfg['cond_h'] if cfg['hier'] else cfg['z']
    for l in range(cfg['enc_layers']):
        I = 2 * cfg['enc_h'] if l else O
        for d in ('fw', 'bw'):
            t += [('enc/%s/%d/kernel' % (d, l), I + cfg['enc_h'], 4 * cfg['enc_h']),
                  ('enc/%s/%d/bias' % (d, l), 4 * cfg['enc_h'], 1)]
    for n in ('mu', 'sigma'):
        t += [('enc/%s/kernel' % n, 2 * cfg['enc_h'], cfg['z']), ('enc/%s/bias' % n, cfg['z'], 1)]
    if cfg['hier']:
        N = 2 * cfg['cond_layers'] * cfg['cond_h']
        t += [('cond/init/kernel', cfg['z'], N), ('cond/init/bias', N, 1)]
        for l in range(cfg['cond_layers']):
            I = cfg['cond_h'] if l else 1
            t += [('cond/%d/kernel' % l, I + cfg['cond_h'], 4 * cfg['cond_h']),
                  ('cond/%d/bias' % l, 4 * cfg['cond_h'], 1)]
    N = 2 * cfg['dec_layers'] * cfg['dec_h']
    t += [('dec/init/kernel', E, N), ('dec/init/bias', N, 1)]
    for l in range(cfg['dec_layers']):
        I = cfg['dec_h'] if l else O + E
        t += [('dec/%d/kernel' % l, I + cfg['dec_h'], 4 * cfg['dec_h']),
              ('dec/%d/bias' % l, 4 * cfg['dec_h'], 1)]
    t += [('dec/out/kernel', cfg['dec_h'], O), ('dec/out/bias', O, 1)]
    return t


def lstm(x, W, b, h0, c0, S, mask, keep):
    """x (T', B, I); W (I+H, 4H) gates i j f o; h0, c0 (U, B, H) per
    segment of S steps; forget bias +1. Returns h (T', B, H)."""
    if mask is not None:
        x = x * mask / keep
    I = x.shape[2]
    H = W.shape[1] // 4
    xp = x @ W[:I] + b.reshape(-1)
    Wh = W[I:]
    out = []
    for t in range(x.shape[0]):
        if t % S == 0:
            h, c = h0[t // S], c0[t // S]
        g = xp[t] + h @ Wh
        i, j, f, o = g.split(H, dim=1)
        c = torch.sigmoid(i) * torch.tanh(j) + torch.sigmoid(f + 1) * c
        h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return torch.stack(out)


def split_state(s, L, H):
    """tanh(Dense) output (..., 2*L*H) -> per layer (c, h)."""
    return [(s[..., 2 * l * H:(2 * l + 1) * H], s[..., (2 * l + 1) * H:(2 * l + 2) * H])
            for l in range(L)]


def model_loss(cfg, P, x, eps, masks):
    """x (B, T, O) float; P: name -> tensor; masks: name -> tensor or None.
    Returns loss, dict of parts."""
    B = x.shape[0]
    keep = cfg['keep']
    He, Z = cfg['enc_h'], cfg['z']
    xt = x.transpose(0, 1)                                   # (T, B, O)
    zeros = lambda H, U=1: torch.zeros(U, B, H, dtype=x.dtype)
    # encoder: fw in time order, bw on the reversed sequence
    inf, inb = xt, xt.flip(0)
    for l in range(cfg['enc_layers']):
        hf = lstm(inf, P['enc/fw/%d/kernel' % l], P['enc/fw/%d/bias' % l], zeros(He), zeros(He), T,
                  masks.get('mask/enc/fw/%d' % l), keep)
        hb = lstm(inb, P['enc/bw/%d/kernel' % l], P['enc/bw/%d/bias' % l], zeros(He), zeros(He), T,
                  masks.get('mask/enc/bw/%d' % l), keep)
        X = torch.cat([hf, hb.flip(0)], dim=2)               # original time
        inf, inb = X, X.flip(0)
    enc = torch.cat([hf[-1], hb[-1]], dim=1)
    mu = enc @ P['enc/mu/kernel'] + P['enc/mu/bias'].reshape(-1)
    sigma = torch.nn.functional.softplus(enc @ P['enc/sigma/kernel'] + P['enc/sigma/bias'].reshape(-1))
    z = mu + sigma * eps
    # decoder embeddings: z (flat, one segment) or conductor outputs
    if cfg['hier']:
        Hc, Lc, U = cfg['cond_h'], cfg['cond_layers'], cfg['bars']
        st = split_state(torch.tanh(z @ P['cond/init/kernel'] + P['cond/init/bias'].reshape(-1)), Lc, Hc)
        h = torch.zeros(U, B, 1, dtype=x.dtype)
        for l in range(Lc):
            c0, h0 = st[l]
            h = lstm(h, P['cond/%d/kernel' % l], P['cond/%d/bias' % l], h0[None], c0[None], U,
                     masks.get('mask/cond/%d' % l) if l else None, keep)
        emb = h                                              # (U, B, Hc)
    else:
        U = 1
        emb = z[None]
    S = T // U
    Hd, Ld = cfg['dec_h'], cfg['dec_layers']
    st = split_state(torch.tanh(emb @ P['dec/init/kernel'] + P['dec/init/bias'].reshape(-1)), Ld, Hd)
    prev = torch.cat([torch.zeros(1, B, O, dtype=x.dtype), xt[:-1]], dim=0)
    h = torch.cat([prev, emb.repeat_interleave(S, dim=0)], dim=2)
    for l in range(Ld):
        c0, h0 = st[l]
        h = lstm(h, P['dec/%d/kernel' % l], P['dec/%d/bias' % l], h0, c0, S,
                 masks.get('mask/dec/%d' % l), keep)
    lg = h @ P['dec/out/kernel'] + P['dec/out/bias'].reshape(-1)   # (T, B, O)
    y = xt
    p = torch.sigmoid(lg[..., :C])
    vh = torch.sigmoid(lg[..., C:2 * C])
    oh = torch.tanh(lg[..., 2 * C:])
    yh = y[..., :C]
    w = BALANCED_W * yh if cfg['loss'] == 1 else 1.0
    hits = (-yh * torch.log(p + 1e-7) - (1 - yh) * torch.log(1 - p + 1e-7)).sum() / B
    vel = (w * (vh - y[..., C:2 * C]) ** 2).sum() / B
    off = (w * (oh - y[..., 2 * C:]) ** 2).sum() / B
    kl = 0.5 * (sigma ** 2 + mu ** 2 - 1 - 2 * torch.log(sigma)).sum(dim=1)
    klc = torch.clamp(kl - cfg['free_bits'] * math.log(2), min=0)
    r = hits + vel + off
    loss = r + cfg['beta'] * klc.mean()
    return loss, dict(loss=loss.item(), r_loss=r.item(), hits=hits.item(), vel=vel.item(),
                      off=off.item(), kl_bits=(kl.mean() / math.log(2)).item(), logits=lg)


def check(args):
    meta = json.load(open(args.dir + '/tensors.json'))
    raw = np.fromfile(args.dir + '/data.f32', dtype='<f4')
    cfg = meta['config']
    tens = {}
    for t in meta['tensors']:
        n = int(np.prod(t['shape']))
        tens[t['name']] = torch.from_numpy(raw[t['offset']:t['offset'] + n].astype(np.float64)
                                           .reshape(t['shape']))
    names = [n for n, _, _ in layout(cfg)]
    P = {n: tens['param/' + n].clone().requires_grad_(True) for n in names}
    masks = {k: v for k, v in tens.items() if k.startswith('mask/')}
    loss, parts = model_loss(cfg, P, tens['x'], tens['eps'], masks)
    loss.backward()
    bad = 0
    print('%-20s %12s %12s %10s' % ('loss term', 'C', 'torch', 'rel err'))
    for k in ('loss', 'r_loss', 'hits', 'vel', 'off', 'kl_bits'):
        a, b = meta['loss'][k], parts[k]
        e = abs(a - b) / max(abs(b), 1e-6)
        bad += e > args.tol
        print('%-20s %12.6f %12.6f %10.2e' % (k, a, b, e))
    lg = parts['logits'].detach()
    e = (tens['logits'] - lg).abs().max().item() / max(lg.abs().max().item(), 1e-12)
    bad += e > args.tol
    print('%-20s %38.2e' % ('logits', e))
    print('%-20s %12s %12s %10s' % ('gradient', 'max|g| C', 'max|g| torch', 'rel err'))
    worst = 0
    for n in names:
        gt = P[n].grad.reshape(tens['grad/' + n].shape)
        gc = tens['grad/' + n]
        scale = max(gt.abs().max().item(), 1e-12)
        e = (gc - gt).abs().max().item() / scale
        worst = max(worst, e)
        bad += e > args.tol
        print('%-20s %12.4g %12.4g %10.2e%s' % (n, gc.abs().max().item(), scale, e,
                                               '  <-- over %g' % args.tol if e > args.tol else ''))
    print('max rel err over all gradients %.3g (tolerance %g): %s' %
          (worst, args.tol, 'ok' if not bad else 'FAIL'))
    return 1 if bad else 0


class TorchVae(torch.nn.Module):
    """The same architecture in idiomatic PyTorch, for timing only."""

    def __init__(self, cfg):
        super().__init__()
        nn = torch.nn
        self.cfg = cfg
        He, Z, Hd, Ld = cfg['enc_h'], cfg['z'], cfg['dec_h'], cfg['dec_layers']
        self.enc = nn.LSTM(O, He, num_layers=cfg['enc_layers'], bidirectional=True,
                           dropout=1 - cfg['keep'] if cfg['enc_layers'] > 1 else 0)
        self.mu = nn.Linear(2 * He, Z)
        self.sigma = nn.Linear(2 * He, Z)
        E = Z
        if cfg['hier']:
            Hc, Lc = cfg['cond_h'], cfg['cond_layers']
            self.cinit = nn.Linear(Z, 2 * Lc * Hc)
            self.cond = nn.LSTM(1, Hc, num_layers=Lc, dropout=1 - cfg['keep'] if Lc > 1 else 0)
            E = Hc
        self.dinit = nn.Linear(E, 2 * Ld * Hd)
        self.dec = nn.LSTM(O + E, Hd, num_layers=Ld, dropout=1 - cfg['keep'] if Ld > 1 else 0)
        self.out = nn.Linear(Hd, O)

    @staticmethod
    def state(s, L, H):
        st = s.reshape(s.shape[0], L, 2, H).permute(2, 1, 0, 3)
        return st[1].contiguous(), st[0].contiguous()       # h (L, N, H), c

    def forward(self, x):
        cfg, F = self.cfg, torch.nn.functional
        B, p = x.shape[0], 1 - cfg['keep']
        xt = x.transpose(0, 1)
        _, (h, _) = self.enc(F.dropout(xt, p))
        enc = torch.cat([h[-2], h[-1]], dim=1)
        mu, sigma = self.mu(enc), F.softplus(self.sigma(enc))
        z = mu + sigma * torch.randn_like(mu)
        if cfg['hier']:
            U, Hc = cfg['bars'], cfg['cond_h']
            h0, c0 = self.state(torch.tanh(self.cinit(z)), cfg['cond_layers'], Hc)
            emb, _ = self.cond(torch.zeros(U, B, 1), (h0, c0))    # (U, B, Hc)
        else:
            U, emb = 1, z[None]
        S = T // U
        prev = torch.cat([torch.zeros(1, B, O), xt[:-1]], dim=0)
        # the U segments of S steps run as one batch of U*B sequences
        inp = torch.cat([prev.reshape(U, S, B, O).transpose(0, 1),
                         emb[None].expand(S, U, B, emb.shape[2])], dim=3).reshape(S, U * B, -1)
        h0, c0 = self.state(torch.tanh(self.dinit(emb.reshape(U * B, -1))), cfg['dec_layers'], cfg['dec_h'])
        h, _ = self.dec(F.dropout(inp, p), (h0, c0))
        lg = self.out(h).reshape(S, U, B, O).transpose(0, 1).reshape(T, B, O)
        y = xt
        pr = torch.sigmoid(lg[..., :C])
        yh = y[..., :C]
        r = (-yh * torch.log(pr + 1e-7) - (1 - yh) * torch.log(1 - pr + 1e-7)).sum() \
            + ((torch.sigmoid(lg[..., C:2 * C]) - y[..., C:2 * C]) ** 2).sum() \
            + ((torch.tanh(lg[..., 2 * C:]) - y[..., 2 * C:]) ** 2).sum()
        kl = 0.5 * (sigma ** 2 + mu ** 2 - 1 - 2 * torch.log(sigma)).sum(dim=1)
        klc = torch.clamp(kl - cfg['free_bits'] * math.log(2), min=0)
        return r / B + cfg['beta'] * klc.mean()


def best_time(step, n):
    """Seconds of the fastest of n calls of step, after one warm-up call."""
    step()
    best = 1e30
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    return best


def bench(args):
    torch.set_num_threads(args.threads)
    if not args.explicit:
        torch.manual_seed(1)
        cfg = dict(PRESETS[args.preset])
        model = TorchVae(cfg)
        B = args.batch
        x = torch.zeros(B, T, O)
        hit = torch.rand(B, T, C) < 0.13
        x[..., :C] = hit.float()
        x[..., C:2 * C] = hit.float() * torch.rand(B, T, C)
        x[..., 2 * C:] = hit.float() * (torch.rand(B, T, C) - 0.5)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            model(x).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        best = best_time(step, args.steps)
        print('%-8s %5d %3d %8.1f %9.1f   (pytorch %s nn.LSTM, %d params)' %
              (args.preset, B, args.threads, B / best, 1e3 * best, torch.__version__,
               sum(p.numel() for p in model.parameters())))
        return 0
    cfg = dict(PRESETS[args.preset])
    g = torch.Generator().manual_seed(1)
    P = {}
    for n, r, c in layout(cfg):
        lim = math.sqrt(6.0 / (r + c))
        P[n] = ((torch.rand(r, c, generator=g) * 2 - 1) * lim).requires_grad_(True)
    B = args.batch
    x = torch.zeros(B, T, O)
    hit = torch.rand(B, T, C, generator=g) < 0.13
    x[..., :C] = hit.float()
    x[..., C:2 * C] = hit.float() * torch.rand(B, T, C, generator=g)
    x[..., 2 * C:] = hit.float() * (torch.rand(B, T, C, generator=g) - 0.5)
    opt = torch.optim.Adam(P.values(), lr=1e-3)
    masks = {}

    def step():
        masks.clear()
        # fresh dropout masks of the C layout, like the C step draws them
        for n, r, c in layout(cfg):
            if n.endswith('/kernel') and ('enc/fw' in n or 'enc/bw' in n or 'dec/' in n) \
                    and '/init/' not in n and '/out/' not in n:
                H = c // 4
                I = r - H
                masks['mask/' + n[:-7]] = (torch.rand(T, B, I, generator=g) < cfg['keep']).float()
            if n.startswith('cond/') and '/init/' not in n and n.endswith('/kernel') and not n.startswith('cond/0/'):
                H = c // 4
                masks['mask/' + n[:-7]] = (torch.rand(cfg['bars'], B, r - H, generator=g) < cfg['keep']).float()
        eps = torch.randn(B, cfg['z'], generator=g)
        opt.zero_grad()
        loss, _ = model_loss(cfg, P, x, eps, masks)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(P.values(), 1.0)
        opt.step()

    best = best_time(step, args.steps)
    print('%-8s %5d %3d %8.1f %9.1f   (pytorch %s, explicit model of this file)' %
          (args.preset, B, args.threads, B / best, 1e3 * best, torch.__version__))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('check')
    c.add_argument('dir')
    c.add_argument('--tol', type=float, default=1e-4)
    b = sub.add_parser('bench')
    b.add_argument('-p', '--preset', default='groovae', choices=sorted(PRESETS))
    b.add_argument('-b', '--batch', type=int, default=64)
    b.add_argument('-t', '--threads', type=int, default=1)
    b.add_argument('-n', '--steps', type=int, default=3)
    b.add_argument('--explicit', action='store_true')
    args = ap.parse_args()
    torch.set_grad_enabled(True)
    return check(args) if args.cmd == 'check' else bench(args)


if __name__ == '__main__':
    sys.exit(main())
