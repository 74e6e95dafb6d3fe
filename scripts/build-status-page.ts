/**
 * Bundles the status page's browser code (src/server/status-page/client/, type-checked by tsconfig.client.json)
 * into the one script the server inlines: `npm run build` runs it after tsc, from dist/scripts/.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, STATUS_PAGE_BUNDLE } from '../src/server/status-page/client-asset';

async function main(): Promise<void> {
  const root = packageRoot(__dirname);
  if (root === undefined) throw new Error(`no package.json above ${__dirname}`);
  const outfile = join(root, STATUS_PAGE_BUNDLE);
  await build({
    entryPoints: [join(root, 'src', 'server', 'status-page', 'client', 'main.ts')],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    // Readable in the browser's view-source and devtools; about 30 kB, served once per page load.
    minify: false,
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'warning',
    tsconfig: join(root, 'tsconfig.client.json'),
    outfile,
  });
  // The script is inlined in <script>: text that would end the element or open a comment must not occur in it.
  const script = readFileSync(outfile, 'utf8');
  const unsafe = /<\/script|<!--/i.exec(script);
  if (unsafe) throw new Error(`${outfile} contains "${unsafe[0]}", which cannot be inlined in <script>`);
  process.stdout.write(`status page: ${outfile} (${Buffer.byteLength(script)} bytes)\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
