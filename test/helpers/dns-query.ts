/**
 * A DNS query from inside a sprite (python3 dnsq.py NAME SERVER|- [tcp]): prints the rcode
 * name and the A answers, or `ERR <exception>`; `-` means the sprite's own resolver.
 */
export const DNS_QUERY_SCRIPT = String.raw`
import socket, struct, sys, random
name = sys.argv[1]
server = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != '-' else open('/etc/resolv.conf').read().split('nameserver')[1].split()[0]
tcp = len(sys.argv) > 3 and sys.argv[3] == 'tcp'
q = struct.pack('>HHHHHH', random.randint(0, 65535), 0x0100, 1, 0, 0, 0) + b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\x00\x00\x01\x00\x01'
try:
    if tcp:
        s = socket.create_connection((server, 53), 3); s.sendall(struct.pack('>H', len(q)) + q)
        n = struct.unpack('>H', s.recv(2))[0]; r = s.recv(n)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(q, (server, 53)); r = s.recv(4096)
except OSError as e:
    print('ERR', e.__class__.__name__); sys.exit(0)
rcode = r[3] & 15; an = struct.unpack('>H', r[6:8])[0]; ips = []; i = 12
while r[i] != 0: i += r[i] + 1
i += 5
for _ in range(an):
    if r[i] & 0xc0 == 0xc0: i += 2
    else:
        while r[i] != 0: i += r[i] + 1
        i += 1
    t, _, _, ln = struct.unpack('>HHIH', r[i:i+10]); i += 10
    if t == 1: ips.append('.'.join(str(b) for b in r[i:i+4]))
    i += ln
print({0: 'NOERROR', 3: 'NXDOMAIN', 5: 'REFUSED', 2: 'SERVFAIL'}.get(rcode, rcode), *ips)
`;
