import type { Keys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { deleteExpiredSessions } from '../store/sessions.js';
import { ingestOne } from '../usecases/ingest-exchanges.js';
import { exchangesApi } from './api/exchanges.js';
import { createApp } from './app.js';
import { trustedProxies } from './client-address.js';
import type { AppDeps } from './deps.js';
import { flashKeyOf } from './flash.js';
import { listen, type RunningServer } from './server.js';
import { auditPort, deliveriesPort, indicatorsPort, operatorPort } from './wiring.js';

export interface PortalOptions {
  readonly store: Store;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly secureCookies: boolean;
  readonly environmentLabel?: string;
  /** Addresses of the reverse proxies in front (checked: `checkTrustedProxies`). */
  readonly trustedProxies?: readonly string[];
  readonly clock?: () => Date;
  /** For the users' TOTP secrets, quarantine retries and the hub feed POST /api/v1/exchanges (operator token). */
  readonly keys: Keys;
}

/** Builds the app from the use cases and starts listening; `serve`, `demo` and the browser tests use it. */
export async function startPortal(o: PortalOptions): Promise<RunningServer> {
  const clock = o.clock ?? (() => new Date());
  const deps: AppDeps = {
    store: o.store,
    clock,
    options: {
      secureCookies: o.secureCookies,
      ...(o.environmentLabel ? { environmentLabel: o.environmentLabel } : {}),
      ...(o.trustedProxies?.length ? { trustedProxies: trustedProxies(o.trustedProxies) } : {}),
    },
    deliveries: deliveriesPort({ store: o.store, dataDir: o.dataDir }),
    operator: operatorPort({ store: o.store, dataDir: o.dataDir, keys: o.keys }),
    audit: auditPort(o.store),
    indicators: indicatorsPort({ store: o.store, dataDir: o.dataDir }),
    totpKeys: o.keys,
    flashKey: flashKeyOf(o.keys),
    exchangesApi: hubFeed(o.store, o.keys, clock),
  };
  await deleteExpiredSessions(o.store.db, clock().toISOString());
  return listen(createApp(deps), o.host, o.port);
}

export function hubFeed(store: Store, keys: Keys, clock: () => Date): AppDeps['exchangesApi'] {
  return (tokenScope) =>
    exchangesApi({
      ingest: (exchange) => ingestOne({ store, keys, now: clock }, exchange),
      tokenScope,
      clock,
    });
}
