/** An error caused by the user's input: printed as one line, without a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    /** The process exit code it calls for: 2 for bad input, 130 for an interrupted run. */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Formats a JSON path like detectors[0].params.ratio. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}
