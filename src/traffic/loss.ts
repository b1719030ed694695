/**
 * TCP loss and recovery by retransmission timeout, shared by the models that lose
 * packets: which transmissions of a packet are lost, and when the sender tries again.
 *
 * Each transmission is lost independently with probability `rate`. Transmissions lost
 * form a Bernoulli sequence, so the number of transmissions until the next loss is
 * geometric: drawing that gap costs one draw per loss instead of one per transmission,
 * which keeps a lossless stretch of a flow free of random draws.
 */
import type { Rng } from '../rng.js';

/** Linux's floor on the retransmission timeout (tcp_rto_min); RFC 6298 allows 1 s. */
export const RTO_MIN = 0.2;
/** Retransmissions before a model stops losing a packet (its last try gets through). */
export const MAX_RETRIES = 6;

export class LossProcess {
  private readonly logKeep: number;
  private untilLoss: number;

  /** With `rate` 0 the process never draws and never loses. */
  constructor(
    private readonly rng: Rng,
    readonly rate: number,
    readonly maxRetries = MAX_RETRIES,
  ) {
    this.logKeep = Math.log1p(-rate);
    this.untilLoss = rate > 0 ? this.gap() : Infinity;
  }

  private gap(): number {
    return Math.floor(Math.log(1 - this.rng.next()) / this.logKeep);
  }

  /**
   * How many transmissions of the next packet are lost before one gets through
   * (0 … maxRetries). Consumes the transmissions it counts, in order.
   */
  next(): number {
    let lost = 0;
    while (lost < this.maxRetries && this.untilLoss-- === 0) {
      this.untilLoss = this.gap();
      lost++;
    }
    return lost;
  }
}

/**
 * Time from a packet's first transmission to the one that gets through after `lost`
 * losses, with a timeout `rto` that doubles per retry: rto·(2^lost − 1). The j-th
 * retransmission (j ≥ 1) leaves at retransmitDelay(j, rto) after the first.
 */
export function retransmitDelay(lost: number, rto: number): number {
  return lost === 0 ? 0 : rto * ((1 << lost) - 1);
}

/**
 * The retransmission timeout a sender uses on a path of round-trip time `rtt`: Linux
 * sets it to SRTT + max(4·RTTVAR, tcp_rto_min); on a steady path that is RTT + 200 ms.
 */
export function rtoFor(rtt: number): number {
  return rtt + RTO_MIN;
}
