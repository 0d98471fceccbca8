// The client's network as /proc, /sys and os.networkInterfaces() show it, and what changed.
import { describe, expect, it } from 'vitest';
import { diffNet, hasAddress, hexToIpv6, parseDefaultRoutes, readNetSnapshot, type NetSources } from '../../src/watch/network.js';

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100D50A\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0000D50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;
const ROUTE6 = `00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 wlan0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo
`;

function sources(addrs: Record<string, string[]>, route = ROUTE, links: Record<string, string> = { eth0: 'up' }): NetSources {
  return {
    interfaces: () =>
      Object.fromEntries(
        Object.entries(addrs).map(([name, list]) => [
          name,
          list.map((cidr) => ({ address: cidr.split('/')[0]!, cidr, family: cidr.includes(':') ? 'IPv6' : 'IPv4', internal: name === 'lo', netmask: '', mac: '' }) as never),
        ]),
      ),
    readFile: (p) => (p === '/proc/net/route' ? route : p === '/proc/net/ipv6_route' ? ROUTE6 : p.startsWith('/sys/class/net/') ? `${links[p.split('/')[4]!] ?? 'down'}\n` : null),
    listDir: () => ['lo', ...Object.keys(links)],
  };
}

describe('client network', () => {
  it('reads default routes from /proc (IPv4 little-endian, IPv6, the unreachable default skipped)', () => {
    expect([...parseDefaultRoutes(ROUTE, ROUTE6)]).toEqual(['via 10.213.0.1 dev eth0', 'inet6 via fe80::1 dev wlan0']);
    expect(hexToIpv6('20010db8000000000000000000000001')).toBe('2001:db8::1');
  });

  it('leaves loopback and link-local addresses out', () => {
    const s = readNetSnapshot(sources({ lo: ['127.0.0.1/8'], eth0: ['10.213.0.2/24', 'fe80::1/64'] }));
    expect([...s.addrs.entries()].map(([k, v]) => [k, [...v]])).toEqual([['eth0', ['10.213.0.2/24']]]);
    expect(hasAddress(s, '::ffff:10.213.0.2')).toBe(true);
    expect(hasAddress(s, '10.213.0.3')).toBe(false);
  });

  it('says what changed: addresses, the default route, interfaces', () => {
    const a = readNetSnapshot(sources({ eth0: ['10.213.0.2/24'] }));
    const b = readNetSnapshot(sources({ eth0: ['10.213.0.3/24'], wlan0: ['192.168.1.20/24'] }, ROUTE.replace('0100D50A', '0101A8C0'), { eth0: 'down', wlan0: 'up' }));
    const texts = diffNet(a, b).map((c) => c.text);
    expect(texts).toEqual([
      'interface eth0 down (was up)',
      'interface wlan0 appeared (up)',
      'address 10.213.0.2/24 removed from eth0',
      'address 10.213.0.3/24 added on eth0',
      'address 192.168.1.20/24 added on wlan0',
      'default route now via 192.168.1.1 dev eth0, inet6 via fe80::1 dev wlan0 (was via 10.213.0.1 dev eth0, inet6 via fe80::1 dev wlan0)',
    ]);
    expect(diffNet(a, b).find((c) => c.removed)?.removed).toBe('10.213.0.2');
    expect(diffNet(a, a)).toEqual([]);
  });
});
