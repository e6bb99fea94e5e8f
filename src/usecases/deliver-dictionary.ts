import type { ExtraFile } from '../export/delivery-writer.js';
import {
  codeListRows,
  codeListsCsv,
  DICTIONARY_FILES,
  type DictionaryRow,
  dictionaryCsv,
  dictionaryMarkdown,
  dictionaryRows,
  type ExtraTable,
} from '../export/dictionary.js';
import { KOPPELTABEL_COLUMNS, KOPPELTABEL_FILE } from '../links/koppeltabel.js';
import { RELATIONS } from '../links/relations.js';
import { schemaSet } from '../schema/releases.js';

const cached = new Map<boolean, readonly ExtraFile[]>();

/** What the dictionary of an organisation that leaves personal data out says a column keeps. */
const LEFT_OUT_TEXT = {
  empty: 'leeg gelaten',
  year: 'alleen het jaar',
  pc4: 'alleen de 4 cijfers',
} as const;

/** The Koppeltabel as the dictionary describes it (its columns come from the links concern). */
function koppeltabelTable(): ExtraTable {
  const file = `${KOPPELTABEL_FILE}.csv`;
  const rows: DictionaryRow[] = KOPPELTABEL_COLUMNS.map((c) => ({
    file,
    column: c.name,
    path: '',
    typeName: c.typeName ?? 'tekst',
    baseType: 'string',
    facets: '',
    cardinality: c.optional ? '0..1' : '1..1',
    description: c.description,
    hashed: false,
    derived: false,
  }));
  const kinds = RELATIONS.map((r) => `${r.type}: ${r.description}`).join('; ');
  return {
    file,
    description: `Eén rij per relatie tussen twee berichten (of rijen daarvan). Soorten: ${kinds}.`,
    rows,
  };
}

/**
 * The data dictionary of a delivery, Koppeltabel included, as Markdown and CSV (`ketendata dictionary`
 * writes the same files).
 */
export function dataDictionary(
  options: { readonly delimiter?: string; readonly personalDataLeftOut?: boolean } = {},
): {
  readonly files: readonly ExtraFile[];
  readonly fileCount: number;
  readonly columnCount: number;
} {
  const set = schemaSet();
  const extra = [koppeltabelTable()];
  const all = dictionaryRows(set, extra);
  // For an organisation that leaves personal data out, each such column says it is empty.
  const rows = options.personalDataLeftOut
    ? all.map((r) =>
        r.personal ? { ...r, personal: `${r.personal} (${LEFT_OUT_TEXT[r.leftOut ?? 'empty']})` } : r,
      )
    : all;
  const codes = codeListRows(set);
  return {
    files: [
      {
        name: DICTIONARY_FILES.markdown,
        content: dictionaryMarkdown(set, rows, extra, {
          personalDataLeftOut: options.personalDataLeftOut === true,
          codes,
        }),
      },
      { name: DICTIONARY_FILES.csv, content: dictionaryCsv(rows, options), rows: rows.length },
      { name: DICTIONARY_FILES.codes, content: codeListsCsv(codes, options), rows: codes.length },
    ],
    fileCount: new Set(rows.map((r) => r.file)).size,
    columnCount: rows.length,
  };
}

/**
 * The data dictionary (Markdown and CSV) a delivery carries, for organisations that get personal data and
 * for those that leave it out; each built once per process.
 */
export function deliveryDictionary(personalDataLeftOut = false): readonly ExtraFile[] {
  let files = cached.get(personalDataLeftOut);
  if (!files) {
    files = dataDictionary({ personalDataLeftOut }).files;
    cached.set(personalDataLeftOut, files);
  }
  return files;
}

/** `extra` with the dictionary files in the variant for an organisation that leaves personal data out. */
export function withPersonalDataLeftOut(extra: readonly ExtraFile[]): readonly ExtraFile[] {
  const variant = new Map(deliveryDictionary(true).map((f) => [f.name, f]));
  return extra.map((f) => variant.get(f.name) ?? f);
}
