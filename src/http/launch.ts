import type { Store } from '../store/open.js';
import { deleteExpiredSessions } from '../store/sessions.js';
import { createApp } from './app.js';
import type { AppDeps } from './deps.js';
import { listen, type RunningServer } from './server.js';
import { auditPort, deliveriesPort, operatorPort } from './wiring.js';

export interface PortalOptions {
  readonly store: Store;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly secureCookies: boolean;
  readonly environmentLabel?: string;
  readonly clock?: () => Date;
  readonly exchangesApi?: AppDeps['exchangesApi'];
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
    },
    deliveries: deliveriesPort({ store: o.store, dataDir: o.dataDir }),
    operator: operatorPort({ store: o.store, dataDir: o.dataDir }),
    audit: auditPort(o.store),
    ...(o.exchangesApi ? { exchangesApi: o.exchangesApi } : {}),
  };
  await deleteExpiredSessions(o.store.db, clock().toISOString());
  return listen(createApp(deps), o.host, o.port);
}
