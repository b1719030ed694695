/**
 * Finds and loads plugins: detectors/<name>/ and perturbations/<name>/ beside the
 * harness, a module path (relative to the config file), or an installed package.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError } from './errors.js';
import { ownPackage } from './fsutil.js';
import { checkModel, onnxDetector } from './onnx-detector.js';
import type { AnyDetector, AnyPerturbation } from './plugin.js';
import type { AnySource } from './source.js';

export type PluginKind = 'detector' | 'perturbation' | 'source';

const here = dirname(fileURLToPath(import.meta.url));
/** Compiled code runs from dist/src and finds dist/detectors; sources under test find the .ts files. */
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

const folders: Record<PluginKind, string> = {
  detector: resolve(here, '..', 'detectors'),
  perturbation: resolve(here, '..', 'perturbations'),
  source: resolve(here, 'sources'),
};

/** Names of the plugins shipped with ssbench, sorted. */
export function builtinNames(kind: PluginKind): string[] {
  const dir = folders[kind];
  if (kind === 'source') {
    return readdirSync(dir)
      .filter((f) => f.endsWith(ext))
      .map((f) => f.slice(0, -ext.length))
      .sort();
  }
  const names = new Set<string>();
  for (const root of kind === 'detector' ? [dir, manifestFolder] : [dir]) {
    if (!existsSync(root)) continue;
    for (const d of readdirSync(root, { withFileTypes: true })) {
      if (d.isDirectory() && pluginEntry(kind, join(dir, d.name))) names.add(d.name);
    }
  }
  return [...names].sort();
}

/**
 * Model detectors have no code: their folder in the source tree holds manifest.json and
 * the model, which compiled code finds there too (the compiler copies only code).
 */
const manifestFolder = join(ownPackage().root, 'detectors');

/**
 * The file that defines a plugin in a folder: its index module, or for a detector a
 * model manifest (manifest.json) when the folder has no code.
 */
function pluginEntry(kind: PluginKind, folder: string): string | undefined {
  const code = ['index.js', 'index.mjs', 'index.ts'].map((f) => join(folder, f)).find(existsSync);
  if (code || kind !== 'detector') return code;
  return [join(folder, 'manifest.json'), join(manifestFolder, basename(folder), 'manifest.json')].find(existsSync);
}

function looksLikePath(ref: string): boolean {
  return ref.startsWith('.') || ref.startsWith('/') || /\.(m?[jt]s|json)$/.test(ref) || isAbsolute(ref);
}

/**
 * Turns a plugin reference from a config into an absolute module path or file URL that
 * any worker can import. Throws a UserError naming the choices when nothing matches.
 */
export function resolvePlugin(kind: PluginKind, ref: string, baseDir: string): string {
  const builtin = builtinNames(kind);
  if (builtin.includes(ref)) {
    return kind === 'source' ? join(folders[kind], `${ref}${ext}`) : (pluginEntry(kind, join(folders[kind], ref)) as string);
  }
  if (looksLikePath(ref)) {
    const abs = resolve(baseDir, ref);
    if (existsSync(abs)) return statSync(abs).isDirectory() ? (pluginEntry(kind, abs) ?? abs) : abs;
    throw new UserError(`no ${kind} module at ${abs}`);
  }
  try {
    return createRequire(join(baseDir, 'noop.js')).resolve(ref);
  } catch {
    // fall through to the error that lists what exists
  }
  throw new UserError(
    `unknown ${kind} ${JSON.stringify(ref)}; expected one of ${builtin.join(', ')}, a module path, or an installed package`,
  );
}

let tsLoader: Promise<void> | undefined;
/** Compiled ssbench can still load a user's .ts plugin: tsx's loader is registered on demand. */
async function ensureTsLoader(): Promise<void> {
  if (ext === '.ts') return;
  // A .ts file outside an ES-module package loads as CommonJS: both hooks are needed.
  tsLoader ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return tsLoader;
}

const cache = new Map<string, Promise<unknown>>();

function checkShape(kind: PluginKind, mod: string, v: unknown): void {
  const o = v as Record<string, unknown> | undefined;
  const fn = kind === 'detector' ? 'score' : kind === 'perturbation' ? 'apply' : 'pair';
  const problems: string[] = [];
  if (!o || typeof o !== 'object') problems.push('no default export');
  else {
    if (o.kind !== kind) problems.push(`default export is not a ${kind} (use define${kind[0].toUpperCase()}${kind.slice(1)})`);
    if (typeof o.name !== 'string' || !o.name) problems.push('"name" must be a non-empty string');
    if (typeof o.params !== 'object' || o.params === null) problems.push('"params" must be an object');
    if (typeof o[fn] !== 'function') problems.push(`"${fn}" must be a function`);
  }
  if (problems.length) throw new UserError(`${mod}: not a valid ${kind} plugin: ${problems.join('; ')}`);
}

export async function loadPlugin(kind: 'detector', modulePath: string): Promise<AnyDetector>;
export async function loadPlugin(kind: 'perturbation', modulePath: string): Promise<AnyPerturbation>;
export async function loadPlugin(kind: 'source', modulePath: string): Promise<AnySource>;
export async function loadPlugin(kind: PluginKind, modulePath: string): Promise<unknown> {
  let p = cache.get(modulePath);
  if (!p) {
    p = (async () => {
      if (kind === 'detector' && modulePath.endsWith('.json')) {
        await checkModel(modulePath);
        return onnxDetector(modulePath);
      }
      if (/\.[mc]?ts$/.test(modulePath)) await ensureTsLoader();
      let mod: { default?: unknown };
      try {
        mod = await import(isAbsolute(modulePath) ? pathToFileURL(modulePath).href : modulePath);
      } catch (e) {
        throw new UserError(`${modulePath}: cannot load ${kind} plugin: ${(e as Error).message.split('\n')[0]}`);
      }
      // Loaded as CommonJS, an ES default export arrives one level down.
      const value = (mod.default as { kind?: unknown; default?: unknown } | undefined)?.kind
        ? mod.default
        : ((mod.default as { default?: unknown } | undefined)?.default ?? mod.default);
      checkShape(kind, modulePath, value);
      return value;
    })();
    cache.set(modulePath, p);
  }
  return p;
}
