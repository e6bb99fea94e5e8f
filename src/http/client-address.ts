import { BlockList, isIP } from 'node:net';
import { parseProxyEntry } from '../config/config.js';

/** The reverse proxies whose `X-Forwarded-For` is believed (`KETENDATA_TRUSTED_PROXIES`), resolved once. */
export interface TrustedProxies {
  has(address: string): boolean;
}

const family = (address: string): 'ipv4' | 'ipv6' | undefined =>
  ({ 4: 'ipv4', 6: 'ipv6' })[isIP(address)] as 'ipv4' | 'ipv6' | undefined;

/**
 * A BlockList compares addresses as addresses, not as text: `::ffff:127.0.0.1` is `127.0.0.1`, and `::1`
 * is `0:0:0:0:0:0:0:1`. Entries are addresses or ranges (`10.1.0.0/16`), as `checkTrustedProxies` let them.
 */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const e of entries) {
    const entry = parseProxyEntry(e);
    if (!entry) throw new Error(`not an IP address or range: ${e}`);
    if (entry.prefix === undefined) list.addAddress(entry.address, entry.family);
    else list.addSubnet(entry.address, entry.prefix, entry.family);
  }
  return {
    has(address) {
      const f = family(address);
      if (!f || entries.length === 0) return false;
      try {
        return list.check(address, f);
      } catch {
        // e.g. an IPv6 address with a zone (fe80::1%eth0), which BlockList does not take
        return false;
      }
    },
  };
}

export const NO_TRUSTED_PROXIES: TrustedProxies = trustedProxies([]);

/** `::ffff:10.0.0.1` is counted as `10.0.0.1`, so one client is one key however the socket reports it. */
export function canonicalAddress(address: string): string {
  const v4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)?.[1];
  return v4 && isIP(v4) === 4 ? v4 : address;
}

/** One `X-Forwarded-For` entry as an address: some proxies add a port (`1.2.3.4:5678`, `[::1]:443`). */
function hopAddress(entry: string): string | undefined {
  const bare =
    /^\[([^\]]+)\](?::\d+)?$/.exec(entry)?.[1] ?? /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry)?.[1];
  const address = bare ?? entry;
  return isIP(address) ? canonicalAddress(address) : undefined;
}

/**
 * The client's address, for login throttling. Only a trusted proxy's `X-Forwarded-For` counts, and only
 * from the right: each proxy appends the address it was sent the request from, so the right-most entry
 * that is not itself a trusted proxy is the client, and whatever stands left of it may be forged. Without
 * a trusted proxy in front, the header is ignored: anyone can send it.
 */
export function resolveClientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | undefined,
  trusted: TrustedProxies,
): string {
  if (!socketAddress) return 'unknown';
  let client = canonicalAddress(socketAddress);
  if (!forwardedFor || !trusted.has(client)) return client;
  const hops = forwardedFor
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i] as string);
    // Not an address: no proxy of ours wrote that, so stop at the last address we believe.
    if (!hop) return client;
    client = hop;
    if (!trusted.has(hop)) return client;
  }
  return client;
}

/**
 * The protocol the client used, for links the portal shows (the API's `curl` example). The socket's own
 * (`https:` when Node terminates TLS itself); behind a trusted proxy, its `X-Forwarded-Proto` (the left-most
 * value, as the outermost proxy wrote it; only `http` or `https`); from any other address that header is
 * ignored, as `X-Forwarded-For` is. Without either, `Secure` cookies tell: a browser sends the session cookie
 * only over https, so a logged-in page with them was seen over https behind a proxy not (yet) trusted.
 */
export function resolveProtocol(
  socketProtocol: string,
  socketAddress: string | undefined,
  forwardedProto: string | undefined,
  trusted: TrustedProxies,
  secureCookies: boolean,
): 'http' | 'https' {
  if (socketProtocol === 'https:') return 'https';
  if (forwardedProto && socketAddress && trusted.has(canonicalAddress(socketAddress))) {
    const first = forwardedProto.split(',')[0]?.trim().toLowerCase();
    if (first === 'http' || first === 'https') return first;
  }
  return secureCookies ? 'https' : 'http';
}
