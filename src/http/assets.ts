import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';

const require = createRequire(import.meta.url);

/** Our few additions on top of the NL Design System components. */
const PORTAL_CSS = `
body { margin: 0; font-family: var(--utrecht-document-font-family, Arial, sans-serif);
  font-size: var(--utrecht-document-font-size, 1rem); line-height: var(--utrecht-document-line-height, 1.5);
  color: var(--utrecht-document-color, #000); background: var(--utrecht-document-background-color, #fff); }
.kd-main section + section { margin-block-start: 2.5rem; }
.kd-main h2 { margin-block: 1.5rem 0.75rem; }
.kd-main h3 { margin-block: 1.5rem 0.5rem; }
.kd-main form > * + * { margin-block-start: 0.75rem; }
.utrecht-data-list { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.25rem 1.5rem; margin: 0; }
.utrecht-data-list__item { display: contents; }
.utrecht-data-list__item-key { font-weight: 700; }
.utrecht-data-list__item-value { margin: 0; overflow-wrap: anywhere; }
.kd-header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between;
  padding: 1rem 2rem; border-block-end: 4px solid var(--utrecht-color-red-40, #cc0000); }
.kd-brand { font-weight: 700; font-size: 1.5rem; color: inherit; text-decoration: none; }
.kd-user { display: flex; gap: 1rem; align-items: center; }
.kd-tabs { padding: 0 2rem; border-block-end: 1px solid #ccc; }
.kd-tabs ul { display: flex; flex-wrap: wrap; gap: 0.25rem; list-style: none; margin: 0; padding: 0; }
.kd-tabs a { display: inline-block; padding: 0.75rem 1rem; color: inherit; text-decoration: none; border-block-end: 4px solid transparent; }
.kd-tabs a[aria-current="page"] { border-block-end-color: currentColor; font-weight: 700; }
.kd-tabs a:hover, .kd-tabs a:focus-visible { text-decoration: underline; }
/* Grid children take their widest content as minimum: without this a wide table widens the page (reflow). */
.utrecht-page-body > * { min-inline-size: 0; }
.kd-main { padding: 1.5rem 2rem 3rem; max-inline-size: 80rem; }
.kd-main > * + * { margin-block-start: 1rem; }
.kd-footer { padding: 1rem 2rem; border-block-start: 1px solid #ccc; font-size: 0.875rem; }
.kd-narrow { max-inline-size: 30rem; }
.kd-inline { display: inline; }
.kd-block { display: block; }
.kd-code { font-family: monospace; word-break: break-all; background: #f3f3f3; padding: 0.5rem; display: block; }
/* The QR code shrinks with a narrow screen (reflow); its quiet zone is inside the SVG. */
.kd-qr { display: block; inline-size: 200px; max-inline-size: 100%; block-size: auto; }
.kd-confirm { border: 2px solid #8a6d00; background: #fff8e1; padding: 1rem; }
.kd-actions { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin-block: 1rem; }
.utrecht-table { inline-size: 100%; }
.utrecht-table th, .utrecht-table td { text-align: start; padding: 0.5rem; vertical-align: top; }
/* File paths and validator messages have long words: they wrap, so the columns after them stay in view. */
.kd-wrap { overflow-wrap: anywhere; min-inline-size: 10rem; }
.kd-num { text-align: end !important; font-variant-numeric: tabular-nums; white-space: nowrap; }
.kd-definition { max-inline-size: 60rem; }
/* --- Dashboard and Instellingen (UX audit) --- */
/* The member choice: the button on the select's line, not centred on label and select together. */
.kd-main .kd-filter { align-items: flex-end; }
.kd-main .kd-filter > * + * { margin-block-start: 0; }
.kd-period { font-weight: 700; margin-block: 0.5rem 0; }
.kd-how { max-inline-size: 60rem; margin-block: 0.5rem 1rem; }
.kd-how > summary { cursor: pointer; color: var(--utrecht-link-color, #1f4e8c); text-decoration: underline; }
.kd-how > p { margin-block: 0.5rem 0; }
.kd-legend { font-size: 0.875rem; }
/* The manual key in groups of four: wrap between the groups, never inside one. */
.kd-code.kd-key { word-break: normal; overflow-wrap: normal; letter-spacing: 0.05em; }
/* --- end Dashboard and Instellingen --- */
.kd-tiles { display: flex; flex-wrap: wrap; gap: 1rem; margin: 0 0 1.5rem; }
.kd-tile { border: 1px solid #ccc; border-inline-start: 4px solid var(--utrecht-color-red-40, #cc0000);
  padding: 0.75rem 1rem; min-inline-size: 12rem; }
.kd-tile__label { font-size: 0.875rem; }
.kd-tile__value { margin: 0; font-size: 1.75rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.kd-bar { display: block; }
.kd-bar__track { fill: #eee; }
.kd-bar__value { fill: var(--utrecht-color-blue-40, #1f4e8c); }
/* --- Ophalen and the header on a phone (UX audit) --- */
.kd-nowrap { white-space: nowrap; }
.kd-file { overflow-wrap: anywhere; min-inline-size: 9rem; }
/* A phone (under ~600 px): a header of a few lines, and tables without their least needed columns. */
@media (max-width: 37.5em) {
  .kd-header { padding: 0.5rem 1rem; gap: 0.25rem 1rem; border-block-end-width: 3px; }
  .kd-brand { font-size: 1.125rem; }
  .kd-user { gap: 0.5rem; font-size: 0.875rem; }
  .kd-user .utrecht-button { min-block-size: 2.75rem; padding-inline: 0.5rem; }
  .kd-tabs { padding: 0 0.25rem; }
  .kd-tabs ul { gap: 0; }
  .kd-tabs a { padding: 0.5rem 0.375rem; font-size: 0.9375rem; }
  .kd-main { padding: 1rem 1rem 2rem; }
  .kd-footer { padding: 1rem; }
  .kd-wide-only { display: none; }
}
/* --- end Ophalen and the header --- */
/* A refused form's field (WCAG 3.3.1): text and border in the theme's invalid red (#900, 9.9:1 on white). */
.utrecht-form-field--invalid { border-inline-start: 4px solid var(--utrecht-color-invalid, #990000);
  padding-inline-start: 0.75rem; }
.kd-main .utrecht-form-field-description--invalid { color: var(--utrecht-color-invalid, #990000); font-weight: 700;
  margin-block: 0.25rem; }
.utrecht-textbox--invalid { border-color: var(--utrecht-color-invalid, #990000); border-width: 2px; }
`;

/** The tab icon: a K on the header's red (browsers ask for one on every page; a 404 each time filled the logs). */
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#cc0000"/><path d="M10 7v18M10 17l10-10M13 14l8 11" stroke="#fff" stroke-width="4" fill="none" stroke-linecap="round"/></svg>`;

/** CSS served from the app itself (no CDN): design tokens, the Utrecht component library, our additions. */
export function assets(): Hono {
  const tokens = readFileSync(require.resolve('@utrecht/design-tokens/dist/theme.css'), 'utf8');
  const components = readFileSync(require.resolve('@utrecht/component-library-css/dist/index.css'), 'utf8');
  const app = new Hono();
  const css = (body: string) => () =>
    new Response(body, {
      headers: { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' },
    });
  app.get('/tokens.css', css(tokens));
  app.get('/utrecht.css', css(components));
  app.get('/portal.css', css(PORTAL_CSS));
  app.get(
    '/favicon.svg',
    () =>
      new Response(FAVICON, {
        headers: { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' },
      }),
  );
  return app;
}
