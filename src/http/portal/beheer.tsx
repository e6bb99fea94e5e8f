import type { Context } from 'hono';
import { Hono } from 'hono';
import { nextWeeklySlot } from '../../domain/delivery-week.js';
import { listUsers } from '../../store/users.js';
import {
  confirmPassword,
  createUser,
  disableUser,
  enableUser,
  resetPassword,
  resetSecondFactor,
} from '../../usecases/accounts.js';
import { AccountError } from '../../usecases/accounts-errors.js';
import { conflictingMessages } from '../../usecases/conflicts.js';
import { keptMessage, RETRY_RUN } from '../../usecases/quarantine.js';
import type { IngestRunView } from '../deps.js';
import type { AppEnv } from '../env.js';
import { OneTimeFlash } from '../flash.js';
import { formatCount, formatDateTime, formatDay, formatTime } from '../format.js';
import {
  Alert,
  Confirm,
  CsrfField,
  ErrorSummary,
  errorAt,
  Field,
  FieldErrorText,
  type FormError,
  Layout,
  ScrollTable,
  Th,
  TOO_MANY_ATTEMPTS,
} from './layout.js';
import { page } from './render.js';

/** A corrected message is one message: a few hundred kB at most. */
export const MAX_CORRECTED_BYTES = 10 * 1024 * 1024;
/** Where a corrected message is uploaded: the one form that may be that large. */
export const CORRECTED_UPLOAD_PATH = '/beheer/quarantaine/vervangen';

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const codes = (v: string): string[] =>
  v
    .split(/[\s,;]+/)
    .map((x) => x.trim())
    .filter(Boolean);

type C = Context<AppEnv>;
/** The ticked rows of a form: none, one or several `ids` values. */
function selectedIds(value: unknown): number[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.map(Number).filter(Number.isSafeInteger);
}

type Notice = { kind: 'ok' | 'error' | 'info'; text: string } | undefined;

/** How long the message of a done action waits, server-side, for the page the POST redirects to. */
export const NOTICE_TTL_MS = 5 * 60 * 1000;

const shell = (
  c: C,
  title: string,
  current: string,
  body: unknown,
  notice?: Notice | FormError,
  status: 200 | 400 | 404 = 200,
) => {
  const s = c.var.session!;
  return page(
    c,
    <Layout
      title={title}
      session={s}
      csrf={s.csrfToken}
      current={current}
      environmentLabel={c.var.deps.options.environmentLabel}
      error={notice !== undefined && ('form' in notice || notice.kind === 'error')}
    >
      {notice && 'form' in notice ? (
        <ErrorSummary error={notice} />
      ) : notice ? (
        <Alert kind={notice.kind}>{notice.text}</Alert>
      ) : null}
      {body as never}
    </Layout>,
    status,
  );
};

/** What a quarantine reason code means, in Dutch; the validator's own (English) message follows it. */
const QUARANTINE_REASON_TEXT: Record<string, string> = {
  'ingest.not_well_formed': 'Geen geldige XML',
  'ingest.doctype_forbidden': 'Bevat een DOCTYPE, dat is niet toegestaan',
  'ingest.empty': 'Leeg bestand',
  'ingest.unknown_type': 'Geen bericht van iJw of iWmo release 3.2',
  'ingest.xsd_invalid': 'Voldoet niet aan het XSD-schema van het bericht',
  'ingest.no_gemeente': 'De gemeente van het bericht is niet te bepalen',
  'ingest.file_missing': 'Het bestand uit het manifest ontbreekt',
  'ingest.manifest_invalid': 'De regel in het manifest is onbruikbaar',
  'ingest.too_large': 'Te groot voor één bericht (meer dan 20 MB)',
  'ingest.not_a_file': 'Geen gewoon bestand (bijvoorbeeld een pipe of apparaat); niet gelezen',
  'ingest.unreadable': 'Het bestand of de map kan niet worden gelezen',
  'ingest.link_refused': 'Een link die buiten de aangeleverde map wijst of nergens heen; niet gevolgd',
  'ingest.entry_refused': 'Een bestand in de ZIP met een pad buiten de ZIP (../ of absoluut); niet gelezen',
  'ingest.file_ambiguous': 'De ZIP bevat meer bestanden met deze naam; niet te zeggen welk bedoeld is',
  'ingest.not_in_manifest': 'Het manifest noemt dit bestand niet; niet gelezen',
  'ingest.nested_zip': 'Een ZIP binnen de aanlevering; niet gelezen: lees die ZIP apart in',
};

/** The audit log's actions as the operator reads them (the code stays beside it, for searching). */
/** Handled quarantine items shown under the open ones. */
const HANDLED_SHOWN = 50;

/** Rows per page of the audit log. */
const AUDIT_PAGE = 200;

/** The audit log's filter by kind: an action prefix and what it is in Dutch. */
const AUDIT_KINDS: readonly (readonly [prefix: string, label: string])[] = [
  ['auth.', 'Inloggen en uitloggen'],
  ['delivery.', 'Leveringen: downloads, verwijderingen, mislukte'],
  ['organisation.', 'Organisaties'],
  ['user.', 'Gebruikers'],
  ['settings.', 'Instellingen en API-tokens'],
  ['quarantine.', 'Quarantaine'],
];

const AUDIT_ACTION_TEXT: Record<string, string> = {
  'auth.login': 'Ingelogd',
  'auth.password_ok': 'Wachtwoord goed, tweede factor gevraagd',
  'auth.login_failed': 'Inloggen mislukt',
  'auth.logout': 'Uitgelogd',
  'delivery.make': 'Levering gemaakt',
  'delivery.fail': 'Levering mislukt (wordt later opnieuw geprobeerd)',
  'delivery.download': 'Levering gedownload',
  'delivery.delete': 'Levering verwijderd',
  'delivery.expire': 'Levering na 60 dagen verwijderd',
  'organisation.add': 'Organisatie geregistreerd',
  'organisation.activate': 'Organisatie geactiveerd',
  'organisation.deactivate': 'Organisatie gedeactiveerd (geen nieuwe leveringen meer)',
  'organisation.members': 'Gemeenten van hoofdorganisatie gewijzigd',
  'organisation.former': 'Voormalige gemeenten gewijzigd',
  'organisation.request_history': 'Historie aangevraagd',
  'organisation.personal_data': 'Keuze persoonsgegevens gewijzigd',
  'organisation.cancel_history': 'Aanvraag historie ingetrokken',
  'quarantine.retry': 'Quarantaine opnieuw geprobeerd',
  'quarantine.replace': 'Quarantaine vervangen door gecorrigeerd bericht',
  'quarantine.dismiss': 'Quarantaine afgehandeld zonder opslaan',
  'quarantine.export': 'Bericht uit quarantaine als bestand opgeslagen (persoonsgegevens leesbaar)',
  'settings.change': 'Instelling gewijzigd',
  'settings.token_create': 'API-token aangemaakt',
  'settings.token_revoke': 'API-token ingetrokken',
  'user.disable': 'Account geblokkeerd',
  'user.enable': 'Account gedeblokkeerd',
  'user.reset_password': 'Wachtwoord opnieuw ingesteld',
  'user.add': 'Gebruiker toegevoegd',
  'user.reset_second_factor': 'Tweede factor uitgezet',
};

/** The keys the use cases and pages put in an audit detail, in Dutch; an unknown key is shown as it is. */
const AUDIT_DETAIL_KEY: Record<string, string> = {
  kind: 'soort',
  slot: 'moment',
  madeAt: 'gemaakt',
  via: 'via',
  id: 'levering',
  file: 'bestand',
  tokenId: 'token',
  what: 'wat',
  note: 'toelichting',
  email: 'e-mail',
  user: 'gebruiker',
  organisation: 'organisatie',
  before: 'voor',
  after: 'na',
  members: 'gemeenten',
  messages: 'berichten',
  reason: 'reden',
  ids: 'quarantainenummers',
  tried: 'geprobeerd',
  resolved: 'opgelost',
  personalData: 'persoonsgegevens',
  historyWithdrawn: 'aanvraag historie ingetrokken, aangevraagd op',
  deactivatedAt: 'was gedeactiveerd op',
};

/** Values with a Dutch wording, per key; any other value is shown as it is. */
const AUDIT_DETAIL_VALUE: Record<string, Record<string, string>> = {
  kind: { weekly: 'wekelijks', history: 'historie' },
  via: {
    bundle: 'alle nieuwe bestanden',
    single: 'één bestand',
    range: 'hervat (deel van een bestand)',
    cli: 'opdrachtregel',
  },
  what: {
    password: 'wachtwoord gewijzigd',
    totp_on: 'tweede factor aangezet',
    totp_off: 'tweede factor uitgezet',
    // Entries written before these actions had their own audit line.
    user_add: 'gebruiker toegevoegd',
    organisation_add: 'organisatie geregistreerd',
    organisation_activate: 'organisatie geactiveerd',
    organisation_members: 'gemeenten gewijzigd',
  },
  reason: {
    invalid: 'onjuiste gegevens',
    disabled: 'juist wachtwoord, maar het account is geblokkeerd',
    throttled: 'te veel pogingen',
    totp_invalid: 'onjuiste inlogcode',
    totp_used: 'inlogcode al gebruikt',
    totp_throttled: 'te veel inlogcodes geprobeerd',
    totp_key_unknown: 'tweede factor niet te lezen (geheim gewijzigd, raw-rekey nog niet gedraaid)',
  },
  personalData: { 'leave-out': 'leeg laten', deliver: 'leveren' },
};

/** `map[key]` if the map has it as its own key (not `constructor` and the like). */
const own = (map: Record<string, string>, key: string): string | undefined =>
  Object.hasOwn(map, key) ? map[key] : undefined;

/** An ISO-8601 moment (`2026-11-29T05:00:00.000Z`), which the page shows in Dutch time. */
const ISO_MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

function auditValue(key: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.map((x) => auditValue(key, x)).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  const text = String(v);
  if (typeof v === 'string' && ISO_MOMENT.test(text) && !Number.isNaN(Date.parse(text)))
    return formatDateTime(text);
  const values = Object.hasOwn(AUDIT_DETAIL_VALUE, key) ? AUDIT_DETAIL_VALUE[key] : undefined;
  return (values && own(values, text)) ?? text;
}

/** A detail object as `sleutel: waarde` pairs in Dutch instead of raw JSON; moments in Dutch time. */
export function auditDetail(detail: string | null | undefined): string {
  if (!detail) return '';
  try {
    const o = JSON.parse(detail) as unknown;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return detail;
    return Object.entries(o as Record<string, unknown>)
      .map(([k, v]) => `${own(AUDIT_DETAIL_KEY, k) ?? k}: ${auditValue(k, v)}`)
      .join('; ');
  } catch {
    return detail;
  }
}

/** Who did it, as the Wie column says it: the scheduled jobs are `system`. */
const auditActor = (actor: string): string => (actor === 'system' ? 'systeem' : actor);

/** What the organisation forms tell the operator when a use case refuses. */
const ORGANISATION_ERROR_TEXT: Record<string, string> = {
  'organisation.invalid_code':
    'een gemeente wordt geregistreerd met haar CBS-code van 4 cijfers uit de codelijst (bijvoorbeeld 0363); een hoofdorganisatie met een eigen code van 2 tot 32 letters, cijfers, - of _ (geen 4 cijfers) en haar gemeenten.',
  'organisation.invalid_name': 'vul een naam in.',
  'organisation.invalid_members':
    'de gemeenten moeten CBS-codes van 4 cijfers zijn, gescheiden door komma’s: van een gemeente uit de codelijst (indeling 2026) of, bij het wijzigen van de gemeenten van een hoofdorganisatie, van een voormalige gemeente die daar niet meer in staat (bijvoorbeeld Weesp, 0457) en waarvan al berichten zijn ingelezen.',
  'organisation.not_head': 'alleen een hoofdorganisatie heeft gemeenten.',
  'organisation.exists': 'deze code is al geregistreerd (ook in andere hoofdletters telt als dezelfde).',
  'organisation.already_active': 'deze organisatie is al actief.',
  'organisation.not_active': 'deze organisatie is niet actief; er is niets te deactiveren.',
  'organisation.not_found': 'deze organisatie is niet geregistreerd.',
};

/** The field of "Organisatie registreren" that a refusal is about; the others are about the whole form. */
const REGISTER_ERROR_FIELD: Record<string, string> = {
  'organisation.invalid_code': 'org-code',
  'organisation.exists': 'org-code',
  'organisation.invalid_name': 'org-naam',
  'organisation.invalid_members': 'org-leden',
};

/** What was typed in "Organisatie registreren", shown again with its refusal. */
interface TypedOrganisation {
  readonly code: string;
  readonly name: string;
  readonly members: string;
  readonly leaveOut: boolean;
}

/** What the organisation page shows again of a refused form: the registration, or one members field. */
interface TypedOnOrganisations {
  readonly register?: TypedOrganisation | undefined;
  readonly members?: { readonly code: string; readonly value: string } | undefined;
}

/** An `ORGANISATION_ERROR_TEXT` (it follows "Niet gelukt: ") as a sentence of its own, for a field. */
const sentence = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * A temporary password for someone, and the operator's own password, asked again: whoever has only the
 * operator's session (a laptop left open) does not get into anyone's account with it. The temporary password
 * is a visible text field: the operator passes it on by another channel (telephone), so must read it. Not
 * `Field`: that has no `spellcheck` or `autocapitalize`, and a phone's capital first letter would change it.
 */
function PasswordFields(p: { prefix: string; label: string; error: FormError | undefined }) {
  const id = `${p.prefix}-ww`;
  const error = errorAt(p.error, id);
  return (
    <>
      <div
        class={`utrecht-form-field utrecht-form-field--distanced${error ? ' utrecht-form-field--invalid' : ''}`}
      >
        <div class="utrecht-form-field__label">
          <label class="utrecht-form-label" for={id}>
            {p.label}
          </label>
        </div>
        <div class="utrecht-form-field-description" id={`${id}-uitleg`}>
          Minstens 12 tekens. Zichtbaar, zodat u het kunt doorgeven. De gebruiker kiest bij het eerste
          inloggen een eigen wachtwoord.
        </div>
        {error ? <FieldErrorText id={`${id}-fout`} text={error} /> : null}
        <div class="utrecht-form-field__input">
          <input
            class={`utrecht-textbox utrecht-textbox--html-input${error ? ' utrecht-textbox--invalid' : ''}`}
            id={id}
            name="password"
            type="text"
            autocomplete="off"
            autocapitalize="off"
            spellcheck={false}
            required
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? `${id}-uitleg ${id}-fout` : `${id}-uitleg`}
          />
        </div>
      </div>
      <Field
        id={`${p.prefix}-eigen`}
        name="own_password"
        label="Uw eigen wachtwoord"
        type="password"
        autocomplete="current-password"
        required
        description="Ter bevestiging dat u het bent."
        error={errorAt(p.error, `${p.prefix}-eigen`)}
      />
    </>
  );
}

/**
 * A refused user form ("Gebruiker toevoegen", prefix "u"; "Wachtwoord opnieuw instellen", "w"): what is wrong,
 * at the field it is about. The page has two "Uw eigen wachtwoord" fields: the summary names the form.
 */
function userFormError(form: string, prefix: 'u' | 'w', code: string, withCode = false): FormError {
  const at = (text: string, field?: string): FormError => ({
    form,
    text,
    field: field && `${prefix}-${field}`,
    code: withCode ? code : undefined,
  });
  switch (code) {
    case 'accounts.wrong_password':
      return at('Uw eigen wachtwoord is onjuist.', 'eigen');
    case 'accounts.throttled':
      return at(TOO_MANY_ATTEMPTS, 'eigen');
    case 'accounts.weak_password':
      return at('Het wachtwoord moet minstens 12 tekens hebben.', 'ww');
    case 'accounts.email_taken':
      return at('Dit e-mailadres heeft al een account.', 'email');
    case 'accounts.invalid_email':
      return at('Vul een geldig e-mailadres in.', 'email');
    case 'users.not_found':
      return at('Deze gebruiker bestaat niet.', 'email');
    case 'users.cannot_reset_self':
      return at('Wijzig uw eigen wachtwoord onder Instellingen, met uw huidige wachtwoord.', 'email');
    case 'organisation.not_found':
      return at('Deze organisatie is niet geregistreerd.', 'org');
    default:
      return at('Niet gelukt.');
  }
}

/** A head organisation's members field in its table row (label before it, button after: not `Field`). */
function MembersInput(p: { id: string; value: string; error: string | undefined }) {
  return (
    <>
      {p.error ? <FieldErrorText id={`${p.id}-fout`} text={p.error} /> : null}
      <input
        class={`utrecht-textbox utrecht-textbox--html-input${p.error ? ' utrecht-textbox--invalid' : ''}`}
        id={p.id}
        name="members"
        value={p.value}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={p.error ? `${p.id}-fout` : undefined}
      />
    </>
  );
}

/** Throws `accounts.wrong_password` or `accounts.throttled` unless the form holds the operator's own password. */
async function confirmOwnPassword(c: C, body: Record<string, unknown>): Promise<void> {
  const own = typeof body.own_password === 'string' ? body.own_password : '';
  await confirmPassword(c.var.deps.store.db, c.var.session!.user.id, own, c.var.deps.clock());
}

/** A file as its source names it, and below it what it was read from (the folder, manifest or ZIP; `http:…`). */
function SourceCell(p: { source: string; ingestSource: string | null }) {
  return (
    <td class="utrecht-table__cell kd-wrap">
      {p.source}
      {p.ingestSource !== null && (
        <span class="utrecht-paragraph--small kd-block">ingelezen uit {p.ingestSource}</span>
      )}
    </td>
  );
}

/** One button acting on one user: a form of its own, named after the user for screen readers. */
function UserAction(p: { action: string; label: string; email: string; csrf: string }) {
  return (
    <form method="post" action={p.action} class="kd-inline">
      <CsrfField token={p.csrf} />
      <input type="hidden" name="email" value={p.email} />
      <button
        type="submit"
        class="utrecht-button utrecht-button--secondary-action"
        aria-label={`${p.label} ${p.email}`}
      >
        {p.label}
      </button>
    </form>
  );
}

/** Conflicting versions the Inlezen page shows; `ketendata conflicts` lists them all. */
const MAX_CONFLICT_ROWS = 500;

/**
 * A run without `finishedAt` that wrote nothing for this long is taken as interrupted (killed, a restart): a
 * batch of 1000 exchanges takes seconds, so a run going on shows a sign of life well within it.
 */
const RUN_QUIET_MS = 15 * 60_000;

/** The Klaar cell: when a run finished, or whether one that did not is going on or was interrupted. */
function runEnd(r: IngestRunView, now: Date): { readonly text: string; readonly interrupted: boolean } {
  // The live feed's days are sums over many requests: their end is the last one's.
  if (r.finishedAt !== null || r.requests !== undefined)
    return { text: formatDateTime(r.finishedAt), interrupted: false };
  const last = r.lastBatchAt ?? r.startedAt;
  if (now.getTime() - Date.parse(last) < RUN_QUIET_MS)
    return {
      text: r.lastBatchAt ? `bezig (laatste batch ${formatTime(r.lastBatchAt)})` : 'bezig',
      interrupted: false,
    };
  return { text: `niet afgerond (laatste activiteit ${formatDateTime(last)})`, interrupted: true };
}

/** Operator pages: organisations, users, job runs, ingest runs and conflicts, quarantine. */
export function beheerRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // What a done action says, between its POST and the page it redirects to (Post/Redirect/Get): the text
  // names users and counts, so it goes in no URL. Per session and page, in the store: the page may be served
  // by another instance than the POST (src/http/flash.ts).
  const notices = new OneTimeFlash<NonNullable<Notice>>(NOTICE_TTL_MS, 'beheer-notice');
  const noticeKey = (c: C, path: string) => `${c.var.session!.id}:${path}`;
  /** Keeps `notice` for the next showing of `path` in this session, and redirects there (303: a GET). */
  const done = async (
    c: C,
    path: '/beheer/gebruikers' | '/beheer/quarantaine',
    notice: NonNullable<Notice>,
  ) => {
    await notices.put(c.var.deps, noticeKey(c, path), notice, c.var.deps.clock());
    return c.redirect(path, 303);
  };
  /** The message kept for `path`, once. Hono answers HEAD with the GET handler too: only a GET uses it up. */
  const takeNotice = async (c: C, path: string): Promise<Notice> =>
    c.req.method === 'GET' ? notices.take(c.var.deps, noticeKey(c, path), c.var.deps.clock()) : undefined;

  const organisationsPage = async (
    c: C,
    notice?: Notice | FormError,
    status: 200 | 400 = 200,
    typed: TypedOnOrganisations = {},
  ) => {
    const s = c.var.session!;
    const orgs = await c.var.deps.operator.organisations();
    const overview = await c.var.deps.operator.deliveryOverview(c.var.deps.clock());
    const error = notice && 'form' in notice ? notice : undefined;
    const adding = typed.register;
    // Deactivating goes through a question first, as blocking a user does: one stray click would stop the
    // deliveries of a whole organisation. Only an active organisation is asked about.
    const deactivating = orgs.find((o) => o.active && o.code === c.req.query('deactiveren'));
    // Personal data in clear again is asked too: one click would send names and addresses from the next weekly.
    const delivering = orgs.find(
      (o) => o.leavesOutPersonalData && o.code === c.req.query('persoonsgegevens'),
    );
    return shell(
      c,
      'Organisaties',
      '/beheer',
      <>
        {delivering ? (
          <Confirm
            id="persoonsgegevens-bevestigen"
            level={2}
            title="Persoonsgegevens weer leveren"
            question={`Weet u zeker dat ${delivering.name} (${delivering.code}) de persoonsgegevens weer krijgt?`}
            action={`/beheer/organisaties/${delivering.code}/persoonsgegevens`}
            csrf={s.csrfToken}
            fields={{ keuze: 'leveren', bevestigd: 'ja' }}
            confirm="Ja, weer leveren"
            cancel="/beheer"
          >
            <p class="utrecht-paragraph">
              Vanaf de volgende levering bevatten de bestanden weer namen, adressen, telefoonnummers,
              e-mailadressen, vrije tekst, nummers van relaties, volledige geboortedata en postcodes. Doe dit
              alleen op verzoek van de organisatie zelf. Leveringen die al zijn gemaakt, blijven zoals ze
              zijn.
            </p>
          </Confirm>
        ) : null}
        {deactivating ? (
          <Confirm
            id="deactiveren-bevestigen"
            level={2}
            title="Organisatie deactiveren"
            question={`Weet u zeker dat u ${deactivating.name} (${deactivating.code}) wilt deactiveren? Er worden dan geen nieuwe leveringen meer voor deze organisatie gemaakt.`}
            action={`/beheer/organisaties/${deactivating.code}/deactiveren`}
            csrf={s.csrfToken}
            confirm="Ja, deactiveren"
            cancel="/beheer"
          >
            <p class="utrecht-paragraph">
              Leveringen die al zijn gemaakt, blijven te downloaden tot ze na 60 dagen automatisch worden
              verwijderd. Gebruikers en API-tokens van de organisatie blijven werken: blokkeer of trek ze
              apart in als dat nodig is.
              {deactivating.historyRequestedAt
                ? ' De aanvraag voor een totaalbestand die nog openstaat, wordt ingetrokken.'
                : ''}{' '}
              Activeert u de organisatie later opnieuw, dan bevat haar volgende wekelijkse levering alles wat
              sinds haar laatste levering is binnengekomen.
            </p>
          </Confirm>
        ) : null}
        <ScrollTable
          id="organisaties"
          caption="Geregistreerde organisaties"
          head={
            <>
              <Th>Code</Th>
              <Th>Naam</Th>
              <Th>Soort</Th>
              <Th>Gemeenten</Th>
              <Th>Status</Th>
              <Th>Laatste levering</Th>
              <Th>Historie aangevraagd</Th>
              <Th>Persoonsgegevens</Th>
              <Th>Acties</Th>
            </>
          }
        >
          {orgs.map((o) => (
            <tr class="utrecht-table__row">
              <td class="utrecht-table__cell">{o.code}</td>
              <td class="utrecht-table__cell">{o.name}</td>
              <td class="utrecht-table__cell">{o.kind === 'gemeente' ? 'Gemeente' : 'Hoofdorganisatie'}</td>
              <td class="utrecht-table__cell">
                {o.kind === 'gemeente' ? (
                  o.members.join(', ')
                ) : (
                  <>
                    <form method="post" action={`/beheer/organisaties/${o.code}/gemeenten`} class="kd-inline">
                      <CsrfField token={s.csrfToken} />
                      <label class="utrecht-form-label" for={`leden-${o.code}`}>
                        Gemeenten van {o.name}
                      </label>
                      <MembersInput
                        id={`leden-${o.code}`}
                        value={typed.members?.code === o.code ? typed.members.value : o.members.join(', ')}
                        error={errorAt(error, `leden-${o.code}`)}
                      />
                      <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                        Wijzigen
                      </button>
                    </form>
                    {o.catchUp.length > 0 && (
                      <p class="utrecht-paragraph">
                        Nieuw: {o.catchUp.join(', ')}. De volgende wekelijkse levering bevat alle gegevens van{' '}
                        {o.catchUp.length === 1 ? 'deze gemeente' : 'deze gemeenten'} tot nu toe.
                      </p>
                    )}
                  </>
                )}
              </td>
              <td class="utrecht-table__cell">
                {o.active
                  ? 'Actief'
                  : o.deactivatedAt
                    ? `Gedeactiveerd sinds ${formatDateTime(o.deactivatedAt)}`
                    : 'Niet actief'}
              </td>
              <td class="utrecht-table__cell">
                {/* After a Sunday: did everyone get one, and is it being fetched? */}
                {formatDateTime(overview.get(o.code)?.lastMadeAt)}
                {(overview.get(o.code)?.notDownloaded ?? 0) > 0 ? (
                  <span class="utrecht-paragraph--small kd-block">
                    {overview.get(o.code)?.notDownloaded} nog niet gedownload
                  </span>
                ) : null}
              </td>
              <td class="utrecht-table__cell">{formatDateTime(o.historyRequestedAt)}</td>
              <td class="utrecht-table__cell">
                <form
                  method="post"
                  action={`/beheer/organisaties/${o.code}/persoonsgegevens`}
                  class="kd-inline"
                >
                  <CsrfField token={s.csrfToken} />
                  <input
                    type="hidden"
                    name="keuze"
                    value={o.leavesOutPersonalData ? 'leveren' : 'weglaten'}
                  />
                  {o.leavesOutPersonalData ? 'Leeg gelaten' : 'Geleverd'}{' '}
                  <button
                    type="submit"
                    class="utrecht-button utrecht-button--secondary-action"
                    aria-label={`${o.leavesOutPersonalData ? 'Weer leveren' : 'Leeg laten'}: persoonsgegevens van ${o.name}`}
                  >
                    {o.leavesOutPersonalData ? 'Weer leveren' : 'Leeg laten'}
                  </button>
                </form>
              </td>
              <td class="utrecht-table__cell">
                {o.active ? (
                  <a
                    class="utrecht-link"
                    href={`/beheer?deactiveren=${encodeURIComponent(o.code)}#deactiveren-bevestigen`}
                    aria-label={`Deactiveren ${o.name}`}
                  >
                    Deactiveren
                  </a>
                ) : (
                  <form method="post" action={`/beheer/organisaties/${o.code}/activeren`} class="kd-inline">
                    <CsrfField token={s.csrfToken} />
                    <button
                      type="submit"
                      class="utrecht-button utrecht-button--secondary-action"
                      aria-label={`Activeren ${o.name}`}
                    >
                      Activeren
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </ScrollTable>
        <h2 class="utrecht-heading-2">Organisatie registreren</h2>
        <form method="post" action="/beheer/organisaties" class="kd-narrow">
          <CsrfField token={s.csrfToken} />
          <Field
            id="org-code"
            name="code"
            label="Code"
            required
            value={adding?.code}
            description="CBS-code van een gemeente (4 cijfers) of code van een hoofdorganisatie."
            error={errorAt(error, 'org-code')}
          />
          <Field
            id="org-naam"
            name="name"
            label="Naam"
            required
            value={adding?.name}
            error={errorAt(error, 'org-naam')}
          />
          <Field
            id="org-leden"
            name="members"
            label="Gemeenten (alleen hoofdorganisatie)"
            value={adding?.members}
            description="CBS-codes, gescheiden door komma's."
            error={errorAt(error, 'org-leden')}
          />
          <div class="utrecht-form-field utrecht-form-field--checkbox utrecht-form-field--distanced">
            <div class="utrecht-form-field__input">
              <input
                type="checkbox"
                class="utrecht-checkbox utrecht-checkbox--html-input"
                id="org-persoonsgegevens"
                name="persoonsgegevens"
                value="weglaten"
                checked={adding?.leaveOut}
                aria-describedby="org-persoonsgegevens-uitleg"
              />
            </div>
            <div class="utrecht-form-field__label">
              <label class="utrecht-form-label utrecht-form-label--checkbox" for="org-persoonsgegevens">
                Persoonsgegevens leeg laten
              </label>
            </div>
            <p class="utrecht-form-field-description" id="org-persoonsgegevens-uitleg">
              Namen, adressen, telefoonnummers, e-mailadressen, vrije tekst en persoonsnummers van relaties
              blijven leeg in de leveringen; van een geboortedatum blijft het jaar, van een postcode de 4
              cijfers. Het gegevenswoordenboek noemt die kolommen. Bij een hoofdorganisatie geldt haar eigen
              keuze voor de gegevens van al haar gemeenten.
            </p>
          </div>
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Registreren
          </button>
        </form>
      </>,
      notice,
      status,
    );
  };

  /** What the organisation page says after a change: `melding` names it, `code` the organisation. */
  const organisationNotice = async (c: C): Promise<Notice> => {
    const melding = c.req.query('melding');
    if (!melding) return undefined;
    const code = c.req.query('code') ?? '';
    const org = (await c.var.deps.operator.organisations()).find((o) => o.code === code);
    if (!org) return { kind: 'ok', text: 'Opgeslagen.' };
    const who = `${org.name} (${org.code})`;
    switch (melding) {
      case 'geregistreerd':
        return {
          kind: 'ok',
          text: `Organisatie ${who} is geregistreerd; activeer haar om leveringen te starten.`,
        };
      case 'geactiveerd':
      case 'heractiveerd': {
        // The contract's Sunday 06:00: "6 dec 2026, 06:00" read as "6 dec 2026 om 06:00".
        const slot = formatDateTime(nextWeeklySlot(c.var.deps.clock()).toISOString()).replace(', ', ' om ');
        return {
          kind: 'ok',
          text:
            melding === 'geactiveerd'
              ? `Organisatie ${who} is geactiveerd: de eerste wekelijkse levering komt zondag ${slot}.`
              : `Organisatie ${who} is weer geactiveerd: de volgende wekelijkse levering komt zondag ${slot} en bevat alles wat sinds haar laatste levering is binnengekomen.`,
        };
      }
      case 'gedeactiveerd':
      case 'gedeactiveerd-historie':
        return {
          kind: 'ok',
          text: `Organisatie ${who} is gedeactiveerd: er worden geen nieuwe leveringen meer voor haar gemaakt. Leveringen die al zijn gemaakt, blijven te downloaden tot ze na 60 dagen worden verwijderd.${
            melding === 'gedeactiveerd-historie'
              ? ' Haar aanvraag voor een totaalbestand is ingetrokken.'
              : ''
          }`,
        };
      case 'gemeenten':
        return { kind: 'ok', text: `De gemeenten van ${who} zijn nu: ${org.members.join(', ')}.` };
      case 'persoonsgegevens':
        return {
          kind: 'ok',
          text: org.leavesOutPersonalData
            ? `Vanaf de volgende levering zijn de persoonsgegevens in de leveringen van ${who} leeg (van een geboortedatum blijft het jaar, van een postcode de 4 cijfers). Eerdere leveringen blijven zoals ze zijn.`
            : `Vanaf de volgende levering bevatten de leveringen van ${who} weer persoonsgegevens.`,
        };
      default:
        return { kind: 'ok', text: 'Opgeslagen.' };
    }
  };

  app.get('/beheer', async (c) => organisationsPage(c, await organisationNotice(c)));

  /**
   * Runs one organisation change; the use case writes its audit line (organisation.add, .activate,
   * .members), so the page writes none of its own. `melding`: what the page after the redirect says.
   */
  const guarded = async (
    c: C,
    action: () => Promise<unknown>,
    melding: string | (() => string),
    code: string,
    /**
     * A form with fields: its refusal at the field it is about, summed up naming the form, and what was
     * typed shown again. Undefined: said at the top only (a button, or a form the page does not show).
     */
    refused?: (errorCode: string, text: string) => Promise<FormError | undefined> | FormError | undefined,
    typed?: TypedOnOrganisations,
  ) => {
    try {
      await action();
    } catch (err) {
      // Use-case errors carry a dotted code; the page says it in Dutch, with the code for support.
      const errorCode = (err as { code?: unknown }).code;
      if (typeof errorCode !== 'string') throw err;
      let text = own(ORGANISATION_ERROR_TEXT, errorCode) ?? 'Dit kan niet.';
      // Which of the typed codes: in a list of ten, 'not a municipality' alone does not say which one.
      const unknown =
        errorCode === 'organisation.invalid_members'
          ? /; not: ([^()]+?)(?: \(|$)/.exec(err instanceof Error ? err.message : '')?.[1]?.trim()
          : undefined;
      if (unknown) text = `${text.replace(/\.$/, '')}. Niet herkend: ${unknown}.`;
      const error = await refused?.(errorCode, text);
      if (error) return organisationsPage(c, error, 400, typed);
      return organisationsPage(
        c,
        { kind: 'error', text: `Niet gelukt: ${text} (foutcode ${errorCode})` },
        400,
      );
    }
    const said = typeof melding === 'string' ? melding : melding();
    return c.redirect(`/beheer?melding=${said}&code=${encodeURIComponent(code)}`, 303);
  };

  app.post('/beheer/organisaties', async (c) => {
    const b = await c.req.parseBody();
    const input = {
      code: str(b.code),
      name: str(b.name),
      members: codes(str(b.members)),
      leaveOutPersonalData: str(b.persoonsgegevens) === 'weglaten',
    };
    // A head organisation's code without its municipalities: the list is what is missing, not the code.
    if (input.code && !/^\d{4}$/.test(input.code) && input.members.length === 0) {
      return organisationsPage(
        c,
        {
          form: 'Organisatie registreren',
          text: 'Een hoofdorganisatie heeft gemeenten: vul hun CBS-codes in, gescheiden door komma’s. Een gemeente registreert u met haar CBS-code van 4 cijfers (bijvoorbeeld 0363).',
          field: 'org-leden',
          code: 'organisation.invalid_members',
        },
        400,
        {
          register: {
            code: input.code,
            name: input.name,
            members: str(b.members),
            leaveOut: input.leaveOutPersonalData,
          },
        },
      );
    }
    return guarded(
      c,
      () => c.var.deps.operator.addOrganisation(input, c.var.session!.user.email, c.var.deps.clock()),
      'geregistreerd',
      input.code,
      (errorCode, text) => ({
        form: 'Organisatie registreren',
        text: sentence(text),
        field: own(REGISTER_ERROR_FIELD, errorCode),
        code: errorCode,
      }),
      {
        register: {
          code: input.code,
          name: input.name,
          members: str(b.members),
          leaveOut: input.leaveOutPersonalData,
        },
      },
    );
  });

  app.post('/beheer/organisaties/:code/gemeenten', async (c) => {
    const code = c.req.param('code');
    const typed = str((await c.req.parseBody()).members);
    const members = codes(typed);
    return guarded(
      c,
      () => c.var.deps.operator.setMembers(code, members, c.var.session!.user.email, c.var.deps.clock()),
      'gemeenten',
      code,
      // Only the list is wrong here; a municipality or an unknown code has no such field on the page.
      async (errorCode, text) => {
        if (errorCode !== 'organisation.invalid_members') return undefined;
        const org = (await c.var.deps.operator.organisations()).find((o) => o.code === code);
        return org
          ? {
              form: `Gemeenten van ${org.name}`,
              text: sentence(text),
              field: `leden-${code}`,
              code: errorCode,
            }
          : undefined;
      },
      { members: { code, value: typed } },
    );
  });

  app.post('/beheer/organisaties/:code/persoonsgegevens', async (c) => {
    const code = c.req.param('code');
    const body = await c.req.parseBody();
    const keuze = str(body.keuze);
    if (keuze !== 'weglaten' && keuze !== 'leveren') return c.redirect('/beheer', 303);
    // Leaving out needs no question; delivering in clear again does (the row's button leads to it).
    if (keuze === 'leveren' && str(body.bevestigd) !== 'ja')
      return c.redirect(
        `/beheer?persoonsgegevens=${encodeURIComponent(code)}#persoonsgegevens-bevestigen`,
        303,
      );
    return guarded(
      c,
      () =>
        c.var.deps.operator.setPersonalData(
          code,
          keuze === 'weglaten',
          c.var.session!.user.email,
          c.var.deps.clock(),
        ),
      'persoonsgegevens',
      code,
    );
  });

  app.post('/beheer/organisaties/:code/activeren', async (c) => {
    const code = c.req.param('code');
    // Activated before and deactivated since: the page says its deliveries go on where they stopped.
    const again = (await c.var.deps.operator.organisations()).some(
      (o) => o.code === code && o.deactivatedAt !== null,
    );
    return guarded(
      c,
      () => c.var.deps.operator.activateOrganisation(code, c.var.session!.user.email, c.var.deps.clock()),
      again ? 'heractiveerd' : 'geactiveerd',
      code,
    );
  });

  app.post('/beheer/organisaties/:code/deactiveren', (c) => {
    const code = c.req.param('code');
    let withdrawn = false;
    return guarded(
      c,
      async () => {
        ({ historyWithdrawn: withdrawn } = await c.var.deps.operator.deactivateOrganisation(
          code,
          c.var.session!.user.email,
          c.var.deps.clock(),
        ));
      },
      () => (withdrawn ? 'gedeactiveerd-historie' : 'gedeactiveerd'),
      code,
    );
  });

  /**
   * `resetFor`: the e-mail the password form is filled in with (a user's link, or the form sent back);
   * `adding`: what was typed in the add form, sent back with its error (not the passwords).
   */
  const usersPage = async (
    c: C,
    notice?: Notice | FormError,
    status: 200 | 400 = 200,
    resetFor?: string,
    adding?: {
      readonly email: string;
      readonly name: string;
      readonly organisation: string;
      readonly role?: string;
    },
  ) => {
    const s = c.var.session!;
    const users = await listUsers(c.var.deps.store.db);
    const error = notice && 'form' in notice ? notice : undefined;
    // By id, so the link puts no e-mail address in the logs of a proxy on the way.
    const resetEmail = resetFor ?? users.find((u) => String(u.id) === c.req.query('wachtwoord'))?.email ?? '';
    // Blocking and switching off a second factor go through a question first: one stray click would log
    // someone out everywhere. The link names the user by id (as the password link); an e-mail address typed in
    // the address bar works too. Never one's own account.
    const asked = (param: string, when: (u: (typeof users)[number]) => boolean) => {
      const v = c.req.query(param)?.trim().toLowerCase();
      return v
        ? users.find(
            (u) => (String(u.id) === v || u.email.toLowerCase() === v) && u.id !== s.user.id && when(u),
          )
        : undefined;
    };
    const blocking = asked('blokkeren', (u) => !u.disabled_at);
    const resetting = asked('tweede-factor', (u) => !!u.totp_enabled);
    return shell(
      c,
      'Gebruikers',
      '/beheer/gebruikers',
      <>
        {resetting ? (
          <Confirm
            id="tweede-factor-bevestigen"
            level={2}
            title="Tweede factor uitzetten"
            question={`Weet u zeker dat u de tweede factor van ${resetting.email} wilt uitzetten? Inloggen kan dan met alleen het wachtwoord, en de gebruiker wordt direct overal uitgelogd.`}
            action="/beheer/gebruikers/tweede-factor"
            csrf={s.csrfToken}
            confirm="Ja, tweede factor uitzetten"
            cancel="/beheer/gebruikers"
            fields={{ email: resetting.email }}
          />
        ) : null}
        {blocking ? (
          <Confirm
            id="blokkeren-bevestigen"
            level={2}
            title="Gebruiker blokkeren"
            question={`Weet u zeker dat u ${blocking.email} wilt blokkeren? De gebruiker wordt direct overal uitgelogd.`}
            action="/beheer/gebruikers/blokkeren"
            csrf={s.csrfToken}
            confirm="Ja, blokkeren"
            cancel="/beheer/gebruikers"
            fields={{ email: blocking.email }}
          />
        ) : null}
        <ScrollTable
          id="gebruikers"
          caption="Gebruikers"
          head={
            <>
              <Th>E-mailadres</Th>
              <Th>Naam</Th>
              <Th>Rol</Th>
              <Th>Organisatie</Th>
              <Th>Tweede factor</Th>
              <Th>Aangemaakt op</Th>
              <Th>Status</Th>
              <Th>Acties</Th>
            </>
          }
        >
          {users.map((u) => (
            <tr class="utrecht-table__row">
              <td class="utrecht-table__cell">{u.email}</td>
              <td class="utrecht-table__cell">{u.display_name}</td>
              <td class="utrecht-table__cell">{u.role === 'operator' ? 'Beheerder' : 'Gebruiker'}</td>
              <td class="utrecht-table__cell">{u.organisation_code ?? '—'}</td>
              <td class="utrecht-table__cell">{u.totp_enabled ? 'Aan' : 'Uit'}</td>
              <td class="utrecht-table__cell">{formatDateTime(u.created_at)}</td>
              <td class="utrecht-table__cell">
                {u.disabled_at
                  ? `Geblokkeerd sinds ${formatDateTime(u.disabled_at)}`
                  : u.password_temporary
                    ? 'Actief, nog met tijdelijk wachtwoord'
                    : 'Actief'}
              </td>
              <td class="utrecht-table__cell">
                {u.id === s.user.id ? (
                  'Uw eigen account'
                ) : (
                  <>
                    {u.disabled_at ? (
                      <UserAction
                        action="/beheer/gebruikers/deblokkeren"
                        label="Deblokkeren"
                        email={u.email}
                        csrf={s.csrfToken}
                      />
                    ) : (
                      <a
                        class="utrecht-link"
                        href={`/beheer/gebruikers?blokkeren=${u.id}#blokkeren-bevestigen`}
                        aria-label={`Blokkeren ${u.email}`}
                      >
                        Blokkeren
                      </a>
                    )}{' '}
                    {u.totp_enabled ? (
                      <>
                        <a
                          class="utrecht-link"
                          href={`/beheer/gebruikers?tweede-factor=${u.id}#tweede-factor-bevestigen`}
                          aria-label={`Tweede factor uitzetten ${u.email}`}
                        >
                          Tweede factor uitzetten
                        </a>{' '}
                      </>
                    ) : null}
                    <a
                      class="utrecht-link"
                      href={`/beheer/gebruikers?wachtwoord=${u.id}#wachtwoord-instellen`}
                      aria-label={`Wachtwoord opnieuw instellen ${u.email}`}
                    >
                      Wachtwoord opnieuw instellen
                    </a>
                  </>
                )}
              </td>
            </tr>
          ))}
        </ScrollTable>
        <p class="utrecht-paragraph">
          Een geblokkeerde gebruiker kan niet meer inloggen en wordt direct overal uitgelogd. API-tokens horen
          bij de organisatie en blijven geldig. Tokens van een organisatie trekt de technisch beheerder in (
          <code>ketendata tokens revoke</code>); beheerderstokens, ook die van uzelf, trekt u in onder
          Instellingen.
        </p>
        <p class="utrecht-paragraph">
          Is de telefoon met de tweede factor kwijt? Zet de tweede factor dan uit: de gebruiker logt daarna in
          met alleen het wachtwoord, wordt overal uitgelogd en kan onder Instellingen een nieuwe instellen.
        </p>
        <h2 class="utrecht-heading-2" id="wachtwoord-instellen">
          Wachtwoord opnieuw instellen
        </h2>
        <p class="utrecht-paragraph">
          Is een gebruiker het wachtwoord vergeten? Stel dan een tijdelijk wachtwoord in en geef het via een
          ander kanaal door, bijvoorbeeld telefonisch. De gebruiker wordt overal uitgelogd en kiest bij het
          volgende inloggen eerst een eigen wachtwoord. Uw eigen wachtwoord wijzigt u onder Instellingen.
        </p>
        <form method="post" action="/beheer/gebruikers/wachtwoord" class="kd-narrow">
          <CsrfField token={s.csrfToken} />
          <Field
            id="w-email"
            name="email"
            label="E-mailadres"
            type="email"
            value={resetEmail}
            required
            error={errorAt(error, 'w-email')}
          />
          <PasswordFields prefix="w" label="Nieuw tijdelijk wachtwoord" error={error} />
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Wachtwoord instellen
          </button>
        </form>
        <h2 class="utrecht-heading-2">Gebruiker toevoegen</h2>
        <form method="post" action="/beheer/gebruikers" class="kd-narrow">
          <CsrfField token={s.csrfToken} />
          <Field
            id="u-email"
            name="email"
            label="E-mailadres"
            type="email"
            value={adding?.email}
            required
            error={errorAt(error, 'u-email')}
          />
          <Field id="u-naam" name="name" label="Naam" value={adding?.name} required />
          {/* The role chosen, never inferred from an empty field: a forgotten code made a beheerder. */}
          <fieldset class="utrecht-form-fieldset">
            <legend class="utrecht-form-fieldset__legend">Rol</legend>
            <div class="utrecht-form-field utrecht-form-field--radio">
              <div class="utrecht-form-field__input">
                <input
                  type="radio"
                  class="utrecht-radio-button utrecht-radio-button--html-input"
                  id="u-rol-gebruiker"
                  name="rol"
                  value="gebruiker"
                  checked={adding?.role !== 'beheerder'}
                />
              </div>
              <div class="utrecht-form-field__label">
                <label class="utrecht-form-label utrecht-form-label--radio" for="u-rol-gebruiker">
                  Gebruiker van een organisatie
                </label>
              </div>
            </div>
            <div class="utrecht-form-field utrecht-form-field--radio">
              <div class="utrecht-form-field__input">
                <input
                  type="radio"
                  class="utrecht-radio-button utrecht-radio-button--html-input"
                  id="u-rol-beheerder"
                  name="rol"
                  value="beheerder"
                  checked={adding?.role === 'beheerder'}
                />
              </div>
              <div class="utrecht-form-field__label">
                <label class="utrecht-form-label utrecht-form-label--radio" for="u-rol-beheerder">
                  Beheerder (alle organisaties, quarantaine, gebruikers)
                </label>
              </div>
            </div>
          </fieldset>
          <Field
            id="u-org"
            name="organisation"
            label="Organisatie (code)"
            value={adding?.organisation}
            description="Voor een gebruiker van een organisatie; leeg voor een beheerder."
            error={errorAt(error, 'u-org')}
          />
          <PasswordFields prefix="u" label="Tijdelijk wachtwoord" error={error} />
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Toevoegen
          </button>
        </form>
      </>,
      notice,
      status,
    );
  };

  app.get('/beheer/gebruikers', async (c) => usersPage(c, await takeNotice(c, '/beheer/gebruikers')));

  app.post('/beheer/gebruikers', async (c) => {
    const b = await c.req.parseBody();
    const org = str(b.organisation);
    const role = str(b.rol) === 'beheerder' ? 'beheerder' : 'gebruiker';
    const typed = { email: str(b.email), name: str(b.name), organisation: org, role };
    // Operator access is asked for, never what an empty organisation field gives.
    const roleError =
      role === 'gebruiker' && !org
        ? 'Vul de code van de organisatie in, of kies de rol Beheerder.'
        : role === 'beheerder' && org
          ? 'Een beheerder hoort bij geen organisatie: laat de code leeg, of kies de rol Gebruiker van een organisatie.'
          : undefined;
    if (roleError)
      return usersPage(
        c,
        { form: 'Gebruiker toevoegen', text: roleError, field: 'u-org' },
        400,
        undefined,
        typed,
      );
    let created: { readonly email: string };
    try {
      await confirmOwnPassword(c, b);
      const orgs = await c.var.deps.operator.organisations();
      if (org && !orgs.some((o) => o.code === org))
        return usersPage(
          c,
          {
            form: 'Gebruiker toevoegen',
            text: `Organisatie ${org} is niet geregistreerd.`,
            field: 'u-org',
          },
          400,
          undefined,
          typed,
        );
      created = await createUser(
        c.var.deps.store.db,
        {
          email: str(b.email),
          displayName: str(b.name),
          password: typeof b.password === 'string' ? b.password : '',
          role: org ? 'user' : 'operator',
          organisationCode: org || null,
          temporaryPassword: true,
        },
        c.var.deps.clock(),
      );
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return usersPage(c, userFormError('Gebruiker toevoegen', 'u', err.code), 400, undefined, typed);
    }
    // createUser writes no audit line: this is the one for adding a user (as user.disable and the like).
    const s = c.var.session!;
    await c.var.deps.audit.record(
      {
        actor: s.user.email,
        organisation: org || null,
        action: 'user.add',
        detail: { user: created.email },
      },
      c.var.deps.clock(),
    );
    // Not the temporary password: the operator typed it and passes it on; a page is no place to keep it.
    return done(c, '/beheer/gebruikers', {
      kind: 'ok',
      text: `Gebruiker ${created.email} is toegevoegd${org ? ` bij organisatie ${org}` : ' als beheerder'}. Geef het tijdelijke wachtwoord via een ander kanaal door.`,
    });
  });

  /** Blocking and unblocking: the use case ends the sessions and writes the audit log. */
  const accountChange = async (c: C, block: boolean) => {
    const email = str((await c.req.parseBody()).email);
    const s = c.var.session!;
    const input = { email, actor: s.user.email, actingUserId: s.user.id, now: c.var.deps.clock() };
    try {
      if (!block) {
        const r = await enableUser(c.var.deps.store.db, input);
        return done(c, '/beheer/gebruikers', {
          kind: 'ok',
          text: `Account van ${r.user.email} is weer actief.`,
        });
      }
      const r = await disableUser(c.var.deps.store.db, input);
      const tokens =
        r.tokensMade.length > 0
          ? ` API-tokens die deze gebruiker aanmaakte blijven geldig ${r.user.organisationCode ? `voor organisatie ${r.user.organisationCode}` : 'als beheerderstoken'}: ${r.tokensMade.map((t) => t.name).join(', ')}. ${r.user.organisationCode ? 'Mag de organisatie ze niet meer hebben, vraag dan de technisch beheerder ze in te trekken (ketendata tokens revoke).' : 'Zijn ze niet meer nodig, trek ze dan in onder Instellingen.'}`
          : '';
      return done(c, '/beheer/gebruikers', {
        kind: 'ok',
        text: `Account van ${r.user.email} is geblokkeerd.${tokens}`,
      });
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      const text: Record<string, string> = {
        'users.not_found': 'Deze gebruiker bestaat niet.',
        'users.cannot_disable_self': 'U kunt uw eigen account niet blokkeren.',
      };
      return usersPage(
        c,
        { kind: 'error', text: `${text[err.code] ?? 'Niet gelukt.'} (foutcode ${err.code})` },
        400,
      );
    }
  };
  app.post('/beheer/gebruikers/blokkeren', (c) => accountChange(c, true));
  app.post('/beheer/gebruikers/deblokkeren', (c) => accountChange(c, false));
  app.post('/beheer/gebruikers/tweede-factor', async (c) => {
    const email = str((await c.req.parseBody()).email);
    const s = c.var.session!;
    // One's own second factor goes off under Instellingen, with the password: not here without it.
    if (email.trim().toLowerCase() === s.user.email)
      return usersPage(
        c,
        { kind: 'error', text: 'Zet uw eigen tweede factor uit onder Instellingen, met uw wachtwoord.' },
        400,
      );
    try {
      const r = await resetSecondFactor(c.var.deps.store.db, {
        email,
        actor: s.user.email,
        actingUserId: s.user.id,
        now: c.var.deps.clock(),
      });
      return done(c, '/beheer/gebruikers', {
        kind: 'ok',
        text: r.changed
          ? `De tweede factor van ${r.user.email} staat uit: inloggen kan met alleen het wachtwoord, daarna kan een nieuwe worden ingesteld.`
          : `${r.user.email} had geen tweede factor.`,
      });
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      const text = err.code === 'users.not_found' ? 'Deze gebruiker bestaat niet.' : 'Niet gelukt.';
      return usersPage(c, { kind: 'error', text: `${text} (foutcode ${err.code})` }, 400);
    }
  });

  app.post('/beheer/gebruikers/wachtwoord', async (c) => {
    const b = await c.req.parseBody();
    const email = str(b.email);
    const s = c.var.session!;
    try {
      await confirmOwnPassword(c, b);
      const r = await resetPassword(c.var.deps.store.db, {
        email,
        password: typeof b.password === 'string' ? b.password : '',
        actor: s.user.email,
        actingUserId: s.user.id,
        now: c.var.deps.clock(),
      });
      // The message names the user, never the temporary password.
      return done(c, '/beheer/gebruikers', {
        kind: 'ok',
        text: `Het wachtwoord van ${r.user.email} is opnieuw ingesteld en de gebruiker is overal uitgelogd. Geef het tijdelijke wachtwoord via een ander kanaal door.${r.disabledAt ? ' Het account is geblokkeerd: deblokkeer het om inloggen weer toe te staan.' : ''}`,
      });
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return usersPage(c, userFormError('Wachtwoord opnieuw instellen', 'w', err.code, true), 400, email);
    }
  });

  app.get('/beheer/taken', async (c) => {
    const runs = await c.var.deps.operator.jobRuns(200);
    return shell(
      c,
      'Taken',
      '/beheer/taken',
      <>
        <p class="utrecht-paragraph">
          De wekelijkse levering (zondag 06:00) maakt de leveringen van die week; de server doet dat zelf, en
          haalt bij het starten in wat hij miste. Mislukt een levering, dan staat de reden bij Uitkomst en
          probeert de taak het later opnieuw. Los eerst de oorzaak op (bijvoorbeeld een map die niet
          beschrijfbaar is, of een volle schijf); <code>ketendata deliver --retry-now</code> op de server
          probeert het dan meteen.
        </p>
        {runs.length === 0 ? (
          <p class="utrecht-paragraph">Er is nog geen wekelijkse levering uitgevoerd.</p>
        ) : (
          <ScrollTable
            id="taken"
            caption="Uitgevoerde taken (nieuwste eerst)"
            head={
              <>
                <Th>Taak</Th>
                <Th>Moment</Th>
                <Th>Gestart</Th>
                <Th>Klaar</Th>
                <Th>Uitkomst</Th>
              </>
            }
          >
            {runs.map((r) => (
              <tr class="utrecht-table__row">
                <td class="utrecht-table__cell">{r.job}</td>
                <td class="utrecht-table__cell">{formatDateTime(r.slot)}</td>
                <td class="utrecht-table__cell">{formatDateTime(r.startedAt)}</td>
                <td class="utrecht-table__cell">{formatDateTime(r.finishedAt)}</td>
                <td class="utrecht-table__cell">{r.outcome}</td>
              </tr>
            ))}
          </ScrollTable>
        )}
      </>,
    );
  });

  app.get('/beheer/inlezen', async (c) => {
    const { operator } = c.var.deps;
    const runs = await operator.ingestRuns(200);
    const now = c.var.deps.clock();
    const ends = runs.map((r) => runEnd(r, now));
    const conflicts = await operator.conflicts();
    const shown = conflicts.slice(0, MAX_CONFLICT_ROWS);
    const messages = conflictingMessages(conflicts);
    return shell(
      c,
      'Inlezen',
      '/beheer/inlezen',
      <>
        {runs.length === 0 ? (
          <p class="utrecht-paragraph">Er is nog niets ingelezen.</p>
        ) : (
          <ScrollTable
            id="inleesrondes"
            caption="Inleesrondes (nieuwste eerst)"
            head={
              <>
                <Th>Bron</Th>
                <Th>Gestart</Th>
                <Th>Klaar</Th>
                <Th num>Ontvangen</Th>
                <Th num>Opgeslagen</Th>
                <Th num>Dubbel</Th>
                <Th num>Conflict</Th>
                <Th num>Quarantaine</Th>
              </>
            }
          >
            {runs.map((r, i) => (
              <tr class="utrecht-table__row">
                <td class="utrecht-table__cell">
                  {r.source === RETRY_RUN ? 'Quarantaine opnieuw geprobeerd (of vervangen)' : r.source}
                  {r.requests !== undefined
                    ? ` (live feed: ${formatCount(r.requests)} ${r.requests === 1 ? 'verzoek' : 'verzoeken'} op ${formatDay(r.startedAt.slice(0, 10))}, UTC)`
                    : ''}
                </td>
                <td class="utrecht-table__cell">{formatDateTime(r.startedAt)}</td>
                <td class="utrecht-table__cell">{ends[i]!.text}</td>
                <td class="utrecht-table__cell kd-num">
                  {/* A retry receives nothing: its counts say what became of the items it processed again. */}
                  {r.source === RETRY_RUN ? '—' : r.received}
                </td>
                <td class="utrecht-table__cell kd-num">{r.stored}</td>
                <td class="utrecht-table__cell kd-num">{r.duplicates}</td>
                <td class="utrecht-table__cell kd-num">{r.conflicts}</td>
                <td class="utrecht-table__cell kd-num">{r.quarantined}</td>
              </tr>
            ))}
          </ScrollTable>
        )}
        {ends.some((e) => e.interrupted) ? (
          <p class="utrecht-paragraph" id="niet-afgerond">
            Een inleesronde die niet is afgerond, is afgebroken (bijvoorbeeld doordat het proces werd
            beëindigd of de server herstartte): wat ze al had opgeslagen blijft bewaard. Voer dezelfde
            opdracht nog eens uit (<code>ketendata ingest</code> op dezelfde bron, of{' '}
            <code>ketendata quarantine retry</code>) om toe te voegen wat ontbreekt.
          </p>
        ) : null}
        <h2 class="utrecht-heading-2" id="conflicten">
          Conflicten: berichten met afwijkende versies
        </h2>
        <p class="utrecht-paragraph">
          Kwam een bericht opnieuw binnen met dezelfde berichtcode, afzender, ontvanger, identificatie en
          dagtekening maar met een andere inhoud, dan is elke versie bewaard en gemarkeerd (Afwijkend = J in
          de levering). Hieronder staan ze per bericht, in de volgorde waarin ze zijn opgeslagen: de laatste
          is de nieuwste.
        </p>
        {conflicts.length === 0 ? (
          <p class="utrecht-paragraph">Er zijn geen berichten met afwijkende versies.</p>
        ) : (
          <>
            <ScrollTable
              id="conflicten-tabel"
              caption={`${conflicts.length} versies van ${messages} ${messages === 1 ? 'bericht' : 'berichten'}`}
              head={
                <>
                  <Th num>Bericht</Th>
                  <Th>Berichtcode</Th>
                  <Th>Gemeente</Th>
                  <Th>Identificatie</Th>
                  <Th>Dagtekening</Th>
                  <Th>Afzender</Th>
                  <Th>Ontvanger</Th>
                  <Th>BerichtId</Th>
                  <Th>Opgeslagen</Th>
                  <Th>Bestand</Th>
                </>
              }
            >
              {shown.map((v) => (
                <tr class="utrecht-table__row">
                  <td class="utrecht-table__cell kd-num">{v.group}</td>
                  <td class="utrecht-table__cell">{v.code}</td>
                  <td class="utrecht-table__cell">{v.gemeente}</td>
                  <td class="utrecht-table__cell">{v.identificatie}</td>
                  <td class="utrecht-table__cell">{v.dagtekening}</td>
                  <td class="utrecht-table__cell">{v.afzender}</td>
                  <td class="utrecht-table__cell">{v.ontvanger}</td>
                  <td class="utrecht-table__cell">
                    <code>{v.berichtId}</code>
                  </td>
                  <td class="utrecht-table__cell">{formatDateTime(v.ingestedAt)}</td>
                  <SourceCell source={v.source ?? '—'} ingestSource={v.ingestSource} />
                </tr>
              ))}
            </ScrollTable>
            {conflicts.length > shown.length && (
              <p class="utrecht-paragraph">
                De eerste {shown.length} versies staan hier; alle {conflicts.length} toont{' '}
                <code>ketendata conflicts</code>.
              </p>
            )}
          </>
        )}
      </>,
    );
  });

  /** `typed`: what a refused form held, shown again (a file input cannot be filled in by the page). */
  const quarantinePage = async (
    c: C,
    notice?: Notice | FormError,
    status: 200 | 400 | 404 = 200,
    typed: { readonly ids?: readonly number[]; readonly note?: string; readonly id?: string } = {},
  ) => {
    const s = c.var.session!;
    const items = await c.var.deps.operator.quarantine(500);
    const handled = await c.var.deps.operator.handledQuarantine(HANDLED_SHOWN);
    const error = notice && 'form' in notice ? notice : undefined;
    const noteError = errorAt(error, 'afhandel-toelichting');
    const fileError = errorAt(error, 'vervang-bestand');
    // What became of items no longer open: without it a handled number vanished from the portal.
    const handledTable =
      handled.length === 0 ? null : (
        <>
          <h2 class="utrecht-heading-2">Afgehandeld</h2>
          <ScrollTable
            id="afgehandeld"
            caption={`Afgehandelde berichten (laatst afgehandeld eerst, hooguit ${HANDLED_SHOWN})`}
            head={
              <>
                <Th>Nummer</Th>
                <Th>Bron</Th>
                <Th>Code</Th>
                <Th>Uitkomst</Th>
                <Th>Afgehandeld op</Th>
              </>
            }
          >
            {handled.map((q) => (
              <tr class="utrecht-table__row">
                <td class="utrecht-table__cell">{q.id}</td>
                <td class="utrecht-table__cell kd-wrap">{q.source}</td>
                <td class="utrecht-table__cell">
                  <code>{q.code}</code>
                </td>
                <td class="utrecht-table__cell">
                  {q.status === 'resolved' ? (
                    `Opgeslagen${q.messageSeq !== null ? ` (bericht ${q.messageSeq})` : ''}`
                  ) : (
                    <>
                      Afgehandeld zonder opslaan; de toelichting staat in de{' '}
                      <a class="utrecht-link" href="/beheer/audit?soort=quarantine.">
                        Auditlog
                      </a>
                    </>
                  )}
                </td>
                <td class="utrecht-table__cell">{formatDateTime(q.resolvedAt)}</td>
              </tr>
            ))}
          </ScrollTable>
        </>
      );
    return shell(
      c,
      'Quarantaine',
      '/beheer/quarantaine',
      items.length === 0 ? (
        <>
          <p class="utrecht-paragraph">Er staat niets in quarantaine.</p>
          {handledTable}
        </>
      ) : (
        <>
          <form method="post" action="/beheer/quarantaine/opnieuw">
            <CsrfField token={s.csrfToken} />
            <ScrollTable
              id="quarantaine"
              caption="Berichten in quarantaine"
              head={
                <>
                  <Th>Selecteer</Th>
                  <Th>Nummer</Th>
                  <Th>Bron</Th>
                  <Th>Moment</Th>
                  <Th>Code</Th>
                  <Th>Reden</Th>
                  <Th>Ontvangen</Th>
                </>
              }
            >
              {items.map((q) => (
                <tr class="utrecht-table__row">
                  <td class="utrecht-table__cell">
                    <input
                      type="checkbox"
                      class="utrecht-checkbox utrecht-checkbox--html-input"
                      name="ids"
                      value={String(q.id)}
                      checked={typed.ids?.includes(q.id)}
                      aria-label={`Selecteer quarantaine ${q.id}`}
                    />
                  </td>
                  <td class="utrecht-table__cell">
                    {q.id}
                    {/* To see what is wrong and correct it, for Vervangen below. */}
                    {keptMessage(q.code) ? (
                      <a
                        class="utrecht-link kd-block"
                        href={`/beheer/quarantaine/${q.id}/bericht`}
                        download={`quarantaine-${q.id}.xml`}
                      >
                        Bericht downloaden
                      </a>
                    ) : null}
                  </td>
                  <SourceCell source={q.source} ingestSource={q.ingestSource} />
                  <td class="utrecht-table__cell">{formatDateTime(q.moment)}</td>
                  <td class="utrecht-table__cell">
                    <code>{q.code}</code>
                  </td>
                  <td class="utrecht-table__cell kd-wrap">
                    {QUARANTINE_REASON_TEXT[q.code] ?? 'Niet te verwerken'}.{' '}
                    <span class="utrecht-paragraph--small">Technische melding: {q.reason}</span>
                  </td>
                  <td class="utrecht-table__cell">{formatDateTime(q.receivedAt)}</td>
                </tr>
              ))}
            </ScrollTable>
            <div class="kd-actions">
              <button type="submit" class="utrecht-button utrecht-button--primary-action">
                Geselecteerde opnieuw proberen
              </button>
            </div>
            <h2 class="utrecht-heading-2">Afhandelen zonder opslaan</h2>
            <p class="utrecht-paragraph">
              Komt een bericht nooit meer goed, bijvoorbeeld omdat de verzender een nieuw, gecorrigeerd
              bericht heeft gestuurd? Handel de geselecteerde berichten dan af met een toelichting. Ze blijven
              bewaard en staan met de toelichting in het auditlog; hetzelfde bericht wordt niet opnieuw
              ingelezen.
            </p>
            {/* A textarea: Enter in a text input would submit the form with its first button, the retry. */}
            <div
              class={`utrecht-form-field utrecht-form-field--distanced${noteError ? ' utrecht-form-field--invalid' : ''}`}
            >
              <div class="utrecht-form-field__label">
                <label class="utrecht-form-label" for="afhandel-toelichting">
                  Toelichting
                </label>
              </div>
              {noteError ? <FieldErrorText id="afhandel-toelichting-fout" text={noteError} /> : null}
              <div class="utrecht-form-field__input">
                <textarea
                  class={`utrecht-textarea utrecht-textarea--html-textarea${noteError ? ' utrecht-textarea--invalid' : ''}`}
                  id="afhandel-toelichting"
                  name="toelichting"
                  rows={2}
                  aria-invalid={noteError ? 'true' : undefined}
                  aria-describedby={noteError ? 'afhandel-toelichting-fout' : undefined}
                >
                  {typed.note ?? ''}
                </textarea>
              </div>
            </div>
            <div class="kd-actions">
              <button
                type="submit"
                formaction="/beheer/quarantaine/afhandelen"
                class="utrecht-button utrecht-button--secondary-action"
              >
                Geselecteerde afhandelen zonder opslaan
              </button>
            </div>
          </form>
          <form method="post" action="/beheer/quarantaine/vervangen" enctype="multipart/form-data">
            <CsrfField token={s.csrfToken} />
            <h2 class="utrecht-heading-2">Vervangen door een gecorrigeerd bericht</h2>
            <p class="utrecht-paragraph">
              Heeft de verzender een bericht gecorrigeerd aangeleverd? Kies het quarantainenummer en het
              gecorrigeerde XML-bestand. Moment en partijen van de oorspronkelijke uitwisseling blijven
              behouden.
            </p>
            <Field
              id="vervang-id"
              label="Quarantainenummer"
              name="id"
              inputmode="numeric"
              required
              value={typed.id}
            />
            <div
              class={`utrecht-form-field utrecht-form-field--distanced${fileError ? ' utrecht-form-field--invalid' : ''}`}
            >
              <div class="utrecht-form-field__label">
                <label class="utrecht-form-label" for="vervang-bestand">
                  Gecorrigeerd bericht (XML)
                </label>
              </div>
              {fileError ? <FieldErrorText id="vervang-bestand-fout" text={fileError} /> : null}
              <div class="utrecht-form-field__input">
                <input
                  id="vervang-bestand"
                  name="bestand"
                  type="file"
                  accept=".xml,application/xml,text/xml"
                  required
                  aria-invalid={fileError ? 'true' : undefined}
                  aria-describedby={fileError ? 'vervang-bestand-fout' : undefined}
                />
              </div>
            </div>
            <div class="utrecht-form-field utrecht-form-field--checkbox">
              <div class="utrecht-form-field__input">
                <input
                  type="checkbox"
                  class="utrecht-checkbox utrecht-checkbox--html-input"
                  id="vervang-kop"
                  name="kop"
                  value="verbeterd"
                />
              </div>
              <div class="utrecht-form-field__label">
                <label class="utrecht-form-label utrecht-form-label--checkbox" for="vervang-kop">
                  Soort, afzender, ontvanger of Identificatie is verbeterd
                </label>
              </div>
            </div>
            <div class="kd-actions">
              <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                Vervangen en opnieuw proberen
              </button>
            </div>
          </form>
          {handledTable}
        </>
      ),
      notice,
      status,
    );
  };

  app.get('/beheer/quarantaine', async (c) => quarantinePage(c, await takeNotice(c, '/beheer/quarantaine')));

  // The message as received (personal data in clear): not cached, audited by the use case.
  app.get('/beheer/quarantaine/:id/bericht', async (c) => {
    const id = Number(c.req.param('id'));
    const message = Number.isSafeInteger(id)
      ? await c.var.deps.operator.exportQuarantined(id, c.var.session!.user.email, c.var.deps.clock())
      : undefined;
    if (!message) {
      return quarantinePage(
        c,
        {
          kind: 'error',
          text:
            message === null
              ? `Van quarantainenummer ${id} is geen bericht bewaard: het bestand kon niet worden gelezen. Lees de bron na herstel opnieuw in.`
              : `Quarantainenummer ${c.req.param('id')} bestaat niet.`,
        },
        404,
      );
    }
    return c.body(new Uint8Array(message), 200, {
      'Content-Type': 'application/xml',
      'Content-Disposition': `attachment; filename="quarantaine-${id}.xml"`,
      'Cache-Control': 'no-store',
    });
  });

  app.get('/beheer/audit', async (c) => {
    // Filters as a GET: a filtered view can be bookmarked or sent to a colleague.
    const wie = (c.req.query('wie') ?? '').trim();
    const organisatie = (c.req.query('organisatie') ?? '').trim();
    const soort = AUDIT_KINDS.some(([prefix]) => prefix === c.req.query('soort'))
      ? (c.req.query('soort') ?? '')
      : '';
    const voor = Number(c.req.query('voor'));
    const entries = await c.var.deps.operator.audit({
      limit: AUDIT_PAGE,
      ...(wie ? { actor: wie.includes('@') ? wie.toLowerCase() : wie } : {}),
      ...(organisatie ? { organisation: organisatie } : {}),
      ...(soort ? { actionPrefix: soort } : {}),
      ...(Number.isSafeInteger(voor) && voor > 0 ? { beforeId: voor } : {}),
    });
    const filters = new URLSearchParams({
      ...(wie ? { wie } : {}),
      ...(organisatie ? { organisatie } : {}),
      ...(soort ? { soort } : {}),
    });
    const older =
      entries.length === AUDIT_PAGE
        ? `/beheer/audit?${new URLSearchParams([...filters, ['voor', String(entries.at(-1)!.id)]])}`
        : undefined;
    return shell(
      c,
      'Auditlog',
      '/beheer/audit',
      <>
        <form method="get" action="/beheer/audit" class="kd-actions kd-filter">
          <Field
            id="audit-wie"
            name="wie"
            label="Wie"
            value={wie}
            description="E-mailadres, of cli:<naam>, token:<nummer>."
          />
          <Field id="audit-organisatie" name="organisatie" label="Organisatie (code)" value={organisatie} />
          <div class="utrecht-form-field">
            <div class="utrecht-form-field__label">
              <label class="utrecht-form-label" for="audit-soort">
                Soort
              </label>
            </div>
            <div class="utrecht-form-field__input">
              <select class="utrecht-select utrecht-select--html-select" id="audit-soort" name="soort">
                <option value="" selected={soort === ''}>
                  Alles
                </option>
                {AUDIT_KINDS.map(([prefix, label]) => (
                  <option value={prefix} selected={soort === prefix}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <button type="submit" class="utrecht-button utrecht-button--secondary-action">
            Filteren
          </button>
        </form>
        {entries.length === 0 ? (
          <p class="utrecht-paragraph">Geen regels{filters.size > 0 ? ' met deze filters' : ''}.</p>
        ) : (
          <ScrollTable
            id="auditlog"
            caption={`Aanmeldingen, downloads, verwijderingen en wijzigingen (nieuwste eerst, per ${AUDIT_PAGE})`}
            head={
              <>
                <Th>Moment</Th>
                <Th>Wie</Th>
                <Th>Organisatie</Th>
                <Th>Actie</Th>
                <Th>Details</Th>
              </>
            }
          >
            {entries.map((a) => (
              <tr class="utrecht-table__row">
                <td class="utrecht-table__cell">{formatDateTime(a.at)}</td>
                <td class="utrecht-table__cell">{auditActor(a.actor)}</td>
                <td class="utrecht-table__cell">{a.organisation ?? '—'}</td>
                <td class="utrecht-table__cell">
                  {own(AUDIT_ACTION_TEXT, a.action) ?? a.action} <code>{a.action}</code>
                </td>
                <td class="utrecht-table__cell">{auditDetail(a.detail)}</td>
              </tr>
            ))}
          </ScrollTable>
        )}
        {older ? (
          <p class="utrecht-paragraph">
            <a class="utrecht-link" href={older}>
              Oudere regels
            </a>
          </p>
        ) : null}
      </>,
    );
  });

  app.post(CORRECTED_UPLOAD_PATH, async (c) => {
    const b = await c.req.parseBody();
    const typedId = str(b.id);
    const id = Number(b.id);
    const file = b.bestand;
    // About the number and the file together: said at the top only.
    if (!Number.isSafeInteger(id) || !(file instanceof File) || file.size === 0) {
      return quarantinePage(
        c,
        { kind: 'error', text: 'Kies een quarantainenummer en een XML-bestand.' },
        400,
        { id: typedId },
      );
    }
    if (file.size > MAX_CORRECTED_BYTES) {
      return quarantinePage(
        c,
        {
          form: 'Vervangen door een gecorrigeerd bericht',
          text: 'Het bestand is te groot voor één bericht.',
          field: 'vervang-bestand',
        },
        400,
        { id: typedId },
      );
    }
    const summary = await c.var.deps.operator.retryQuarantine(
      [id],
      c.var.session!.user.email,
      c.var.deps.clock(),
      Buffer.from(await file.arrayBuffer()),
      str(b.kop) === 'verbeterd',
    );
    if (summary.refused) {
      return quarantinePage(
        c,
        { form: 'Vervangen door een gecorrigeerd bericht', text: summary.text, field: 'vervang-bestand' },
        400,
        { id: typedId },
      );
    }
    return done(c, '/beheer/quarantaine', { kind: 'info', text: summary.text });
  });

  app.post('/beheer/quarantaine/afhandelen', async (c) => {
    const b = await c.req.parseBody({ all: true });
    const ids = selectedIds(b.ids);
    const note = typeof b.toelichting === 'string' ? b.toelichting : '';
    // No selection is about the whole table: said at the top only; the note kept.
    if (ids.length === 0)
      return quarantinePage(c, { kind: 'error', text: 'Selecteer eerst een of meer berichten.' }, 400, {
        note,
      });
    if (!note.trim()) {
      return quarantinePage(
        c,
        {
          form: 'Afhandelen zonder opslaan',
          text: 'Geef een toelichting: waarom worden deze berichten afgehandeld?',
          field: 'afhandel-toelichting',
        },
        400,
        { ids },
      );
    }
    const summary = await c.var.deps.operator.dismissQuarantine(
      ids,
      note,
      c.var.session!.user.email,
      c.var.deps.clock(),
    );
    return done(c, '/beheer/quarantaine', { kind: 'info', text: summary });
  });

  app.post('/beheer/quarantaine/opnieuw', async (c) => {
    const b = await c.req.parseBody({ all: true });
    const ids = selectedIds(b.ids);
    if (ids.length === 0)
      return quarantinePage(c, { kind: 'error', text: 'Selecteer eerst een of meer berichten.' }, 400);
    const summary = await c.var.deps.operator.retryQuarantine(
      ids,
      c.var.session!.user.email,
      c.var.deps.clock(),
    );
    return done(c, '/beheer/quarantaine', { kind: summary.refused ? 'error' : 'info', text: summary.text });
  });

  return app;
}
