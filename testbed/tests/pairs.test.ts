import { describe, expect, it } from 'vitest';
import { connKey, overlappingPairs, pairKey, parseTcpdump } from '../pairs.js';

// S has 10.0.1.1 (towards a client) and 10.0.3.1 (towards a server).
const STONE = new Set(['10.0.1.1', '10.0.3.1']);
const LISTING = [
  // incoming A: 10.0.1.2:40000 -> S, packets at 100, 100.01, 105, 110 (two with payload)
  '100.000000 IP 10.0.1.2.40000 > 10.0.1.1.22: Flags [S], seq 1, win 64240, length 0',
  '100.010000 IP 10.0.1.1.22 > 10.0.1.2.40000: Flags [S.], seq 1, ack 2, win 65160, length 0',
  '105.000000 IP 10.0.1.2.40000 > 10.0.1.1.22: Flags [P.], seq 1:37, ack 1, win 502, length 36',
  '110.000000 IP 10.0.1.1.22 > 10.0.1.2.40000: Flags [P.], seq 1:37, ack 37, win 509, length 36',
  // outgoing B: S -> 10.0.3.2, 101 to 109
  '101.000000 IP 10.0.3.1.50000 > 10.0.3.2.22: Flags [P.], seq 1:37, ack 1, win 502, length 36',
  '109.000000 IP 10.0.3.2.22 > 10.0.3.1.50000: Flags [.], ack 37, win 509, length 0',
  // outgoing C: 110 to 112; it only touches A at the instant 110
  '110.000000 IP 10.0.3.1.50001 > 10.0.3.2.22: Flags [S], seq 1, win 64240, length 0',
  '112.000000 IP 10.0.3.2.22 > 10.0.3.1.50001: Flags [P.], seq 1:53, ack 2, win 509, length 52',
  // incoming D: 111 to 130, overlaps C for 1 s
  '111.000000 IP 10.0.1.5.41000 > 10.0.1.1.22: Flags [S], seq 1, win 64240, length 0',
  '130.000000 IP 10.0.1.1.22 > 10.0.1.5.41000: Flags [F.], seq 9, ack 2, win 509, length 0',
  // skipped: not SSH, not at S, not IPv4 TCP
  '120.000000 IP 10.0.9.1.1234 > 10.0.9.2.80: Flags [P.], seq 1:11, ack 1, win 502, length 10',
  '120.000000 IP 10.0.7.7.40000 > 10.0.8.8.22: Flags [P.], seq 1:11, ack 1, win 502, length 10',
  '121.000000 ARP, Request who-has 10.0.1.1 tell 10.0.1.2, length 28',
  '',
].join('\n');

describe('parseTcpdump', () => {
  it('groups packets into connections at S with their direction, span and counts', () => {
    const conns = parseTcpdump(LISTING, STONE);
    expect([...conns.keys()].sort()).toEqual(
      [
        connKey('10.0.1.2', 40000, '10.0.1.1', 22),
        connKey('10.0.1.5', 41000, '10.0.1.1', 22),
        connKey('10.0.3.1', 50000, '10.0.3.2', 22),
        connKey('10.0.3.1', 50001, '10.0.3.2', 22),
      ].sort(),
    );
    const a = conns.get(connKey('10.0.1.2', 40000, '10.0.1.1', 22))!;
    expect(a).toMatchObject({ dir: 'in', first: 100, last: 110, packets: 4, payloadPackets: 2 });
    const b = conns.get(connKey('10.0.3.1', 50000, '10.0.3.2', 22))!;
    expect(b).toMatchObject({ dir: 'out', first: 101, last: 109, packets: 2, payloadPackets: 1 });
  });
});

describe('overlappingPairs', () => {
  it('pairs incoming and outgoing connections that overlap for a positive time', () => {
    const conns = parseTcpdump(LISTING, STONE);
    const key = (p: [{ clientPort: number }, { clientPort: number }]) => `${p[0].clientPort}-${p[1].clientPort}`;
    // A (100–110) with B (101–109): yes; A with C (110–112): only an instant, no;
    // D (111–130) with B: no; D with C: 111–112, yes. Ordered by the incoming's start.
    expect(overlappingPairs(conns, new Set()).map(key)).toEqual(['40000-50000', '41000-50001']);
    const ab = overlappingPairs(conns, new Set())[0];
    expect(overlappingPairs(conns, new Set([pairKey(ab[0], ab[1])])).map(key)).toEqual(['41000-50001']);
  });
});
