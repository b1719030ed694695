import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveConfig } from '../src/config.js';
import { expandScenario, makePlan } from '../src/plan.js';
import { refusal, root } from './helpers.js';

const base = () => ({
  seed: 1,
  datasets: [{ name: 'ssh', positives: 10, negatives: 20 }],
  scenarios: [{ name: 'chaff', perturbations: [{ name: 'chaff', params: { ratio: [0, 1] } }] }],
  detectors: [{ name: 'blum-count' }, { name: 'wang-ipd' }],
});


describe('config validation', () => {
  it('accepts a valid config and fills defaults', async () => {
    const c = await resolveConfig(base(), 'configs/x.json');
    expect(c.name).toBe('x');
    expect(c.fpr).toEqual([0.01, 0.001]);
    expect(c.detectors.map((d) => d.label)).toEqual(['blum-count', 'wang-ipd']);
    expect(c.detectors[1].params).toEqual({ window: 20, maxOffset: 40, cpf: 'mms' });
    expect(c.scenarios[0].perturbations[0].params.ratio).toEqual([0, 1]);
    expect(c.scenarios[0].perturbations[0].pairs).toBe('relayed');
  });

  it('refuses a misspelt detector with one line naming the field and the choices', async () => {
    const raw = base();
    raw.detectors[0].name = 'blum-cuont';
    const msg = await refusal(raw);
    expect(msg.split('\n')).toHaveLength(1);
    // The choices are every detector folder, sorted, then the other ways to name one.
    const names = readdirSync(join(root, 'detectors'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(msg).toBe(`cfg.json: detectors[0].name: unknown detector "blum-cuont"; expected one of ${names.join(', ')}, a module path, or an installed package`);
  });

  it('refuses a chaff ratio of "lots"', async () => {
    const raw = base();
    (raw.scenarios[0].perturbations[0].params as Record<string, unknown>).ratio = 'lots';
    const msg = await refusal(raw);
    expect(msg).toBe(
      'cfg.json: scenarios[0].perturbations[0].params.ratio: expected a number >= 0 (or a list of them to sweep), got "lots"',
    );
  });

  it('names the bad element of a sweep', async () => {
    const raw = base();
    (raw.scenarios[0].perturbations[0].params as Record<string, unknown>).ratio = [0, -1];
    expect(await refusal(raw)).toBe('cfg.json: scenarios[0].perturbations[0].params.ratio[1]: expected a number >= 0, got -1');
  });

  it('refuses sweeps of detector parameters, unknown parameters and unknown keys', async () => {
    const raw = base() as Record<string, unknown> & ReturnType<typeof base>;
    (raw.detectors[1] as Record<string, unknown>).params = { window: [10, 20], windw: 3 };
    raw.sed = 2;
    const lines = (await refusal(raw)).split('\n');
    expect(lines).toContain('cfg.json: (root): Unrecognized key: "sed"');
  });

  it('reports several problems at once, one line each', async () => {
    const raw = base();
    (raw.detectors[1] as Record<string, unknown>).params = { window: [10, 20], windw: 3 };
    const lines = (await refusal(raw)).split('\n');
    expect(lines).toEqual([
      'cfg.json: detectors[1].params.windw: unknown parameter; expected one of window, maxOffset, cpf',
      'cfg.json: detectors[1].params.window: expected an integer >= 2, got [10,20]',
    ]);
  });

  it('refuses duplicate detector labels', async () => {
    const raw = base();
    raw.detectors.push({ name: 'blum-count' });
    expect(await refusal(raw)).toMatch(/detectors\[2\]\.label: duplicate detector label "blum-count"/);
  });

  it('refuses missing and mistyped required fields', async () => {
    const raw = base() as Record<string, unknown>;
    delete raw.seed;
    expect(await refusal(raw)).toMatch(/^cfg\.json: seed: /);
    expect(await refusal({ ...base(), datasets: [{ name: 'ssh', positives: 'many', negatives: 2 }] })).toMatch(
      /^cfg\.json: datasets\[0\]\.positives: /,
    );
  });

  it('points at the line and column of a JSON syntax error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssbench-cfg-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{\n  "seed": 1,\n  "datasets": [}\n');
    await expect(loadConfig(file)).rejects.toThrow(`${file}: line 3, column 16: invalid JSON: ValueExpected`);
    await expect(loadConfig(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: cannot read the config: ENOENT/);
  });
});

describe('plan', () => {
  it('expands sweeps of one perturbation into one setting per value', async () => {
    const c = await resolveConfig(base(), 'x.json');
    const settings = expandScenario(c.scenarios[0]);
    expect(settings.map((s) => s.label)).toEqual(['ratio=0', 'ratio=1']);
    // Every parameter of the step, swept or not, keyed "<perturbation>.<param>".
    expect(settings[1].values).toEqual({
      'chaff.ratio': 1,
      'chaff.rate': 0,
      'chaff.arrival': 'poisson',
      'chaff.burstOn': 1,
      'chaff.burstOff': 4,
      'chaff.sizes': 'flow',
      'chaff.size': 36,
      'chaff.sizeMin': 36,
      'chaff.sizeMax': 1448,
      'chaff.hop': 'incoming',
      'chaff.direction': 'forward',
    });
  });

  it('takes the grid of several swept parameters, in config order', async () => {
    const raw = base();
    raw.scenarios[0].perturbations.push({ name: 'delay', params: { max: [0, 0.5] } } as never);
    const c = await resolveConfig(raw, 'x.json');
    expect(expandScenario(c.scenarios[0]).map((s) => s.label)).toEqual([
      'chaff.ratio=0, delay.max=0',
      'chaff.ratio=0, delay.max=0.5',
      'chaff.ratio=1, delay.max=0',
      'chaff.ratio=1, delay.max=0.5',
    ]);
  });

  it('chunks every setting of every dataset by pair index', async () => {
    const raw = { ...base(), chunkSize: 8 };
    const plan = makePlan(await resolveConfig(raw, 'x.json'));
    expect(plan.groups).toHaveLength(2);
    // 30 pairs in chunks of 8: 0-8, 8-16, 16-24, 24-30, for each of the 2 settings.
    expect(plan.tasks.map((t) => [t.group, t.start, t.end])).toEqual([
      [0, 0, 8], [0, 8, 16], [0, 16, 24], [0, 24, 30],
      [1, 0, 8], [1, 8, 16], [1, 16, 24], [1, 24, 30],
    ]);
  });

  it('gives a scenario-less config one unperturbed setting', async () => {
    const { scenarios: _s, ...raw } = base();
    const c = await resolveConfig(raw, 'x.json');
    expect(expandScenario(c.scenarios[0]).map((s) => [s.scenario, s.label])).toEqual([['unperturbed', 'none']]);
  });

  it('sweeps source parameters in a scenario, on the datasets it names only', async () => {
    const raw = {
      ...base(),
      datasets: [
        { name: 'near', positives: 2, negatives: 2, params: { rttUpMedian: 0.01 } },
        { name: 'far', positives: 2, negatives: 2 },
      ],
      scenarios: [
        { name: 'plain', perturbations: [] },
        { name: 'down-rtt', datasets: ['near'], source: { rttDownMedian: [0.05, 0.4] } },
      ],
    };
    const plan = makePlan(await resolveConfig(raw, 'x.json'));
    // near: plain + 2 sweep levels; far: plain only (the sweep is restricted to near).
    expect(plan.groups.map((g) => [g.dataset.name, g.setting.scenario, g.setting.label])).toEqual([
      ['near', 'plain', 'none'],
      ['near', 'down-rtt', 'rttDownMedian=0.05'],
      ['near', 'down-rtt', 'rttDownMedian=0.4'],
      ['far', 'plain', 'none'],
    ]);
    // The sweep sets its own parameter and keeps what the dataset set.
    expect(plan.groups[2].dataset.params).toMatchObject({ rttUpMedian: 0.01, rttDownMedian: 0.4 });
    expect(plan.groups[0].dataset.params.rttDownMedian).toBe(0.02);
    expect(plan.groups[2].setting.values).toEqual({ 'source.rttDownMedian': 0.4 });
  });

  it('refuses a scenario naming an unknown dataset or source parameter', async () => {
    const raw = { ...base(), scenarios: [{ name: 's', datasets: ['ssh', 'tcp'], source: { rttDown: 1 } }] };
    const lines = (await refusal(raw)).split('\n');
    expect(lines).toContain('cfg.json: scenarios[0].datasets[1]: no dataset named "tcp"; expected one of ssh');
    expect(lines.some((l) => l.startsWith('cfg.json: scenarios[0].source.rttDown: unknown parameter; expected one of duration,'))).toBe(true);
  });

  it('refuses source parameters that contradict each other, in a dataset or a scenario sweep', async () => {
    const inDataset = { ...base(), datasets: [{ name: 'ssh', positives: 2, negatives: 2, params: { chain: 2, monitor: 3 } }] };
    expect(await refusal(inDataset)).toBe('cfg.json: datasets[0].params: synthetic-ssh: monitor 3 is past the end of a chain of 2 stepping stones');
    const inSweep = {
      ...base(),
      datasets: [{ name: 'ssh', positives: 2, negatives: 2, params: { chain: 4, monitor: 2 } }],
      scenarios: [{ name: 'chain', source: { chain: [4, 1] } }],
    };
    expect(await refusal(inSweep)).toBe(
      'cfg.json: scenarios[0].source: on dataset "ssh" at chain=1: synthetic-ssh: monitor 2 is past the end of a chain of 1 stepping stones',
    );
  });

  it('refuses run, dataset and scenario names that could lead a results path outside the output folder', async () => {
    const raw = { ...base(), name: '../escape', datasets: [{ name: 'a/b', positives: 1, negatives: 1 }], scenarios: [{ name: '..', preset: 'nagle' }] };
    const lines = (await refusal(raw)).split('\n');
    expect(lines).toEqual([
      'cfg.json: name: expected a name of letters, digits, ".", "_" or "-"',
      'cfg.json: datasets[0].name: expected a name of letters, digits, ".", "_" or "-"',
      'cfg.json: scenarios[0].name: expected a name of letters, digits, ".", "_" or "-"',
    ]);
  });
});
