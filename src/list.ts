/** `ssbench list`: every plugin with its parameters, defaults and meaning. */
import { describeType, type ParamSpecs } from './params.js';
import { PRESETS } from './presets.js';
import { type PluginKind, builtinNames, loadPlugin, resolvePlugin } from './registry.js';

function paramLines(specs: ParamSpecs): string[] {
  const entries = Object.entries(specs);
  if (!entries.length) return ['    (no parameters)'];
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, s]) => {
    const unit = 'unit' in s && s.unit ? ` ${s.unit}` : '';
    return `    ${k.padEnd(width)}  default ${JSON.stringify(s.default)}${unit}; ${describeType(s)}. ${s.description}`;
  });
}

export async function listPlugins(): Promise<string> {
  const out: string[] = [];
  const kinds: [PluginKind, string][] = [
    ['detector', 'Detectors'],
    ['perturbation', 'Perturbations'],
    ['source', 'Sources'],
  ];
  for (const [kind, title] of kinds) {
    out.push(`${title}:`);
    for (const name of builtinNames(kind)) {
      let loaded: unknown;
      try {
        loaded = await loadPlugin(kind as 'detector', resolvePlugin(kind, name, process.cwd()));
      } catch (e) {
        // One broken plugin (a model file missing, say) must not hide the others.
        out.push(`  ${name}: cannot be loaded: ${(e as Error).message}`);
        continue;
      }
      const def = loaded as {
        description: string;
        citation?: string;
        params: ParamSpecs;
        touches?: string;
        mark?: unknown;
      };
      const note = def.touches ? ` (touches ${def.touches})` : def.mark ? ' (active: marks the incoming connection upstream of S)' : '';
      out.push(`  ${name}: ${def.description}${note}`);
      if (def.citation) out.push(`    ${def.citation}`);
      out.push(...paramLines(def.params));
    }
    out.push('');
  }
  out.push('Scenario presets (a config scenario may say "preset": NAME):');
  for (const [name, p] of Object.entries(PRESETS)) {
    out.push(`  ${name}: ${p.description}`);
    for (const s of p.perturbations) out.push(`    ${s.name} ${JSON.stringify(s.params)}${s.pairs ? ` on ${s.pairs} pairs` : ''}`);
  }
  out.push('');
  return out.join('\n');
}
