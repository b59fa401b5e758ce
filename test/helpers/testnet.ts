import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

/**
 * Test hosts for egress tests, on this machine only: a network namespace reached from the
 * host through a veth, holding several addresses in 198.18.0.0/15 (reserved for tests, not a
 * private range), each answering TCP on port 80 with its own address; plus a DNS zone the
 * daemon uses as its upstream. Everything it makes, it removes.
 */
export class TestNet {
  // Not "spr…": the daemon treats interfaces with that prefix as sprites'.
  readonly ns = `tnet${randomBytes(3).toString('hex')}`;
  readonly hostVeth = `${this.ns}h`;
  readonly subnet: number;
  private readonly procs: ChildProcess[] = [];
  private dnsUdp: UdpSocket | null = null;
  private dnsTcp: Server | null = null;
  dnsPort = 0;
  /** name → IPv4 address; `*.x` entries answer every name below x. */
  readonly zone = new Map<string, string>();

  constructor() {
    this.subnet = 64 + (randomBytes(1)[0]! % 128);
  }

  /** The address of test host number `n` (10, 11, …). */
  ip(n: number): string {
    return `198.18.${this.subnet}.${n}`;
  }

  /** Creates the namespace, its veth and addresses, and starts the hosts' TCP 80 server (not waited for). */
  up(hosts: number[]): void {
    const sh = (args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' });
    sh(['ip', 'netns', 'add', this.ns]);
    sh(['ip', 'link', 'add', this.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns]);
    sh(['ip', 'addr', 'add', `${this.ip(1)}/24`, 'dev', this.hostVeth]);
    sh(['ip', 'link', 'set', this.hostVeth, 'up']);
    sh(['ip', '-n', this.ns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', this.ns, 'link', 'set', 'eth0', 'up']);
    for (const n of hosts) sh(['ip', '-n', this.ns, 'addr', 'add', `${this.ip(n)}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', this.ns, 'route', 'add', 'default', 'via', this.ip(1)]);
    // Every test host answers TCP 80 with its own address and keeps the connection open
    // (echoing what it gets), so a test can see an open connection being cut.
    const server = `
import socket, threading
def serve(c):
    try:
        c.sendall(("host " + c.getsockname()[0] + "\\n").encode())
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(d)
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 80)); s.listen(64)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
`;
    this.procs.push(spawn('ip', ['netns', 'exec', this.ns, 'python3', '-c', server], { stdio: 'ignore' }));
  }

  /**
   * Makes `address` (e.g. a private or pool address) a test host too: held inside the test
   * namespace and routed there from the host by a /32, so a connection to it never leaves
   * the machine. Refuses an address the host already routes anywhere but by its default
   * route, or holds itself. The route goes with the veth in down().
   */
  trap(address: string): void {
    const routes = execFileSync('ip', ['-4', 'route', 'show', 'match', address], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const own = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).includes(` ${address}/`);
    if (own || routes.some((r) => !r.startsWith('default')))
      throw new Error(`${address} is in use on this host (${routes.join('; ')}): pick another`);
    execFileSync('ip', ['-n', this.ns, 'addr', 'add', `${address}/32`, 'dev', 'eth0'], { stdio: 'pipe' });
    execFileSync('ip', ['route', 'add', `${address}/32`, 'dev', this.hostVeth], { stdio: 'pipe' });
  }

  /**
   * A second resolver on a test host (UDP and TCP 53) that answers every A query with
   * `answer`: what a sprite would use to get around the policy.
   */
  rogueResolver(host: number, answer: string): void {
    const resolver = `
import socket, struct, threading
ANSWER = bytes(int(x) for x in "${answer}".split("."))
def reply(q):
    end = 12
    while q[end] != 0: end += q[end] + 1
    end += 5
    head = q[:2] + b"\\x81\\x80" + q[4:6] + b"\\x00\\x01\\x00\\x00\\x00\\x00"
    return head + q[12:end] + b"\\xc0\\x0c\\x00\\x01\\x00\\x01\\x00\\x00\\x00\\x3c\\x00\\x04" + ANSWER
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("${this.ip(host)}", 53))
    while True:
        q, a = s.recvfrom(4096); s.sendto(reply(q), a)
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("${this.ip(host)}", 53)); s.listen(8)
    while True:
        c, _ = s.accept(); n = struct.unpack(">H", c.recv(2))[0]; r = reply(c.recv(n)); c.sendall(struct.pack(">H", len(r)) + r); c.close()
threading.Thread(target=udp, daemon=True).start()
tcp()
`;
    this.procs.push(spawn('ip', ['netns', 'exec', this.ns, 'python3', '-c', resolver], { stdio: 'ignore' }));
  }

  /** The test zone's DNS server on the host (the daemon's upstream), UDP and TCP. */
  async dns(): Promise<number> {
    const answer = (q: Buffer): Buffer => {
      let end = 12;
      const labels: string[] = [];
      while (q[end] !== 0) {
        labels.push(q.toString('latin1', end + 1, end + 1 + q[end]!));
        end += q[end]! + 1;
      }
      end += 5;
      const name = labels.join('.').toLowerCase();
      const type = q.readUInt16BE(end - 4);
      const wildcard = [...this.zone.keys()].find((k) => k.startsWith('*.') && name.endsWith(k.slice(1)));
      const ip = this.zone.get(name) ?? (wildcard ? this.zone.get(wildcard) : undefined);
      const head = Buffer.alloc(12);
      q.copy(head, 0, 0, 2);
      const found = ip !== undefined && type === 1;
      head.writeUInt16BE(0x8180 | (ip === undefined ? 3 : 0), 2);
      head.writeUInt16BE(1, 4);
      head.writeUInt16BE(found ? 1 : 0, 6);
      const parts = [head, q.subarray(12, end)];
      if (found) parts.push(Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...ip.split('.').map(Number)]));
      return Buffer.concat(parts);
    };
    const udp = createSocket('udp4');
    udp.on('message', (q, r) => udp.send(answer(q), r.port, r.address));
    const port = await new Promise<number>((resolve) => udp.bind(0, '127.0.0.1', () => resolve(udp.address().port)));
    const tcp = createServer((c) => {
      c.once('data', (d: Buffer) => {
        const r = answer(d.subarray(2, 2 + d.readUInt16BE(0)));
        const len = Buffer.alloc(2);
        len.writeUInt16BE(r.length);
        c.end(Buffer.concat([len, r]));
      });
      c.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
    this.dnsUdp = udp;
    this.dnsTcp = tcp;
    this.dnsPort = port;
    return port;
  }

  down(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    this.dnsUdp?.close();
    this.dnsTcp?.close();
    try {
      execFileSync('ip', ['netns', 'del', this.ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    try {
      execFileSync('ip', ['link', 'del', this.hostVeth], { stdio: 'ignore' });
    } catch {
      // went with the namespace
    }
  }
}
