import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';

const help = async (...argv: string[]) => {
  const r = await runCli([...argv, '--help'], { KETENDATA_DATA_DIR: '/nonexistent' });
  expect(r.code).toBe(0);
  return r.out.replace(/\s+/g, ' ');
};

describe('--help', () => {
  it('is English', async () => {
    const simulate = await help('simulate');
    expect(simulate).toContain(
      '--late <rate> share of deadlines (retour, answer, start/stop, 325) that are missed',
    );
    expect(await help('dictionary')).toContain('--out <dir> output folder');
    expect(await help('quarantine', 'retry')).toContain('ids quarantine ids');
    for (const text of [simulate, await help('dictionary'), await help('quarantine', 'retry')])
      expect(text).not.toMatch(/\b(aandeel|termijnen|wordt|uitvoermap|quarantaine)\b/);
  });

  it('says which options are required', async () => {
    for (const command of ['flatten', 'dictionary', 'simulate', 'download']) {
      const text = await help(command);
      const out = text.slice(text.indexOf('--out <dir>'));
      expect(out.slice(0, out.indexOf('\n  -')), command).toContain('(required)');
    }
    expect(await help('quarantine', 'dismiss')).toContain('(required)');
    expect(await help('backup')).toContain(
      '--out <file> file to write the copy to, made readable by its owner only (required)',
    );
  });

  it('states a default once (commander prints it itself)', async () => {
    const flatten = await help('flatten');
    const delimiter = flatten.slice(flatten.indexOf('--delimiter'), flatten.indexOf('--no-bom'));
    expect(delimiter.match(/default/g)).toEqual(['default']);
    expect(delimiter).toContain('(default: ";")');
  });

  it('of deliveries names every column it prints, in the order it prints them', async () => {
    const r = await runCli(['deliveries', '--help'], {});
    const header =
      'id kind period made ready_from bytes messages downloaded state expires file from_start'.split(' ');
    const text = r.out.replace(/\s+/g, ' ');
    let at = 0;
    for (const column of header) {
      const i = text.indexOf(column, at);
      expect(i, column).toBeGreaterThan(-1);
      at = i + column.length;
    }
  });
});

describe('src/main.ts run directly (npm run dev)', () => {
  it('runs the command it is given, as the built bin does', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--version'], {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
