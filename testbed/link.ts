/**
 * What one direction of an emulated link does to a frame: the loss draw, the tail-drop
 * queue, serialisation at the link rate, and delay plus jitter, FIFO unless reordering is
 * allowed. Pure bookkeeping on a clock the caller passes in (ms), so link-emulator.ts
 * only has to send each frame at the due time this returns.
 */
import { type Rng, normal } from '../src/rng.js';

export interface LinkParams {
  delayMs: number;
  jitterMs: number;
  loss: number;
  rateMbps: number;
  queueKB: number;
  reorder: boolean;
}

export interface AdmitStats {
  framesIn: number;
  bytesIn: number;
  lost: number;
  queueDrops: number;
}

export class LinkDirection {
  readonly stats: AdmitStats = { framesIn: 0, bytesIn: 0, lost: 0, queueDrops: 0 };
  /** When the serialiser has sent everything admitted so far (ms). */
  private txFree = 0;
  private lastDue = 0;
  private readonly bytesPerMs: number;
  private readonly queueBytes: number;

  constructor(private readonly p: LinkParams, private readonly rng: Rng) {
    this.bytesPerMs = (p.rateMbps * 1e6) / 8 / 1000;
    this.queueBytes = p.queueKB * 1024;
  }

  /**
   * The time (ms) a frame of `bytes` arriving at `now` leaves the far end, or null when
   * it is lost or finds the queue full. Loss is drawn first (one draw per frame when
   * loss > 0), as netem drops before queueing; then the jitter draw (two uniforms, one
   * normal) when jitter > 0.
   */
  admit(bytes: number, now: number): number | null {
    const s = this.stats;
    s.framesIn++;
    s.bytesIn += bytes;
    if (this.p.loss > 0 && this.rng.next() < this.p.loss) {
      s.lost++;
      return null;
    }
    // Bytes still waiting for the serialiser, the frame being sent included.
    const backlog = Math.max(0, this.txFree - now) * this.bytesPerMs;
    if (backlog + bytes > this.queueBytes) {
      s.queueDrops++;
      return null;
    }
    const departed = Math.max(now, this.txFree) + bytes / this.bytesPerMs;
    this.txFree = departed;
    const jitter = this.p.jitterMs > 0 ? normal(this.rng, 0, this.p.jitterMs) : 0;
    let due = departed + Math.max(0, this.p.delayMs + jitter);
    if (!this.p.reorder) {
      if (due < this.lastDue) due = this.lastDue;
      this.lastDue = due;
    }
    return due;
  }

  resetStats(): void {
    this.stats.framesIn = 0;
    this.stats.bytesIn = 0;
    this.stats.lost = 0;
    this.stats.queueDrops = 0;
  }
}
