/**
 * Progress on stderr: a bar on a terminal, plain lines (every 10%) when stderr is a file
 * or a pipe, so that logs stay readable.
 */
import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(done: number, total: number): void;
  stop(): void;
}

export function progressReporter(label: string, unit = 'chunks', stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const start = Date.now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted} elapsed, ETA {eta_formatted}`, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, done);
          started = true;
        } else bar.update(done);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastDecile = -1;
  return {
    update(done, total) {
      const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      const secs = ((Date.now() - start) / 1000).toFixed(1);
      stream.write(`${label}: ${done}/${total} ${unit} (${Math.round((done / Math.max(1, total)) * 100)}%), ${secs} s\n`);
    },
    stop() {},
  };
}
