import { describe, expect, it } from 'vitest';
import { CaptureError, readCapture } from '../src/capture/index.js';
import { CSV_HEADER, bytesOf, columns, ethernet, framesOf, gzip, ipPacket, pcapFile, session, tsharkCsv } from './capture-helpers.js';

const SEC = 1700000000;

/**
 * An IPv4 session (two keystrokes), an ARP frame and a UDP datagram among its first
 * packets, then an IPv6 session whose client ISN is 2^32 - 1 (its sequence numbers wrap).
 */
function mixedCapture(): Uint8Array {
  const sent = [...session('192.0.2.1', 40000, '192.0.2.5', 22, SEC, 2), ...session('2001:db8::1', 50000, '2001:db8::5', 22, SEC + 1, 1, 4294967295, 7)];
  const frames = framesOf(sent);
  frames.splice(3, 0, { sec: SEC, frac: 25000, data: ethernet(new Uint8Array(28), [], 0x0806) });
  frames.splice(5, 0, { sec: SEC, frac: 35000, data: ethernet(ipPacket({ src: '192.0.2.1', dst: '192.0.2.9', sport: 53, dport: 53, flags: 0, proto: 17 })) });
  return pcapFile(frames);
}

/**
 * What TShark 4.0.17 printed for mixedCapture() with
 *   tshark -r in.pcap -T fields -E header=y -E separator=, -E quote=d -e frame.time_epoch
 *     -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e tcp.srcport -e tcp.dstport -e tcp.len
 *     -e tcp.flags -e tcp.seq_raw -e tcp.ack_raw
 * (the ARP frame is the all-empty row, the UDP datagram the row with addresses only).
 */
const TSHARK_OUTPUT = `frame.time_epoch,ip.src,ipv6.src,ip.dst,ipv6.dst,tcp.srcport,tcp.dstport,tcp.len,tcp.flags,tcp.seq_raw,tcp.ack_raw
"1700000000.000000000","192.0.2.1",,"192.0.2.5",,"40000","22","0","0x0002","1000","0"
"1700000000.010000000","192.0.2.5",,"192.0.2.1",,"22","40000","0","0x0012","5000","1001"
"1700000000.020000000","192.0.2.1",,"192.0.2.5",,"40000","22","0","0x0010","1001","5001"
"1700000000.025000000",,,,,,,,,,
"1700000000.030000000","192.0.2.1",,"192.0.2.5",,"40000","22","1","0x0018","1001","5001"
"1700000000.035000000","192.0.2.1",,"192.0.2.9",,,,,,,
"1700000000.040000000","192.0.2.5",,"192.0.2.1",,"22","40000","1","0x0018","5001","1002"
"1700000000.050000000","192.0.2.1",,"192.0.2.5",,"40000","22","0","0x0010","1002","5002"
"1700000000.060000000","192.0.2.1",,"192.0.2.5",,"40000","22","1","0x0018","1002","5002"
"1700000000.070000000","192.0.2.5",,"192.0.2.1",,"22","40000","1","0x0018","5002","1003"
"1700000000.080000000","192.0.2.1",,"192.0.2.5",,"40000","22","0","0x0010","1003","5003"
"1700000000.090000000","192.0.2.1",,"192.0.2.5",,"40000","22","0","0x0011","1003","5003"
"1700000000.100000000","192.0.2.5",,"192.0.2.1",,"22","40000","0","0x0011","5003","1004"
"1700000000.110000000","192.0.2.1",,"192.0.2.5",,"40000","22","0","0x0010","1004","5004"
"1700000001.000000000",,"2001:db8::1",,"2001:db8::5","50000","22","0","0x0002","4294967295","0"
"1700000001.010000000",,"2001:db8::5",,"2001:db8::1","22","50000","0","0x0012","7","0"
"1700000001.020000000",,"2001:db8::1",,"2001:db8::5","50000","22","0","0x0010","0","8"
"1700000001.030000000",,"2001:db8::1",,"2001:db8::5","50000","22","1","0x0018","0","8"
"1700000001.040000000",,"2001:db8::5",,"2001:db8::1","22","50000","1","0x0018","8","1"
"1700000001.050000000",,"2001:db8::1",,"2001:db8::5","50000","22","0","0x0010","1","9"
"1700000001.060000000",,"2001:db8::1",,"2001:db8::5","50000","22","0","0x0011","1","9"
"1700000001.070000000",,"2001:db8::5",,"2001:db8::1","22","50000","0","0x0011","9","2"
"1700000001.080000000",,"2001:db8::1",,"2001:db8::5","50000","22","0","0x0010","2","10"
`;

const csv = (text: string, name = 'trace.csv') => readCapture({ name, bytes: bytesOf(text) });

async function refusal(text: string): Promise<string> {
  try {
    await csv(text);
  } catch (e) {
    expect(e).toBeInstanceOf(CaptureError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('tshark CSV', () => {
  it('gives the same connections as the pcap it was exported from', async () => {
    const fromPcap = await readCapture({ name: 'in.pcap', bytes: mixedCapture() });
    const fromCsv = await csv(TSHARK_OUTPUT);
    expect(fromCsv.format).toBe('tshark-csv');
    expect(fromPcap.connections).toHaveLength(2);
    expect(fromCsv.connections.map(columns)).toEqual(fromPcap.connections.map(columns));
    // 23 rows: 21 TCP, the ARP frame (no IP), the UDP datagram (no TCP); as in the pcap.
    expect(fromCsv.stats).toMatchObject({ records: 23, tcp: 21, nonIp: 1, nonTcp: 1 });
    expect(fromPcap.stats).toMatchObject({ records: 23, tcp: 21, nonIp: 1, nonTcp: 1 });
    // The IPv6 client's SYN has raw seq 2^32 - 1; its data wraps to raw 0, relative 1.
    const v6 = fromCsv.connections[1];
    expect(v6.client).toBe('2001:db8::1');
    expect(Array.from(v6.seq)).toEqual([0, 0, 1, 1, 1, 2, 2, 2, 3]);
  });

  it('reads gzip, a byte-order mark, CRLF lines, reordered and extra columns alike', async () => {
    const reference = (await csv(TSHARK_OUTPUT)).connections.map(columns);
    const gz = await readCapture({ name: 'trace.csv.gz', bytes: gzip(bytesOf(TSHARK_OUTPUT)) }, { chunkSize: 17 });
    expect(gz.connections.map(columns)).toEqual(reference);
    // Columns reversed, plus frame.number in front; BOM and CRLF.
    const lines = TSHARK_OUTPUT.trim().split('\n').map((l, i) => `${i === 0 ? 'frame.number' : String(i)},${l.split(',').reverse().join(',')}`);
    const shuffled = await csv(`\ufeff${lines.join('\r\n')}\r\n`);
    expect(shuffled.connections.map(columns)).toEqual(reference);
  });

  it('skips multi-valued rows (tunnels, ICMP-quoted headers) as not TCP and cut TCP rows as truncated', async () => {
    const text = [
      CSV_HEADER,
      // ICMP error quoting a TCP header: two IPv4 headers, one TCP header.
      '"1700000000.0","10.0.0.9,10.0.0.1",,"10.0.0.1,10.0.0.2",,"40000","22","0","0x0018","1","1"',
      // IP without TCP (UDP, say).
      '"1700000000.1","10.0.0.9",,"10.0.0.8",,,,,,,',
      // IPv6 over IPv4: both families.
      '"1700000000.2","10.0.0.1","fd00::1","10.0.0.2","fd00::2","40000","22","0","0x0010","1","1"',
      // A TCP header cut after the ports.
      '"1700000000.3","10.0.0.1",,"10.0.0.2",,"40000","22",,,,',
    ].join('\n');
    const r = await csv(text);
    expect(r.stats).toMatchObject({ records: 4, tcp: 0, nonTcp: 3, truncated: 1 });
    expect(r.connections).toEqual([]);
  });

  it('matches the writer used by the other suites', async () => {
    const sent = session('10.1.1.1', 40001, '10.1.1.2', 2222, SEC, 3);
    const a = await readCapture({ name: 'a.pcap', bytes: pcapFile(framesOf(sent)) });
    const b = await csv(tsharkCsv(sent));
    expect(b.connections.map(columns)).toEqual(a.connections.map(columns));
  });
});

describe('tshark CSV refusals name the file, the line and the column', () => {
  const row = (fields: Partial<Record<string, string>>) => {
    const base: Record<string, string> = {
      'frame.time_epoch': '1700000000.5',
      'ip.src': '10.0.0.1',
      'ipv6.src': '',
      'ip.dst': '10.0.0.2',
      'ipv6.dst': '',
      'tcp.srcport': '40000',
      'tcp.dstport': '22',
      'tcp.len': '0',
      'tcp.flags': '0x0010',
      'tcp.seq_raw': '1',
      'tcp.ack_raw': '1',
      ...fields,
    };
    return CSV_HEADER.split(',').map((h) => base[h]).join(',');
  };
  const good = row({});

  it('a header without a needed column', async () => {
    expect(await refusal(`${CSV_HEADER.replace('tcp.seq_raw', 'tcp.seq')}\n${good}\n`)).toBe(
      'trace.csv: line 1: missing column tcp.seq_raw (the header has frame.time_epoch, ip.src, ipv6.src, ip.dst, ipv6.dst, tcp.srcport, tcp.dstport, tcp.len, tcp.flags, tcp.seq, tcp.ack_raw)',
    );
  });

  it('a column twice in the header', async () => {
    expect(await refusal(`${CSV_HEADER},tcp.len\n${good},0\n`)).toBe('trace.csv: line 1: column tcp.len appears twice in the header');
  });

  it('a time that is not a number', async () => {
    expect(await refusal(`${CSV_HEADER}\n${good}\n${row({ 'frame.time_epoch': '"Nov 14, 2023 22:13:20"' })}\n`)).toBe(
      'trace.csv: line 3, column frame.time_epoch: "Nov 14, 2023 22:13:20" is not a time in seconds',
    );
  });

  it('flags that are not a 12-bit value', async () => {
    expect(await refusal(`${CSV_HEADER}\n${row({ 'tcp.flags': 'ACK' })}\n`)).toBe(
      'trace.csv: line 2, column tcp.flags: "ACK" is not a 12-bit TCP flags value such as 0x0018',
    );
    expect(await refusal(`${CSV_HEADER}\n${row({ 'tcp.flags': '0x1000' })}\n`)).toBe(
      'trace.csv: line 2, column tcp.flags: "0x1000" is not a 12-bit TCP flags value such as 0x0018',
    );
  });

  it('a port out of range, a sequence number past 2^32, a negative length', async () => {
    expect(await refusal(`${CSV_HEADER}\n${row({ 'tcp.dstport': '65536' })}\n`)).toBe(
      'trace.csv: line 2, column tcp.dstport: "65536" is not an integer from 0 to 65535',
    );
    expect(await refusal(`${CSV_HEADER}\n${row({ 'tcp.seq_raw': '4294967296' })}\n`)).toBe(
      'trace.csv: line 2, column tcp.seq_raw: "4294967296" is not an integer from 0 to 4294967295',
    );
    expect(await refusal(`${CSV_HEADER}\n${row({ 'tcp.len': '-1' })}\n`)).toBe(
      'trace.csv: line 2, column tcp.len: "-1" is not an integer from 0 to 2147483647',
    );
  });

  it('an address that is not one, or a missing one', async () => {
    expect(await refusal(`${CSV_HEADER}\n${row({ 'ip.src': '10.0.0.256' })}\n`)).toBe('trace.csv: line 2, column ip.src: "10.0.0.256" is not an IPv4 address');
    expect(await refusal(`${CSV_HEADER}\n${row({ 'ip.src': '', 'ip.dst': '', 'ipv6.src': 'fd00::1', 'ipv6.dst': 'fd00::2::3' })}\n`)).toBe(
      'trace.csv: line 2, column ipv6.dst: "fd00::2::3" is not an IPv6 address',
    );
    expect(await refusal(`${CSV_HEADER}\n${row({ 'ip.dst': '' })}\n`)).toBe('trace.csv: line 2, column ip.dst: empty while ip.src holds an address');
  });

  it('a row with the wrong number of fields (csv-parse)', async () => {
    expect(await refusal(`${CSV_HEADER}\n${good}\n${good}\n${good},extra\n`)).toBe(
      'trace.csv: line 4: Invalid Record Length: expect 11, got 12',
    );
  });

  it('a file with no header', async () => {
    expect(await refusal('\n\n')).toBe('trace.csv: line 1: no header row (the file is empty)');
  });

  it("stops at a bad row with onError 'stop' and keeps every row before it", async () => {
    const lines = TSHARK_OUTPUT.trim().split('\n');
    // Line 10 (a keystroke of the IPv4 session) gets a bad time; lines 2..9 stay.
    lines[9] = lines[9].replace('"1700000000.060000000"', '"soon"');
    const r = await readCapture({ name: 'trace.csv', bytes: bytesOf(lines.join('\n')) }, { onError: 'stop' });
    expect(r.stopped?.message).toBe('trace.csv: line 10, column frame.time_epoch: "soon" is not a time in seconds');
    // Rows 2..9 were read: 8 rows, of which the ARP and UDP ones carry no TCP.
    expect(r.stopped?.packetsRead).toBe(8);
    expect(r.connections).toHaveLength(1);
    expect(r.connections[0].length).toBe(6);
    expect(r.warnings).toEqual([
      'trace.csv: line 10, column frame.time_epoch: "soon" is not a time in seconds (the read stopped there; the 8 packets before it were kept)',
    ]);
  });
});
