// Writes the derived iWmo retour XSDs (no official XSD exists) so that xmllint can use them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadRelease, RELEASE_3_2, XSD_DIR } from '../src/schema/releases.js';

const dir = `${XSD_DIR}${RELEASE_3_2.derivedDir}`;
mkdirSync(dir, { recursive: true });
for (const [file, text] of loadRelease().derivedXsds) writeFileSync(`${dir}/${file}`, text);
console.log(`wrote ${dir}`);
