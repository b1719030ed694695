/** A growable list of doubles, appended to without an allocation per value. */
export class Float64List {
  private buf: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.buf = new Float64Array(Math.max(1, capacity));
  }

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  /** The values so far, copied out. */
  values(): Float64Array {
    return this.buf.slice(0, this.length);
  }
}
