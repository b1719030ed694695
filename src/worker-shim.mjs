// Lets a pool started from TypeScript sources (tests, tsx) load the TypeScript worker:
// Node 20 does not pass tsx's loader on to worker threads by itself.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./worker.ts');
export default mod.default;
