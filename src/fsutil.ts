import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Writes a file under a temporary name and renames it, so no reader sees half a file. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomicParts(path, [data]);
}

/** writeFileAtomic for content produced piece by piece, so it never sits in memory whole. */
export function writeFileAtomicParts(path: string, parts: Iterable<string | Uint8Array>): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (const part of parts) {
      if (typeof part === 'string') writeSync(fd, part);
      else writeSync(fd, part);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** ssbench's own package.json, found by walking up from this module (works from src/ and dist/src/). */
export function ownPackage(): { version: string; root: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'ssbench') return { version: pkg.version, root: dir };
    }
    const up = dirname(dir);
    if (up === dir) return { version: 'unknown', root: process.cwd() };
    dir = up;
  }
}
