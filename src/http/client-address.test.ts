import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { THROTTLE } from '../usecases/accounts.js';
import {
  NO_TRUSTED_PROXIES,
  resolveClientAddress,
  resolveProtocol,
  trustedProxies,
} from './client-address.js';

describe('the client address behind a reverse proxy', () => {
  const proxies = trustedProxies(['127.0.0.1', '10.0.0.2', '::1']);

  it('ignores X-Forwarded-For unless the socket is a trusted proxy: anyone can send the header', () => {
    expect(resolveClientAddress('192.0.2.9', '203.0.113.7', NO_TRUSTED_PROXIES)).toBe('192.0.2.9');
    expect(resolveClientAddress('192.0.2.9', '203.0.113.7', proxies)).toBe('192.0.2.9');
    expect(resolveClientAddress('127.0.0.1', undefined, proxies)).toBe('127.0.0.1');
    expect(resolveClientAddress(undefined, '203.0.113.7', proxies)).toBe('unknown');
  });

  it('takes the right-most entry that is not a trusted proxy; what a client wrote left of it does not count', () => {
    expect(resolveClientAddress('127.0.0.1', '203.0.113.7', proxies)).toBe('203.0.113.7');
    expect(resolveClientAddress('127.0.0.1', '6.6.6.6, 203.0.113.7', proxies)).toBe('203.0.113.7');
    // Two proxies of ours in a row: the outer one appended the client, the inner one the outer proxy.
    expect(resolveClientAddress('127.0.0.1', '6.6.6.6, 203.0.113.7, 10.0.0.2', proxies)).toBe('203.0.113.7');
    expect(resolveClientAddress('127.0.0.1', '10.0.0.2', proxies)).toBe('10.0.0.2');
  });

  it('compares addresses, not text: IPv4-mapped IPv6 and other spellings of one address are the same', () => {
    expect(resolveClientAddress('::ffff:127.0.0.1', '203.0.113.7', proxies)).toBe('203.0.113.7');
    expect(resolveClientAddress('0:0:0:0:0:0:0:1', '2001:db8::7', proxies)).toBe('2001:db8::7');
    expect(resolveClientAddress('::ffff:127.0.0.1', '::ffff:203.0.113.7', proxies)).toBe('203.0.113.7');
    expect(resolveClientAddress('::ffff:192.0.2.9', undefined, NO_TRUSTED_PROXIES)).toBe('192.0.2.9');
    expect(trustedProxies(['::ffff:10.0.0.2']).has('10.0.0.2')).toBe(true);
  });

  it('trusts a whole range (CIDR), such as the pool of a load balancer, and nothing outside it', () => {
    const ranges = trustedProxies(['10.1.0.0/16', 'fd00::/8']);
    expect(['10.1.0.1', '10.1.255.254', '::ffff:10.1.2.3', 'fd12::1'].map((a) => ranges.has(a))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['10.2.0.1', '10.0.255.255', 'fe80::1', '203.0.113.7'].map((a) => ranges.has(a))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(resolveClientAddress('::ffff:10.1.9.9', '6.6.6.6, 203.0.113.7, 10.1.0.5', ranges)).toBe(
      '203.0.113.7',
    );
    expect(resolveClientAddress('10.2.0.1', '203.0.113.7', ranges)).toBe('10.2.0.1');
  });

  it('reads entries with a port, and stops at an entry that is not an address', () => {
    expect(resolveClientAddress('127.0.0.1', '203.0.113.7:51234', proxies)).toBe('203.0.113.7');
    expect(resolveClientAddress('127.0.0.1', '[2001:db8::7]:443', proxies)).toBe('2001:db8::7');
    expect(resolveClientAddress('127.0.0.1', 'unknown', proxies)).toBe('127.0.0.1');
    expect(resolveClientAddress('127.0.0.1', '203.0.113.7, x, 10.0.0.2', proxies)).toBe('10.0.0.2');
  });
});

describe('the protocol the client used', () => {
  const proxies = trustedProxies(['127.0.0.1', '10.1.0.0/16']);

  it("is the socket's, and https from Node's own TLS whatever a header says", () => {
    expect(resolveProtocol('http:', '192.0.2.9', undefined, proxies, false)).toBe('http');
    expect(resolveProtocol('https:', '192.0.2.9', undefined, proxies, false)).toBe('https');
    expect(resolveProtocol('https:', '127.0.0.1', 'http', proxies, false)).toBe('https');
  });

  it("takes a trusted proxy's X-Forwarded-Proto (the left-most, http or https only), no one else's", () => {
    expect(resolveProtocol('http:', '127.0.0.1', 'https', proxies, false)).toBe('https');
    expect(resolveProtocol('http:', '::ffff:10.1.2.3', 'HTTPS , http', proxies, false)).toBe('https');
    expect(resolveProtocol('http:', '127.0.0.1', 'http', proxies, true)).toBe('http');
    expect(resolveProtocol('http:', '127.0.0.1', 'ftp', proxies, false)).toBe('http');
    expect(resolveProtocol('http:', '127.0.0.1', '', proxies, false)).toBe('http');
    expect(resolveProtocol('http:', '192.0.2.9', 'https', proxies, false)).toBe('http');
    expect(resolveProtocol('http:', '127.0.0.1', 'https', NO_TRUSTED_PROXIES, false)).toBe('http');
    expect(resolveProtocol('http:', undefined, 'https', proxies, false)).toBe('http');
  });

  it('is https otherwise when the cookies are Secure: a browser sends those over https only', () => {
    expect(resolveProtocol('http:', '192.0.2.9', undefined, NO_TRUSTED_PROXIES, true)).toBe('https');
    expect(resolveProtocol('http:', '192.0.2.9', 'http', NO_TRUSTED_PROXIES, true)).toBe('https');
  });
});

const fail = (b: Browser, i: number) => b.login(`niemand-${i}@example.org`, 'fout wachtwoord');

for (const dialect of DIALECTS) {
  describe(`login throttling per client address on ${dialect}`, () => {
    let behindProxy: Awaited<ReturnType<typeof portalHarness>>;
    let direct: Awaited<ReturnType<typeof portalHarness>>;
    beforeAll(async () => {
      behindProxy = await portalHarness(dialect, { trustedProxies: ['127.0.0.1'] });
      direct = await portalHarness(dialect);
      await behindProxy.seed();
      await direct.seed();
    });
    afterAll(async () => {
      await behindProxy.drop();
      await direct.drop();
    });

    it('behind a trusted proxy, throttles each client by its forwarded address, not everyone at once', async () => {
      const proxy = '::ffff:127.0.0.1';
      const mallory = new Browser(behindProxy.app, { remoteAddress: proxy, forwardedFor: '203.0.113.7' });
      for (let i = 0; i < THROTTLE.perAddress; i++) expect((await fail(mallory, i)).status).toBe(400);
      expect((await mallory.login('ana@0363.example')).status).toBe(429);
      // A forged entry is left of the one the proxy appended: still the same client.
      const forged = new Browser(behindProxy.app, {
        remoteAddress: proxy,
        forwardedFor: '6.6.6.6, 203.0.113.7',
      });
      expect((await forged.login('ana@0363.example')).status).toBe(429);
      const ana = new Browser(behindProxy.app, { remoteAddress: proxy, forwardedFor: '198.51.100.2' });
      expect((await ana.login('ana@0363.example')).status).toBe(303);
    });

    it('counts an IPv6 client by its /64, which it can fill with addresses at will, and an IPv4 one by its address', async () => {
      for (let i = 0; i < THROTTLE.perAddress; i++) {
        const next = new Browser(direct.app, { remoteAddress: `2001:db8:7:1:${i.toString(16)}::1` });
        expect((await fail(next, i)).status).toBe(400);
      }
      const same64 = new Browser(direct.app, { remoteAddress: '2001:DB8:7:1:ffff:ffff:ffff:ffff' });
      expect((await same64.login('ana@0363.example')).status).toBe(429);
      const other64 = new Browser(direct.app, { remoteAddress: '2001:db8:7:2::1' });
      expect((await other64.login('ana@0363.example')).status).toBe(303);
      // IPv4 stays per address: a neighbour behind another address is not held back.
      for (let i = 0; i < THROTTLE.perAddress; i++)
        expect(
          (await fail(new Browser(direct.app, { remoteAddress: '::ffff:198.51.100.20' }), i)).status,
        ).toBe(400);
      expect(
        (await new Browser(direct.app, { remoteAddress: '198.51.100.20' }).login('bas@0599.example')).status,
      ).toBe(429);
      expect(
        (await new Browser(direct.app, { remoteAddress: '198.51.100.21' }).login('bas@0599.example')).status,
      ).toBe(303);
    });

    it('without trusted proxies, a forged X-Forwarded-For changes nothing', async () => {
      const socket = '192.0.2.10';
      for (let i = 0; i < THROTTLE.perAddress; i++) {
        const forging = new Browser(direct.app, { remoteAddress: socket, forwardedFor: `10.9.0.${i}` });
        expect((await fail(forging, i)).status).toBe(400);
      }
      const again = new Browser(direct.app, { remoteAddress: socket, forwardedFor: '198.51.100.3' });
      expect((await again.login('ana@0363.example')).status).toBe(429);
      const other = new Browser(direct.app, { remoteAddress: '192.0.2.11' });
      expect((await other.login('ana@0363.example')).status).toBe(303);
    });
  });
}
