/** Capture readers: pcap, pcapng and tshark CSV into TCP connections, and labelled pairs. */
export { canonicalAddress, endpoint, formatAddress, parseAddress, type Family } from './address.js';
export {
  ConnectionTable,
  PacketSlot,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  connectionToFlow,
  describeConnection,
  type ConnectionCounts,
  type FlowOptions,
  type RoleEvidence,
  type TcpConnection,
} from './connections.js';
export { TSHARK_FIELDS } from './csv.js';
export { SUPPORTED_LINK_TYPES, type CaptureStats } from './decode.js';
export { CaptureError } from './errors.js';
export type { CaptureInput } from './input.js';
export {
  LABEL_COLUMNS,
  hostPairs,
  pairsFromLabels,
  readLabels,
  type LabelRow,
  type LabelledConnection,
  type Labels,
  type PairOptions,
} from './labels.js';
export { MAX_RECORD, timestampSeconds } from './pcap.js';
export { readCapture, type CaptureFormat, type CaptureResult, type ReadOptions } from './read.js';
