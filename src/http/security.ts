import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

/**
 * Security headers for every response. The portal needs no script at all, so the policy forbids it; styles and
 * images come only from the app itself.
 */
export function securityHeaders(secure: boolean): MiddlewareHandler {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    strictTransportSecurity: secure ? 'max-age=31536000; includeSubDomains' : false,
    xFrameOptions: 'DENY',
    referrerPolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    crossOriginResourcePolicy: 'same-origin',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
  });
  return async (c, next) => {
    await headers(c, next);
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
    // Hono answers a HEAD by running the GET route and wrapping its response: `new Response(null, res)`. The
    // lightweight Response of @hono/node-server copies only the headers that response was made with, not the
    // ones set on it since (all of the above), so a HEAD's response is made anew with every header in its init.
    // Its body goes unsent anyway.
    if (c.req.method === 'HEAD') {
      const all = new Headers(c.res.headers); // before anything reads the body: that drops the headers set
      const { status } = c.res;
      c.res = undefined; // else the setter merges the old response's headers back in
      c.res = new Response(null, { status, headers: all });
    }
  };
}
