/**
 * Wang & Reeves (CCS 2003; IEEE TDSC 2011): the active inter-packet-delay watermark. The
 * marker holds keystrokes of the incoming connection so that averaged IPDs quantise to the
 * watermark's bits; the decoder reads the same packets of the outgoing connection. See
 * README.md for what is taken from the papers and what is reconstructed.
 */
import { DIR_FWD, payloadTimes } from '../../src/flow.js';
import { defineDetector } from '../../src/plugin.js';
import { rngFor } from '../../src/rng.js';

const params = {
  s: { type: 'number', default: 0.4, min: 1e-6, unit: 's', description: 's: quantisation step of the averaged IPD' },
  m: { type: 'integer', default: 11, min: 1, description: 'm: redundancy, IPDs averaged into one watermark bit' },
  bits: { type: 'integer', default: 24, min: 1, description: 'L: watermark length in bits (fewer are used when the flow is short)' },
  maxPackets: {
    type: 'integer',
    default: 1500,
    min: 2,
    description: 'only the first maxPackets keystroke packets carry the watermark',
  },
  spread: {
    type: 'integer',
    default: 1,
    min: 1,
    description: "each bit takes its 2m packets from its own block of spread·2m consecutive keystrokes, chosen by the key (1: the whole block)",
  },
  key: { type: 'integer', default: 1, description: 'secret shared by marker and decoder: the watermark bits and the packets chosen' },
  maxOffset: {
    type: 'integer',
    default: 40,
    min: 0,
    description: 'the decoder tries every shift of the outgoing keystrokes against the marked ones up to this many packets, either way, and keeps the best',
  },
} as const;

/** q(x, s): x in units of s, rounded half up. */
export function quantise(x: number, s: number): number {
  return Math.floor(x / s + 0.5);
}

/**
 * e(x, w, s): the smallest multiple of s above x + s/2 whose quotient has parity w.
 * Always more than x and at most x + 2s, so it is reached by holding packets only.
 */
export function embedValue(x: number, w: number, s: number): number {
  const base = quantise(x + s / 2, s);
  const delta = (((w - base) % 2) + 2) % 2;
  return (base + delta) * s;
}

/** d(x, s) = q(x, s) mod 2: the bit an averaged IPD carries; right while noise stays within ±s/2. */
export function decodeValue(x: number, s: number): number {
  return ((quantise(x, s) % 2) + 2) % 2;
}

/** The watermark: `bits` key-derived fair coin flips. */
export function watermarkBits(key: number, bits: number): Uint8Array {
  const rng = rngFor(key, 'wm/watermark', 0);
  const w = new Uint8Array(bits);
  for (let i = 0; i < bits; i++) w[i] = rng.next() < 0.5 ? 1 : 0;
  return w;
}

/**
 * Which keystrokes carry which bit. Bit b owns keystrokes [b·block, (b+1)·block); of the 2m
 * it uses, the earlier m are the first packets of its m pairs and the later m the second
 * ones. The bit's averaged IPD is mean(second) − mean(first) whatever the matching of
 * first to second packets, so the matching is not kept.
 */
export interface Layout {
  m: number;
  /** Keystrokes per bit: 2m·spread. */
  block: number;
  /** first[b·m + k]: index of the k-th first packet of bit b; ascending within a bit. */
  first: Int32Array;
  /** second[b·m + k]: likewise for the second packets; all after the bit's first packets. */
  second: Int32Array;
}

export function layout(key: number, m: number, spread: number, bits: number): Layout {
  const block = 2 * m * spread;
  const first = new Int32Array(bits * m);
  const second = new Int32Array(bits * m);
  const offsets = new Int32Array(block);
  for (let b = 0; b < bits; b++) {
    const base = b * block;
    let chosen: Int32Array;
    if (spread === 1) {
      for (let k = 0; k < block; k++) offsets[k] = k;
      chosen = offsets;
    } else {
      // Partial Fisher-Yates: 2m distinct offsets of the block, then in time order.
      const rng = rngFor(key, 'wm/select', b);
      for (let k = 0; k < block; k++) offsets[k] = k;
      for (let k = 0; k < 2 * m; k++) {
        const j = k + Math.floor(rng.next() * (block - k));
        const v = offsets[j];
        offsets[j] = offsets[k];
        offsets[k] = v;
      }
      chosen = offsets.subarray(0, 2 * m).sort();
    }
    for (let k = 0; k < m; k++) {
      first[b * m + k] = base + chosen[k];
      second[b * m + k] = base + chosen[m + k];
    }
  }
  return { m, block, first, second };
}

/** Whole bits that fit in the first min(n, maxPackets) keystrokes, at most `bits`. */
export function usableBits(n: number, lay: Layout, bits: number, maxPackets: number): number {
  return Math.min(bits, Math.floor(Math.min(n, maxPackets) / lay.block));
}

/**
 * Holds keystrokes so that bit b of the first `usable` bits of `w` reads back from the
 * marked times. Works on the evolving timeline of a FIFO marker: a keystroke leaves at
 * max(its arrival, the previous departure) plus the hold chosen for it, so the queueing a
 * hold causes is part of what the next decisions see.
 *
 * Per bit: the first packets and everything before the first second packet leave as early
 * as they can. The target sum of the second packets' times follows from e() applied to the
 * bit's averaged IPD on that timeline. Each second packet in turn is held by R/k, where R
 * is what the target still lacks with the rest leaving as early as they can, and k is the
 * second packets left (this one included). A hold δ moves the projected sum by at least δ
 * (this packet) and at most k·δ (it may queue every later second packet), so R never
 * turns negative and the last second packet, which queues none of its bit, closes it
 * exactly. Holds shrink from one second packet to the next and never exceed 2s; packets
 * queued behind them wait longer.
 */
export function embed(t: Float64Array, w: Uint8Array, s: number, lay: Layout, usable: number): Float64Array {
  const n = t.length;
  const m = lay.m;
  const out = new Float64Array(n);
  let last = -Infinity;
  let i = 0;
  for (let b = 0; b < usable; b++) {
    const f0 = b * m;
    const firstSecond = lay.second[f0];
    const lastSecond = lay.second[f0 + m - 1];
    for (; i < firstSecond; i++) last = out[i] = Math.max(t[i], last);
    let sumFirst = 0;
    for (let k = 0; k < m; k++) sumFirst += out[lay.first[f0 + k]];
    const natural = projectedSecondSum(t, lay, f0, 0, last, i, lastSecond);
    const target = sumFirst + m * embedValue((natural - sumFirst) / m, w[b], s);
    let placed = 0;
    for (let k = 0; k < m; k++) {
      const y = lay.second[f0 + k];
      for (; i < y; i++) last = out[i] = Math.max(t[i], last);
      const remaining = m - k;
      const lack = target - placed - projectedSecondSum(t, lay, f0, k, last, y, lastSecond);
      const hold = lack > 0 ? lack / remaining : 0;
      last = out[y] = Math.max(t[y], last) + hold;
      placed += out[y];
      i = y + 1;
    }
  }
  for (; i < n; i++) last = out[i] = Math.max(t[i], last);
  return out;
}

/**
 * Sum of the times of second packets k.. of the bit starting at f0, if keystrokes from
 * `from` on leave as early as they can after a departure at `last`.
 */
function projectedSecondSum(t: Float64Array, lay: Layout, f0: number, k: number, last: number, from: number, to: number): number {
  let sum = 0;
  let next = lay.second[f0 + k];
  let kk = k;
  for (let j = from; j <= to; j++) {
    last = Math.max(t[j], last);
    if (j === next) {
      sum += last;
      kk++;
      next = kk < lay.m ? lay.second[f0 + kk] : -1;
    }
  }
  return sum;
}

/** The bit block b of `t` carries, its packets read `o` keystrokes earlier (all must be in `t`). */
function bitAt(t: Float64Array, b: number, s: number, lay: Layout, o: number): number {
  const m = lay.m;
  let diff = 0;
  for (let k = 0; k < m; k++) diff += t[lay.second[b * m + k] - o] - t[lay.first[b * m + k] - o];
  return decodeValue(diff / m, s);
}

/** The bits the first `usable` blocks of `t` carry. */
export function decode(t: Float64Array, s: number, lay: Layout, usable: number): Uint8Array {
  const out = new Uint8Array(usable);
  for (let b = 0; b < usable; b++) out[b] = bitAt(t, b, s, lay, 0);
  return out;
}

/** log10 P(X ≥ k) for X ~ Binomial(n, 1/2); 0 when k ≤ 0, −Infinity when k > n. */
export function binomialTailLog10(n: number, k: number): number {
  if (k <= 0) return 0;
  if (k > n) return -Infinity;
  // Terms C(n, i)·2^-n from i = n down to k, summed in log space (n may be large).
  let logTerm = -n * Math.LN2;
  let acc = logTerm;
  for (let i = n; i > k; i--) {
    logTerm += Math.log(i / (n - i + 1));
    const hi = Math.max(acc, logTerm);
    acc = hi + Math.log(Math.exp(acc - hi) + Math.exp(logTerm - hi));
  }
  return Math.min(0, acc / Math.LN10);
}

/**
 * −log10 of the chance that an unmarked flow matches the watermark in at least as many of
 * its `usable` bits: the Hamming-distance rule normalised so that flows carrying different
 * numbers of bits compare. 0 when no bit fits.
 */
export function matchScore(decoded: Uint8Array, w: Uint8Array, usable: number): number {
  let matches = 0;
  for (let b = 0; b < usable; b++) if (decoded[b] === w[b]) matches++;
  return 0 - binomialTailLog10(usable, matches);
}

/**
 * The score of outgoing keystrokes `y` read as if the copy of marked keystroke i were
 * outgoing keystroke i − o: a relay whose incoming connection carries o more keystrokes
 * before the relayed ones (typing at S before the hop) is read at shift o. Bits with a
 * packet outside `y` are not counted; with o = 0 this is matchScore(decode(y)).
 */
export function shiftedScore(y: Float64Array, o: number, s: number, lay: Layout, w: Uint8Array, bits: number, maxPackets: number): number {
  const total = Math.min(bits, Math.floor(maxPackets / lay.block));
  let n = 0;
  let matches = 0;
  for (let b = 0; b < total; b++) {
    if (b * lay.block - o < 0) continue;
    if ((b + 1) * lay.block - o > y.length) break;
    n++;
    if (bitAt(y, b, s, lay, o) === w[b]) matches++;
  }
  return n === 0 ? 0 : 0 - binomialTailLog10(n, matches);
}

export default defineDetector({
  name: 'wm',
  description: 'active IPD watermark: quantised averages of keystroke IPDs, decoded from the outgoing connection',
  citation:
    'X. Wang, D. S. Reeves. Robust correlation of encrypted attack traffic through stepping stones by flow watermarking. IEEE TDSC 8(3), 2011. Conference version: Robust correlation of encrypted attack traffic through stepping stones by manipulation of interpacket delays, ACM CCS 2003.',
  params,
  mark(keystrokes, p) {
    const lay = layout(p.key, p.m, p.spread, p.bits);
    const usable = usableBits(keystrokes.length, lay, p.bits, p.maxPackets);
    return embed(keystrokes, watermarkBits(p.key, p.bits), p.s, lay, usable);
  },
  score(pairs, p) {
    const lay = layout(p.key, p.m, p.spread, p.bits);
    const w = watermarkBits(p.key, p.bits);
    const out = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) {
      const y = payloadTimes(pairs[k].outgoing, DIR_FWD);
      let best = 0;
      for (let o = -p.maxOffset; o <= p.maxOffset; o++) best = Math.max(best, shiftedScore(y, o, p.s, lay, w, p.bits, p.maxPackets));
      out[k] = best;
    }
    return out;
  },
});
