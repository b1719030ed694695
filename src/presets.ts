/**
 * Named scenarios: common perturbation combinations a config can name instead of
 * spelling them out (`{ "name": "chaff", "preset": "paper-chaff" }`).
 */
export interface PresetStep {
  name: string;
  params: Record<string, unknown>;
  pairs?: 'relayed' | 'all';
}

export interface Preset {
  description: string;
  perturbations: PresetStep[];
}

export const PRESETS: Record<string, Preset> = {
  'paper-chaff': {
    description:
      'Clausen, Gibson & Aspinall 2020: chaff sent at intervals uniform on [g/2, g] on both connections of the monitored host, independently; chaff-to-real ratios 0 to 500%',
    perturbations: [{ name: 'chaff', params: { ratio: [0, 0.1, 0.3, 0.5, 1, 2, 3, 5], arrival: 'uniform', hop: 'both', direction: 'forward' } }],
  },
  'paper-delay': {
    description: 'Clausen, Gibson & Aspinall 2020: uniform delay on [0, δD] on the packets the last stepping stone sends, δD from 0 to 1.5 s',
    perturbations: [{ name: 'delay', params: { max: [0, 0.05, 0.1, 0.3, 0.5, 1, 1.5], direction: 'both' } }],
  },
  'sparse-delay': {
    description: 'a fifth of the forwarded packets held for U(0, Δ), the timing perturbation of recent deep-learning evaluations; Δ from 0 to 2 s',
    perturbations: [{ name: 'delay', params: { max: [0, 0.25, 0.5, 1, 2], probability: 0.2 } }],
  },
  'chaff-arrivals': {
    description: 'the same amount of chaff (ratio 1) in each arrival pattern',
    perturbations: [{ name: 'chaff', params: { ratio: 1, arrival: ['poisson', 'uniform', 'bursty', 'mimic'] } }],
  },
  'lossy-path': {
    description: 'loss with retransmissions on both connections, for every pair (a bad network, not an attacker)',
    perturbations: [{ name: 'loss', params: { rate: [0, 0.01, 0.02, 0.05, 0.1] }, pairs: 'all' }],
  },
  nagle: {
    description: 'the relay coalesces keystrokes that arrive within a window before forwarding them',
    perturbations: [{ name: 'repacketize', params: { mergeWindow: [0, 0.05, 0.1, 0.2, 0.5] } }],
  },
};
