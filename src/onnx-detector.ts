/**
 * Detectors that are ONNX models: a manifest (JSON) names the model file, its input and
 * output, the feature layout and the batch size, and is all a user writes. The model must
 * take float32 [batch, 8, columns] and give one logit (or score) per pair; higher means
 * "more likely relayed".
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { UserError, jsonPath } from './errors.js';
import { type Layout, extract, layoutFor } from './features.js';
import { readJson } from './json.js';
import { type AnyDetector, type ScoreContext, defineDetector } from './plugin.js';

const manifestSchema = z.strictObject({
  $schema: z.string().optional(),
  kind: z.literal('onnx-detector'),
  name: z.string().min(1),
  description: z.string().default('ONNX model'),
  citation: z.string().optional(),
  model: z.string().min(1),
  input: z.string().min(1),
  output: z.string().min(1),
  layout: z.strictObject({ name: z.string(), version: z.number().int(), params: z.record(z.string(), z.number()) }),
  batchSize: z.number().int().min(1).max(65536).default(256),
  training: z.unknown().optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

export function readManifest(path: string): Manifest {
  const r = manifestSchema.safeParse(readJson(path, 'the model manifest'));
  if (!r.success) {
    throw new UserError(r.error.issues.map((i) => `${path}: ${jsonPath(i.path)}: ${i.message}`).join('\n'));
  }
  return r.data;
}

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;
let ortModule: Promise<Ort> | undefined;
// onnxruntime is loaded only by runs that have a model in them.
const ort = () => (ortModule ??= import('onnxruntime-node'));

/** One session per model and thread count, created once per worker thread. */
const sessions = new Map<string, Promise<Session>>();
function session(modelPath: string, threads: number): Promise<Session> {
  const key = `${modelPath}\u0000${threads}`;
  let s = sessions.get(key);
  if (!s) {
    s = ort().then((o) =>
      o.InferenceSession.create(modelPath, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        // Spinning threads would compete with the other workers for the cores.
        ...(threads > 1 ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
      }),
    );
    sessions.set(key, s);
  }
  return s;
}

/**
 * Checks that the model accepts what its manifest declares, before any work starts:
 * the input and output names, float32, and a shape of [batch, 8, columns].
 */
export async function checkModel(manifestPath: string): Promise<void> {
  const m = readManifest(manifestPath);
  const layout = layoutFor(m.layout, manifestPath);
  const modelPath = resolve(dirname(manifestPath), m.model);
  let s: Session;
  try {
    s = await session(modelPath, 1);
  } catch (e) {
    throw new UserError(`${manifestPath}: model: cannot load ${modelPath}: ${(e as Error).message.split('\n')[0]}`);
  }
  const input = s.inputMetadata.find((v) => v.name === m.input);
  if (!input) throw new UserError(`${manifestPath}: input: the model has no input ${JSON.stringify(m.input)}; it has ${s.inputNames.join(', ')}`);
  if (!s.outputNames.includes(m.output)) {
    throw new UserError(`${manifestPath}: output: the model has no output ${JSON.stringify(m.output)}; it has ${s.outputNames.join(', ')}`);
  }
  const want = [layout.rows, layout.columns];
  if (input.isTensor) {
    const shape = input.shape;
    const fixed = shape.slice(1).map((d) => (typeof d === 'number' ? d : NaN));
    if (input.type !== 'float32' || shape.length !== 3 || fixed.some((d, i) => !Number.isNaN(d) && d !== want[i])) {
      throw new UserError(
        `${manifestPath}: layout: the model's input ${m.input} is ${input.type} [${shape.join(', ')}], but layout ${m.layout.name} v${m.layout.version} gives float32 [batch, ${want.join(', ')}]`,
      );
    }
  }
}

/** The detector a manifest describes. */
export function onnxDetector(manifestPath: string): AnyDetector {
  const m = readManifest(manifestPath);
  const layout: Layout = layoutFor(m.layout, manifestPath);
  const modelPath = resolve(dirname(manifestPath), m.model);
  return defineDetector({
    name: m.name,
    description: m.description,
    citation: m.citation,
    params: {
      batchSize: { type: 'integer', default: m.batchSize, min: 1, max: 65536, description: 'pairs per inference call' },
    },
    async score(pairs, p, ctx?: ScoreContext) {
      const s = await session(modelPath, ctx?.threads ?? 1);
      const o = await ort();
      const out = new Float64Array(pairs.length);
      const batch = Number(p.batchSize);
      for (let start = 0; start < pairs.length; start += batch) {
        const part = pairs.slice(start, start + batch);
        const x = new o.Tensor('float32', extract(layout, part), [part.length, layout.rows, layout.columns]);
        const y = (await s.run({ [m.input]: x }))[m.output];
        const v = y.data as Float32Array;
        if (v.length !== part.length) throw new Error(`model gave ${v.length} outputs for ${part.length} pairs`);
        for (let i = 0; i < part.length; i++) out[start + i] = v[i];
      }
      return out;
    },
  }) as unknown as AnyDetector;
}
