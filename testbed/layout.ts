/**
 * Prints the testbed's layout as shell assignments for run.sh, so that names and
 * addresses are derived in one place (config.ts):
 *
 *   NAMESPACES='ssb-stone ssb-attacker …'   every namespace, S first
 *   SERVERS='stone target srv1 …'           hosts that run sshd
 *   NS_<host>=ssb-<host>                    one per host
 *   ADDRS_<host>='10.99.1.1 …'              the host's addresses
 *   STONE_DEVS='ssb-att-s …'                S's interfaces, where the capture runs
 *   LINKS='att:attacker:10.99.1:18 …'       name:peer:net:delayMs, for the reachability check
 *   SNAPLEN=96  BASEPORT=47100  NLINKS=5
 *
 * Usage: npx tsx testbed/layout.ts testbed/config.json
 */
import { ATTACKER, STONE, USER, devName, hosts, loadConfig, nsName } from './config.js';

const cfg = loadConfig(process.argv[2] ?? 'testbed/config.json');
const q = (s: string) => `'${s}'`;
const all = hosts(cfg);
const out: string[] = [];
out.push(`NAMESPACES=${q(all.map((h) => nsName(cfg, h)).join(' '))}`);
out.push(`SERVERS=${q(all.filter((h) => h !== ATTACKER && h !== USER).join(' '))}`);
for (const h of all) out.push(`NS_${h}=${nsName(cfg, h)}`);
out.push(`ADDRS_${STONE}=${q(cfg.links.map((l) => `${l.net}.1`).join(' '))}`);
for (const l of cfg.links) out.push(`ADDRS_${l.peer}=${q(`${l.net}.2`)}`);
out.push(`STONE_DEVS=${q(cfg.links.map((l) => devName(l, 's')).join(' '))}`);
out.push(`LINKS=${q(cfg.links.map((l) => `${l.name}:${l.peer}:${l.net}:${l.delayMs}`).join(' '))}`);
out.push(`SNAPLEN=${cfg.snaplen}`);
out.push(`BASEPORT=${cfg.basePort}`);
out.push(`NLINKS=${cfg.links.length}`);
process.stdout.write(out.join('\n') + '\n');
