/**
 * Property-based tests: random and mutated inputs to the config validator, the JSON
 * reader and the model-manifest loader. Each must give a result or a UserError whose
 * every line names the file, never another exception and never a hang.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveConfig } from '../src/config.js';
import { UserError } from '../src/errors.js';
import { layoutFor } from '../src/features.js';
import { readManifest } from '../src/onnx-detector.js';

const dir = mkdtempSync(join(tmpdir(), 'ssbench-fuzz-'));
const RUNS = { numRuns: 150, seed: 20201114 };

const valid = {
  name: 'fuzz',
  seed: 3,
  fpr: [0.01],
  datasets: [{ name: 'ssh', source: 'synthetic-ssh', positives: 5, negatives: 5, params: { duration: 30 } }],
  scenarios: [
    { name: 'chaff', perturbations: [{ name: 'chaff', params: { ratio: [0, 0.5] } }] },
    { name: 'paper', preset: 'paper-delay' },
  ],
  detectors: [{ name: 'blum-count' }, { name: 'wang-ipd', params: { window: 10 } }],
};

/** Every line of the error names the file, and there is no stack in the message. */
function expectCleanRefusal(e: unknown, file: string): void {
  if (!(e instanceof UserError)) throw e;
  for (const line of e.message.split('\n')) expect(line.startsWith(`${file}: `)).toBe(true);
  expect(e.message).not.toMatch(/\n\s+at /);
}

type Json = unknown;
type Path = (string | number)[];

/** Every path to a value inside a JSON document. */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

/** A copy of `doc` with the value at `path` replaced (undefined deletes it). */
function setAt(doc: Json, path: Path, value: Json): Json {
  if (!path.length) return value;
  const [head, ...rest] = path;
  if (Array.isArray(doc)) {
    const copy = doc.slice();
    if (value === undefined && !rest.length) copy.splice(head as number, 1);
    else copy[head as number] = setAt(copy[head as number], rest, value);
    return copy;
  }
  const copy = { ...(doc as Record<string, Json>) };
  if (value === undefined && !rest.length) delete copy[head as string];
  else copy[head as string] = setAt(copy[head as string], rest, value);
  return copy;
}

const allPaths = paths(valid);
const mutation = fc.record({
  path: fc.constantFrom(...allPaths),
  value: fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 }), fc.string(), fc.double(), fc.integer({ min: -5, max: 1e9 })),
});

describe('config validator under random input', () => {
  it('refuses arbitrary JSON cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (raw) => {
        try {
          await resolveConfig(raw, 'cfg.json');
        } catch (e) {
          expectCleanRefusal(e, 'cfg.json');
        }
      }),
      RUNS,
    );
  });

  it('accepts or cleanly refuses a valid config with one or two values changed or deleted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 2 }), async (ms) => {
        let doc: Json = valid;
        for (const m of ms) doc = setAt(doc, m.path, m.value);
        try {
          const c = await resolveConfig(doc, join(dir, 'cfg.json'));
          // What is accepted is usable: every dataset has pairs and every scenario a setting.
          expect(c.datasets.every((d) => d.positives > 0 && d.negatives > 0)).toBe(true);
        } catch (e) {
          expectCleanRefusal(e, join(dir, 'cfg.json'));
        }
      }),
      RUNS,
    );
  });

  it('refuses a truncated or corrupted config file with the line and column', async () => {
    const text = JSON.stringify(valid, null, 2);
    const file = join(dir, 'broken.json');
    await fc.assert(
      fc.asyncProperty(fc.nat(text.length - 1), fc.string({ maxLength: 3 }), async (cut, junk) => {
        writeFileSync(file, text.slice(0, cut) + junk);
        try {
          await loadConfig(file);
        } catch (e) {
          expectCleanRefusal(e, file);
          if (/invalid JSON/.test((e as Error).message)) expect((e as Error).message).toMatch(/line \d+, column \d+: invalid JSON/);
        }
      }),
      RUNS,
    );
  });
});

describe('model manifest loader under random input', () => {
  const manifest = {
    kind: 'onnx-detector',
    name: 'm',
    model: 'model.onnx',
    input: 'flows',
    output: 'logit',
    layout: { name: 'deepcorr', version: 1, params: { length: 100 } },
    batchSize: 64,
  };
  const file = join(dir, 'manifest.json');
  const manifestPaths = paths(manifest);

  it('reads a mutated manifest and its layout, or refuses it naming the file', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...manifestPaths),
        fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 }), fc.integer({ min: -10, max: 100_000 })),
        (path, value) => {
          writeFileSync(file, JSON.stringify(setAt(manifest, path, value) ?? null));
          try {
            const m = readManifest(file);
            const layout = layoutFor(m.layout, file);
            expect(layout.rows * layout.columns).toBeGreaterThan(0);
          } catch (e) {
            expectCleanRefusal(e, file);
          }
        },
      ),
      RUNS,
    );
  });

  it('refuses random bytes as a manifest', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        writeFileSync(file, bytes);
        try {
          readManifest(file);
        } catch (e) {
          expectCleanRefusal(e, file);
        }
      }),
      RUNS,
    );
  });
});
