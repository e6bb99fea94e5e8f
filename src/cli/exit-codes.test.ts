import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { EXAMPLES } from '../../test/support/exchange-fixtures.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-cli-exit-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const env = { KETENDATA_DATA_DIR: dataDir, KETENDATA_SECRET: 'cli-exit-secret-cli-exit-secret-cli-exit' };

describe('exit codes (docs/cli.md)', () => {
  it('2 for every command line that is not understood, commander’s own errors included', async () => {
    const cases: [string[], string][] = [
      [['deliver', '--nope'], "unknown option '--nope'"],
      [['nosuchcommand'], "unknown command 'nosuchcommand'"],
      [['organisations', 'add', '0363'], "required option '--name <name>' not specified"],
      [['deliveries'], "missing required argument 'code'"],
      [
        ['simulate', '--out', join(dataDir, 'sim'), '--errors', '2'],
        '--errors must be a share between 0 and 1',
      ],
      [['ingest', dataDir, '--batch-size', '0'], '--batch-size must be a positive whole number'],
      [['ingest', dataDir, '--now', 'nope'], 'cli.bad_now'],
      [['deliver', '--now', '2126-10-25T06:00:00+01:00'], '(deliver.future_now)'],
      [['quarantine', 'retry', 'abc'], 'quarantine.bad_option: "abc" is not a quarantine id'],
      [
        ['quarantine', 'retry', '1', '2', '--file', 'x.xml'],
        'quarantine.bad_option: --file replaces exactly one item',
      ],
      [['quarantine'], 'Usage: ketendata quarantine'],
      [['serve', '--port', 'abc'], 'cli.bad_port: --port abc is not a port number (1–65535)'],
      [['demo', '--port', '99999', '--no-serve'], 'cli.bad_port: --port 99999'],
      [
        ['flatten', dataDir, '--out', join(dataDir, 'f'), '--delimiter', 'ab'],
        'flatten.bad_option: --delimiter "ab" is not one character or tab',
      ],
      [['flatten', dataDir, '--out', join(dataDir, 'f'), '--delimiter', '"'], 'flatten.bad_option'],
      [
        ['dictionary', '--out', join(dataDir, 'd'), '--delimiter', 'ab'],
        'dictionary.bad_option: --delimiter "ab" is not one character or tab',
      ],
      [
        ['orphans', '--gemeente', '9999'],
        'orphans.bad_option: --gemeente 9999: not in the CBS code list (gemeentecodes), and no message of it is stored',
      ],
      [['orphans', '--gemeente', '0363,abc'], 'orphans.bad_option: --gemeente abc: not'],
      [['orphans', '--gemeente', ','], 'orphans.bad_option: --gemeente ,: not'],
      [
        ['conflicts', '--gemeente', '9999'],
        'conflicts.bad_option: --gemeente 9999: not in the CBS code list (gemeentecodes), and no message of it is stored',
      ],
      [['conflicts', '--gemeente', '03a3'], 'conflicts.bad_option: --gemeente 03a3: not'],
      [
        ['demo', '--weeks', 'abc', '--no-serve'],
        'demo.bad_option: --weeks abc is not a whole number of weeks from 1 to 104',
      ],
      [['demo', '--weeks', '0', '--no-serve'], 'demo.bad_option: --weeks 0 is not'],
      [['demo', '--weeks', '105', '--no-serve'], 'demo.bad_option: --weeks 105 is not'],
    ];
    for (const [argv, message] of cases) {
      const r = await runCli(argv, env);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toContain(message);
    }
  });

  it('orphans takes codes of the CBS list, and a code no longer listed of which messages are stored', async () => {
    const r = await runCli(['orphans', '--gemeente', '0363, 0310', '--json'], env);
    expect(r).toMatchObject({ code: 0, err: '' });
    // Weesp (0457) merged into Amsterdam in 2022: gone from the list, still in the data since 2021.
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-weesp-'));
    try {
      const e = { ...env, KETENDATA_DATA_DIR: join(dir, 'data') };
      const jw301 = readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW301.xml'), 'utf8');
      mkdirSync(join(dir, 'in'));
      writeFileSync(
        join(dir, 'in', 'JW301.xml'),
        jw301.replace('<jw301:Afzender>0384<', '<jw301:Afzender>0457<'),
      );
      expect((await runCli(['ingest', join(dir, 'in'), '--no-progress'], e)).code).toBe(0);
      expect(await runCli(['orphans', '--gemeente', '0457', '--json'], e)).toMatchObject({
        code: 0,
        err: '',
      });
      expect((await runCli(['orphans', '--gemeente', '0458'], e)).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('0 for --help and --version', async () => {
    const help = await runCli(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: ketendata');
    const sub = await runCli(['quarantine', 'retry', '--help'], env);
    expect(sub.code).toBe(0);
    expect(sub.out).toContain('Usage: ketendata quarantine retry');
    const version = await runCli(['--version'], env);
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('1 for a refusal or a failure at run time', async () => {
    const unknown = await runCli(['deliveries', '9999'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^organisation\.not_found: /);
    const retry = await runCli(['quarantine', 'retry', '7'], env);
    expect(retry.code).toBe(1);
    expect(retry.err).toContain('quarantine.unknown_id');
    const missing = await runCli(['ingest', join(dataDir, 'nope'), '--no-progress'], env);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('ingest.source_missing');
    // Input that is there but unusable is named with its code too.
    const notZip = join(dataDir, 'not-a.zip');
    writeFileSync(notZip, 'no zip here');
    const badZip = await runCli(['ingest', notZip, '--no-progress'], env);
    expect(badZip.code).toBe(1);
    expect(badZip.err).toMatch(/ingest\.source_unreadable: .*not-a\.zip is not a readable ZIP/);
    const intoFile = await runCli(['download', '0363', '--out', notZip], env);
    expect(intoFile).toMatchObject({ code: 1 });
    expect(intoFile.err).toBe(
      `download.out_not_folder: ${notZip} is not a folder that can be written (EEXIST)\n`,
    );
    for (const [file, code] of [
      [join(dataDir, 'nope'), 'ENOENT'],
      [dataDir, 'EISDIR'],
    ]) {
      const rekey = await runCli(['raw-rekey', '--previous-secret-file', file!], env);
      expect(rekey).toMatchObject({ code: 1, out: '', err: `keys.file_unreadable: ${file}: ${code}\n` });
    }
    for (const [url, why] of [
      ['garbage', 'it has no scheme'],
      ['mysql://root:hunter2@db/ketendata', 'not mysql://'],
    ]) {
      const bad = await runCli(['deliveries', '0363'], { ...env, KETENDATA_DATABASE_URL: url });
      expect(bad).toMatchObject({ code: 1, out: '' });
      expect(bad.err).toBe(
        `ketendata: config.bad_database_url: KETENDATA_DATABASE_URL must be a postgres:// or postgresql:// URL (${why}); unset it for the embedded SQLite store\n`,
      );
      // Help, and commands without a store, do not depend on it.
      const help = await runCli(['deliveries', '--help'], { ...env, KETENDATA_DATABASE_URL: url });
      expect(help).toMatchObject({ code: 0, err: '' });
      expect(help.out).toContain('Usage: ketendata deliveries');
      const dictionary = await runCli(['dictionary', '--out', join(dataDir, 'dict-url')], {
        ...env,
        KETENDATA_DATABASE_URL: url,
      });
      expect(dictionary).toMatchObject({ code: 0, err: '' });
    }
    const noFile = await runCli(['quarantine', 'retry', '7', '--file', join(dataDir, 'nope.xml')], env);
    expect(noFile.code).toBe(1);
    expect(noFile.err).toBe(`quarantine.file_unreadable: ${join(dataDir, 'nope.xml')}: ENOENT\n`);
  });
});
