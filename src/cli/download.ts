import type { Command } from 'commander';
import { count } from '../domain/plural.js';
import { downloadToFolder } from '../usecases/download.js';
import { type CliContext, outFolder } from './command.js';
import { cliActor, withStoreAt } from './deliver.js';

/** `ketendata download <code> --out DIR [--new]`: fetches deliveries; counted like a portal download. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('download <code>')
    .description("copy an organisation's ready deliveries into a folder (recorded as downloads)")
    .requiredOption('--out <dir>', 'folder to write the ZIPs to (required)')
    .option('--new', 'only deliveries not downloaded before')
    .option('--now <iso>', 'as at this moment (default: now)')
    .action(async (code: string, o: { out: string; new?: boolean; now?: string }) => {
      const out = outFolder(ctx, 'download', o.out, { create: false });
      if (out === undefined) return;
      await withStoreAt(ctx, o.now, async (store, now) => {
        const { copied, missing } = await downloadToFolder(
          { store, dataDir: ctx.config.dataDir },
          { organisation: code, actor: cliActor(), now, outDir: out, onlyNew: o.new ?? false },
        );
        for (const g of copied) ctx.out(`${g.path}\t${g.delivery.size} bytes\tsha256 ${g.delivery.sha256}`);
        for (const m of missing) ctx.err(m.message);
        ctx.out(`${count(copied.length, 'delivery', 'deliveries')} downloaded`);
        // The others are copied, but a lost file is a fault to notice.
        if (missing.length > 0) ctx.setExitCode(1);
      });
    });
}
