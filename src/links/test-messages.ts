import { parseMessage } from '../ingest/index.js';
import { schemaSet } from '../schema/releases.js';
import type { LinkableMessage, StoredRow } from './entries.js';

/**
 * Builds stored-like messages for tests and benchmarks from column values by name, so tests read as the
 * messages they describe. Ordinal columns are filled with the row's position.
 */
export interface TestMessageSpec {
  readonly id: string;
  readonly code: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie?: string;
  readonly dagtekening: string;
  /** Main-table values by column name. */
  readonly main?: Readonly<Record<string, string>>;
  /** Sub-table rows by table suffix (`ToegewezenProduct`), values by column name; `_row` = ordinals ('2.1'). */
  readonly rows?: Readonly<Record<string, readonly Readonly<Record<string, string>>[]>>;
}

export function testMessage(spec: TestMessageSpec): LinkableMessage {
  const schema = schemaSet().byCode(spec.code);
  if (!schema) throw new Error(`unknown code ${spec.code}`);
  const gemeente = schema.gemeenteField === 'Afzender' ? spec.afzender : spec.ontvanger;
  const identificatie = spec.identificatie ?? spec.id;
  const tables: Record<string, StoredRow[]> = {};
  for (const def of schema.tables) {
    const suffix = def.name === schema.code ? '' : def.name.slice(schema.code.length + 1);
    const specs =
      suffix === ''
        ? [
            {
              Header_Afzender: spec.afzender,
              Header_Ontvanger: spec.ontvanger,
              Header_BerichtIdentificatie_Identificatie: identificatie,
              Header_BerichtIdentificatie_Dagtekening: spec.dagtekening,
              ...spec.main,
            },
          ]
        : (spec.rows?.[suffix] ?? []);
    tables[def.name] = specs.map((values, i) => {
      const ordinals = def.columns.filter((c) => c.role === 'ordinal').length;
      const ords = values._row ? values._row.split('.') : [String(i + 1)].slice(-ordinals);
      let o = 0;
      return def.columns.map((c) => {
        if (c.role === 'messageKey') return spec.id;
        if (c.role === 'gemeente') return gemeente;
        if (c.role === 'ordinal') return ords[o++] ?? '1';
        return values[c.name] ?? null;
      });
    });
  }
  return {
    berichtId: spec.id,
    code: schema.code,
    gemeente,
    afzender: spec.afzender,
    ontvanger: spec.ontvanger,
    identificatie,
    dagtekening: spec.dagtekening,
    tables,
  };
}

/**
 * The retour (`code`, e.g. JW306) of the heen message `heen`, its header copied: rejecting it with a header
 * RetourCode (9069), or accepting it without one.
 */
export function testRetour(spec: {
  readonly id: string;
  readonly code: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly heen: string;
  readonly dagtekening: string;
  readonly rejected: boolean;
}): LinkableMessage {
  return testMessage({
    id: spec.id,
    code: spec.code,
    afzender: spec.afzender,
    ontvanger: spec.ontvanger,
    identificatie: spec.heen,
    dagtekening: spec.dagtekening,
    rows: { RetourCode: spec.rejected ? [{ Niveau: 'Header', RetourCode: '9069' }] : [] },
  });
}

/** A 301 with one ToegewezenProduct of `nummer`, assigned on 2024-03-01 at `tijd` (a version of the number). */
export function test301Version(spec: {
  readonly id: string;
  readonly identificatie: string;
  readonly tijd: string;
  readonly nummer: string;
  readonly afzender: string;
  readonly ontvanger: string;
}): LinkableMessage {
  return testMessage({
    id: spec.id,
    identificatie: spec.identificatie,
    code: 'JW301',
    afzender: spec.afzender,
    ontvanger: spec.ontvanger,
    dagtekening: '2024-03-01',
    rows: {
      ToegewezenProduct: [
        { ToewijzingNummer: spec.nummer, Toewijzingsdatum: '2024-03-01', Toewijzingstijd: spec.tijd },
      ],
    },
  });
}

/** A message in XML (an official example, say) as linking reads it, under the BerichtId given. */
export function parsedForLinks(xml: string | Buffer, berichtId: string): LinkableMessage {
  const r = parseMessage(typeof xml === 'string' ? Buffer.from(xml) : xml, { file: berichtId });
  if (!r.ok) throw new Error(r.error.message);
  const m = r.message;
  return {
    berichtId,
    code: m.schema.code,
    gemeente: m.gemeente,
    afzender: m.key.afzender,
    ontvanger: m.key.ontvanger,
    identificatie: m.key.identificatie,
    dagtekening: m.key.dagtekening,
    tables: Object.fromEntries(m.tables),
  };
}
