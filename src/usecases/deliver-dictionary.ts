import type { ExtraFile } from '../export/delivery-writer.js';
import {
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

let cached: readonly ExtraFile[] | undefined;

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
export function dataDictionary(options: { readonly delimiter?: string } = {}): {
  readonly files: readonly ExtraFile[];
  readonly fileCount: number;
  readonly columnCount: number;
} {
  const set = schemaSet();
  const extra = [koppeltabelTable()];
  const rows = dictionaryRows(set, extra);
  return {
    files: [
      { name: DICTIONARY_FILES.markdown, content: dictionaryMarkdown(set, rows, extra) },
      { name: DICTIONARY_FILES.csv, content: dictionaryCsv(rows, options) },
    ],
    fileCount: new Set(rows.map((r) => r.file)).size,
    columnCount: rows.length,
  };
}

/** The data dictionary (Markdown and CSV) every delivery carries; built once per process. */
export function deliveryDictionary(): readonly ExtraFile[] {
  cached ??= dataDictionary().files;
  return cached;
}
