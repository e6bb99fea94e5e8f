import type { ActiveSession } from '../usecases/accounts.js';
import type { AppDeps } from './deps.js';

/** Hono context variables shared by the portal and the API. */
export interface AppEnv {
  Variables: {
    deps: AppDeps;
    session: ActiveSession | undefined;
    /** Set by the API's token middleware. */
    apiOwner: { id: number; scope: 'organisation' | 'operator'; organisationCode: string | null } | undefined;
  };
}
