import type { Child } from 'hono/jsx';
import type { ActiveSession } from '../../usecases/accounts.js';
import { CSRF_FIELD } from '../csrf.js';

/** A password asked too often wrongly (login throttling): the same words wherever one is asked. */
export const TOO_MANY_ATTEMPTS = 'Te veel mislukte pogingen. Wacht een kwartier en probeer het opnieuw.';

export interface LayoutProps {
  readonly title: string;
  readonly session?: ActiveSession | undefined;
  readonly csrf?: string;
  /** Path of the current tab, for aria-current. */
  readonly current?: string;
  readonly environmentLabel?: string | undefined;
  /** A form on the page was refused: the title says so first (WCAG 2.4.2), as the page looks much the same. */
  readonly error?: boolean | undefined;
  readonly children?: Child;
}

const USER_TABS = [
  { href: '/ophalen', label: 'Ophalen' },
  { href: '/dashboard', label: 'Dashboard' },
  { href: '/historie', label: 'Historie opvragen' },
  { href: '/instellingen', label: 'Instellingen' },
] as const;

const OPERATOR_TABS = [
  { href: '/beheer', label: 'Organisaties' },
  { href: '/beheer/gebruikers', label: 'Gebruikers' },
  { href: '/beheer/taken', label: 'Taken' },
  { href: '/beheer/inlezen', label: 'Inlezen' },
  { href: '/beheer/quarantaine', label: 'Quarantaine' },
  { href: '/beheer/audit', label: 'Auditlog' },
  { href: '/instellingen', label: 'Instellingen' },
] as const;

export function Layout(props: LayoutProps) {
  const s = props.session && !props.session.pendingSecondFactor ? props.session : undefined;
  const tabs = s ? (s.user.role === 'operator' ? OPERATOR_TABS : USER_TABS) : [];
  return (
    <html lang="nl" class="utrecht-theme">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.error ? 'Fout: ' : ''}${props.title} — Ketendata iWmo en iJw`}</title>
        <link rel="stylesheet" href="/assets/tokens.css" />
        <link rel="stylesheet" href="/assets/utrecht.css" />
        <link rel="stylesheet" href="/assets/portal.css" />
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
      </head>
      <body class="utrecht-document utrecht-page-body">
        <a class="utrecht-skip-link utrecht-skip-link--visible-on-focus" href="#inhoud">
          Direct naar de inhoud
        </a>
        <header class="kd-header utrecht-page-header">
          <a class="kd-brand" href="/">
            Ketendata iWmo en iJw{props.environmentLabel ? ` (${props.environmentLabel})` : ''}
          </a>
          {s ? (
            <div class="kd-user">
              {/* An operator has no organisation: "Beheerder (beheer)", not "Beheerder — beheerder". */}
              <span class="kd-user__name">
                {s.user.role === 'operator'
                  ? `${s.user.displayName} (beheer)`
                  : `${s.user.displayName} — organisatie ${organisationLabel(s)}`}
              </span>
              <form method="post" action="/uitloggen" class="kd-inline">
                <input type="hidden" name={CSRF_FIELD} value={props.csrf ?? ''} />
                <button type="submit" class="utrecht-button utrecht-button--subtle">
                  Uitloggen
                </button>
              </form>
            </div>
          ) : null}
        </header>
        {tabs.length > 0 ? (
          <nav class="kd-tabs" aria-label="Hoofdmenu">
            <ul>
              {tabs.map((t) => (
                <li>
                  <a href={t.href} aria-current={props.current === t.href ? 'page' : undefined}>
                    {t.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        <main id="inhoud" class="kd-main utrecht-page-content">
          <h1 class="utrecht-heading-1">{props.title}</h1>
          {props.children}
        </main>
        <footer class="kd-footer utrecht-page-footer">
          <p class="utrecht-paragraph utrecht-paragraph--small">
            Ketendata iWmo en iJw — gepseudonimiseerde berichtgegevens per organisatie. Leveringen worden 60
            dagen bewaard.
          </p>
        </footer>
      </body>
    </html>
  );
}

/**
 * "Jeugdzorgregio Zuid-Oost Utrecht (R001)": the name a person knows, with the code the files carry. An
 * operator belongs to no organisation: said so, instead of the role shown as if it were one.
 */
export function organisationLabel(s: ActiveSession): string {
  if (s.organisation) return `${s.organisation.name} (${s.organisation.code})`;
  return s.user.organisationCode ?? 'beheer (geen organisatie)';
}

/**
 * An organisation that is not active receives nothing: said before anything else, as "not yet" for one
 * registered but never activated, as "no more" for one deactivated.
 */
export function InactiveNotice(props: { session: ActiveSession }) {
  const org = props.session.organisation;
  if (!org || org.active) return null;
  return org.wasActivated ? (
    <Alert kind="warning">
      Uw organisatie is niet meer actief; er worden geen nieuwe leveringen gemaakt. Leveringen die al
      klaarstaan, kunt u nog downloaden tot ze na 60 dagen automatisch worden verwijderd. Neem contact op met
      de beheerder.
    </Alert>
  ) : (
    <Alert kind="warning">
      Uw organisatie is nog niet geactiveerd; u ontvangt nog geen leveringen. Neem contact op met de
      beheerder.
    </Alert>
  );
}

export function Alert(props: { kind: 'ok' | 'error' | 'info' | 'warning'; children?: Child }) {
  return (
    <div
      class={`utrecht-alert utrecht-alert--${props.kind}`}
      role={props.kind === 'error' ? 'alert' : 'status'}
    >
      <p class="utrecht-paragraph">{props.children}</p>
    </div>
  );
}

/**
 * A refused form: what is wrong is said at the field it is about (`Field`'s `error`), and summed up at the top
 * of the page, naming the form (a page can hold several password fields) and linking to that field.
 */
export interface FormError {
  /** The form as its heading or button names it: "Wachtwoord wijzigen". */
  readonly form: string;
  /** A sentence, shown at the field: "Uw huidige wachtwoord is onjuist." */
  readonly text: string;
  /** The id of the field it is about; none when it is about the form as a whole. */
  readonly field?: string | undefined;
  /** For support, after the summary only: "accounts.weak_password". */
  readonly code?: string | undefined;
}

/** The error of `field`, if the form's error is about it. */
export const errorAt = (error: FormError | undefined, field: string): string | undefined =>
  error?.field === field ? error.text : undefined;

/** "Uw …" after "Formulier: " reads "uw …"; an abbreviation ("API-token", "TOTP") keeps its capitals. */
const afterColon = (text: string): string => {
  const word = /^\p{Lu}\p{L}*/u.exec(text)?.[0];
  return word && !/\p{Lu}/u.test(word.slice(1)) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
};

/** The summary of a refused form at the top of the page: the form, what is wrong, a link to the field. */
export function ErrorSummary(props: { error: FormError }) {
  const e = props.error;
  const said = `${e.form}: ${afterColon(e.text)}`;
  return (
    <Alert kind="error">
      {e.field ? (
        <a class="utrecht-link" href={`#${e.field}`}>
          {said}
        </a>
      ) : (
        said
      )}
      {e.code ? ` (foutcode ${e.code})` : ''}
    </Alert>
  );
}

/**
 * A column header; `num` right-aligns a column of numbers; `wideOnly` hides a less needed column on a narrow
 * screen (its cells then carry `kd-wide-only` too).
 */
export function Th(props: { children?: Child; num?: boolean; wideOnly?: boolean }) {
  return (
    <th
      class={`utrecht-table__header-cell${props.num ? ' kd-num' : ''}${props.wideOnly ? ' kd-wide-only' : ''}`}
      scope="col"
    >
      {props.children}
    </th>
  );
}

/**
 * A table that scrolls sideways on a narrow screen (WCAG 1.4.10 reflow) instead of widening the page. The
 * scroll area can take keyboard focus (2.1.1) and is named by the caption. `head`: the column headers.
 */
export function ScrollTable(props: { id: string; caption: Child; head: Child; children?: Child }) {
  const captionId = `${props.id}-bijschrift`;
  return (
    <section
      class="utrecht-table-container utrecht-table-container--overflow-inline"
      tabindex={0}
      aria-labelledby={captionId}
    >
      <table class="utrecht-table utrecht-table--html-table">
        <caption class="utrecht-table__caption" id={captionId}>
          {props.caption}
        </caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">{props.head}</tr>
        </thead>
        <tbody class="utrecht-table__body">{props.children}</tbody>
      </table>
    </section>
  );
}

/**
 * A question before an action that cannot be undone with one click (revoking a token, blocking a user): the
 * action as a POST form with its CSRF token, and a way back. `id` is the fragment the asking link jumps to.
 */
export function Confirm(props: {
  readonly id: string;
  readonly level: 2 | 3;
  readonly title: string;
  readonly question: Child;
  readonly action: string;
  readonly csrf: string;
  readonly confirm: string;
  readonly cancel: string;
  /** Hidden fields; a list gives the field once per value (the ids of a selection). */
  readonly fields?: Readonly<Record<string, string | readonly string[]>>;
  /** Shown below the question: what the action concerns, such as the files it deletes. */
  readonly children?: Child;
}) {
  const headingId = `${props.id}-kop`;
  return (
    <section id={props.id} class="kd-confirm" aria-labelledby={headingId}>
      {props.level === 2 ? (
        <h2 class="utrecht-heading-2" id={headingId}>
          {props.title}
        </h2>
      ) : (
        <h3 class="utrecht-heading-3" id={headingId}>
          {props.title}
        </h3>
      )}
      <p class="utrecht-paragraph">{props.question}</p>
      {props.children}
      <form method="post" action={props.action} class="kd-actions">
        <CsrfField token={props.csrf} />
        {Object.entries(props.fields ?? {}).flatMap(([name, value]) =>
          (typeof value === 'string' ? [value] : value).map((v) => (
            <input type="hidden" name={name} value={v} />
          )),
        )}
        <button type="submit" class="utrecht-button utrecht-button--primary-action">
          {props.confirm}
        </button>{' '}
        <a class="utrecht-link" href={props.cancel}>
          Annuleren
        </a>
      </form>
    </section>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}

export function Field(props: {
  id: string;
  label: string;
  name: string;
  type?: string;
  autocomplete?: string;
  required?: boolean;
  value?: string;
  description?: string;
  inputmode?: 'numeric' | 'text';
  /** What is wrong with what was typed: said before the input and tied to it (WCAG 3.3.1, 4.1.2). */
  error?: string | undefined;
}) {
  const descId = props.description ? `${props.id}-uitleg` : undefined;
  const errorId = props.error ? `${props.id}-fout` : undefined;
  const describedBy = [descId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div
      class={`utrecht-form-field utrecht-form-field--distanced${props.error ? ' utrecht-form-field--invalid' : ''}`}
    >
      <div class="utrecht-form-field__label">
        <label class="utrecht-form-label" for={props.id}>
          {props.label}
        </label>
      </div>
      {props.description ? (
        <div class="utrecht-form-field-description" id={descId}>
          {props.description}
        </div>
      ) : null}
      {props.error ? <FieldErrorText id={errorId!} text={props.error} /> : null}
      <div class="utrecht-form-field__input">
        <input
          class={`utrecht-textbox utrecht-textbox--html-input${props.error ? ' utrecht-textbox--invalid' : ''}`}
          id={props.id}
          name={props.name}
          type={props.type ?? 'text'}
          autocomplete={props.autocomplete}
          required={props.required}
          value={props.value}
          inputmode={props.inputmode}
          aria-invalid={props.error ? 'true' : undefined}
          aria-describedby={describedBy}
        />
      </div>
    </div>
  );
}

/** A field's error text, for `Field` and the few fields built by hand (their input gets `aria-invalid`). */
export function FieldErrorText(props: { id: string; text: string }) {
  return (
    <p id={props.id} class="utrecht-form-field-description utrecht-form-field-description--invalid">
      Fout: {props.text}
    </p>
  );
}

/**
 * A path of this portal to send the browser to (after login, back from an error): only a path of our own
 * origin, "/…" with neither "//" nor a backslash anywhere (browsers read "/\host" as "//host") nor control
 * characters; anything else gives undefined, so it can never become a redirect to another site.
 */
export function localPath(value: string | undefined | null): string | undefined {
  if (!value || value.length > 2000) return undefined;
  if (!value.startsWith('/') || value.includes('//') || value.includes('\\')) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) return undefined;
  // The API and the CSS are no pages to return to.
  if (/^\/(api|assets)(\/|\?|$)/.test(value)) return undefined;
  return value;
}

/** The CSRF refusal: what happened and a way back to the page of the form. */
export function FormExpired(props: { session?: ActiveSession | undefined; back: string }) {
  return (
    <Layout title="Formulier verlopen" session={props.session} csrf={props.session?.csrfToken}>
      <p class="utrecht-paragraph">
        Het formulier is verlopen of ongeldig; er is niets opgeslagen.{' '}
        <a class="utrecht-link" href={props.back}>
          Terug naar het formulier
        </a>{' '}
        en probeer het opnieuw.
      </p>
    </Layout>
  );
}
