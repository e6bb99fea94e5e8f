import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ensureFolder } from './folders.js';

/** Configuration read once from the environment in `main.ts` and passed down. */
export interface Config {
  /** PostgreSQL URL; undefined means the embedded SQLite default in the data folder. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Master secret (KETENDATA_SECRET); every key the service uses is derived from it. */
  readonly secret: string | undefined;
  /**
   * Reverse proxies whose X-Forwarded-For names the client (KETENDATA_TRUSTED_PROXIES), as given; checked
   * by `checkTrustedProxies` when the portal starts.
   */
  readonly trustedProxies: readonly string[];
}

export const CONFIG_DOC = {
  KETENDATA_DATABASE_URL: 'PostgreSQL URL (postgres://…); unset: embedded SQLite in the data folder',
  KETENDATA_DATA_DIR:
    'data folder for the embedded database, deliveries and the demo secret (default ./data)',
  KETENDATA_SECRET: 'master secret, at least 32 characters; all pseudonym and encryption keys derive from it',
  KETENDATA_TRUSTED_PROXIES:
    'IP addresses or ranges (CIDR) of the reverse proxies in front of serve, comma-separated; only their X-Forwarded-For is believed',
} as const;

/** A setting in the environment that cannot be used; its message starts with its code. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Only PostgreSQL URLs: anything else (`mysql://…`, a bare word) was tried as PostgreSQL and failed late
 * with a confusing host lookup. The value itself is not repeated: it may hold a password.
 */
export function checkDatabaseUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return value;
  throw new ConfigError(
    `config.bad_database_url: KETENDATA_DATABASE_URL must be a postgres:// or postgresql:// URL (${scheme ? `not ${scheme}://` : 'it has no scheme'}); unset it for the embedded SQLite store`,
  );
}

/**
 * The settings as given. The database URL is checked when a store is opened (`checkDatabaseUrl`), so a
 * command without a store (flatten, dictionary, simulate, help) does not depend on it.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    databaseUrl: env.KETENDATA_DATABASE_URL || undefined,
    dataDir: resolve(env.KETENDATA_DATA_DIR || './data'),
    secret: env.KETENDATA_SECRET || undefined,
    trustedProxies: (env.KETENDATA_TRUSTED_PROXIES ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
  };
}

/** One trusted-proxy entry: an address, or a range as `address/prefix` (CIDR). */
export interface ProxyEntry {
  readonly address: string;
  readonly family: 'ipv4' | 'ipv6';
  /** Prefix length of a range; absent for a single address. */
  readonly prefix?: number;
}

/**
 * `10.0.0.2`, `::1`, `10.0.0.0/8` or `fd00::/8` as a ProxyEntry; undefined for anything else. A range of
 * prefix 0 is refused too: it would believe every address, so anyone could choose theirs.
 */
export function parseProxyEntry(entry: string): ProxyEntry | undefined {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) return { address, family };
  const digits = entry.slice(slash + 1);
  const prefix = Number(digits);
  if (!/^\d{1,3}$/.test(digits) || prefix < 1 || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, family, prefix };
}

/**
 * The trusted proxies as addresses or ranges, or a ConfigError naming the first entry that is neither.
 * Host names are refused rather than resolved: a wrong entry would let anyone choose their address.
 */
export function checkTrustedProxies(entries: readonly string[]): readonly string[] {
  const bad = entries.find((a) => parseProxyEntry(a) === undefined);
  if (bad !== undefined) {
    throw new ConfigError(
      `config.bad_trusted_proxies: KETENDATA_TRUSTED_PROXIES must be IP addresses or ranges separated by commas, e.g. 127.0.0.1,::1,10.1.0.0/16 (${JSON.stringify(bad)} is not one)`,
    );
  }
  return entries;
}

/**
 * The data folder made ready for writing (missing components created), or a ConfigError naming it and the
 * errno code: a file in the way, no permission, a read-only mount, or a path under /proc (where a recursive
 * mkdir would loop forever).
 */
export function ensureDataFolder(dataDir: string): string {
  try {
    // Only its owner may enter a new data folder: it holds the database (accounts, second-factor secrets)
    // and every delivery.
    return ensureFolder(dataDir, true, 0o700);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(
      `config.data_dir_unusable: KETENDATA_DATA_DIR ${dataDir} is not a folder that can be written (${code})`,
    );
  }
}

/** The master secret, or a clear error saying how to set it. */
export function requireSecret(config: Config): string {
  if (!config.secret) {
    throw new Error(
      'KETENDATA_SECRET is not set: set it to the secret the store was built with (a new store: a random string of at least 32 characters)',
    );
  }
  // Spaces count towards the length but add nothing to guess; at the edges they are most likely a copied
  // line break or padding, and a secret is used as given (never trimmed: the store is bound to it exactly).
  if (config.secret.trim() === '')
    throw new ConfigError(
      'config.blank_secret: KETENDATA_SECRET is only whitespace: set it to a random string of at least 32 characters',
    );
  if (config.secret.length < 32) throw new Error('KETENDATA_SECRET is too short: use at least 32 characters');
  if (config.secret.trim() !== config.secret)
    throw new ConfigError(
      'config.secret_whitespace: KETENDATA_SECRET starts or ends with whitespace (a space, tab or line break): remove it',
    );
  return config.secret;
}

/** For the demo only: a secret kept in the data folder, made on first use. */
export function demoSecret(dataDir: string): string {
  const kept = readDemoSecret(dataDir);
  if (kept !== undefined) return kept;
  const secret = newDemoSecret();
  writeDemoSecret(dataDir, secret);
  return secret;
}

/** The demo secret kept in the data folder (`demo-secret`), or undefined when there is none. */
export function readDemoSecret(dataDir: string): string | undefined {
  const file = resolve(dataDir, 'demo-secret');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/** A fresh random secret for a new demo; kept only once `writeDemoSecret` wrote it. */
export function newDemoSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function writeDemoSecret(dataDir: string, secret: string): void {
  ensureDataFolder(dataDir);
  writeFileSync(resolve(dataDir, 'demo-secret'), `${secret}\n`, { mode: 0o600 });
}
