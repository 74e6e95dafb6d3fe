/**
 * The README's commands from any directory: the built entry point is an
 * executable script, and the defaults (the bundled model, the models folder)
 * are the package's, not the working directory's.
 *
 * Needs dist/ (`npm test` runs tsc first; or `npm run build`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULTS } from '../../src/config';
import { packagePath, packageRoot } from '../../src/cli/package-root';
import { RESNET_BUNDLE } from '../support/bundles';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: { eero: string }; scripts: { build: string } };
const CLI = path.join(ROOT, pkg.bin.eero);

function eero(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

describe('eero from any directory', () => {
  let elsewhere: string;
  beforeAll(() => {
    elsewhere = mkdtempSync(path.join(tmpdir(), 'eero-elsewhere-'));
  });
  afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

  test('the package root is the repository, and the default model lies inside it', () => {
    expect(packageRoot()).toBe(ROOT);
    expect(packagePath(DEFAULTS.modelPath)).toBe(RESNET_BUNDLE);
  });

  test('the entry point starts with a shebang, and the build makes the bin executable', () => {
    expect(readFileSync(path.join(ROOT, 'src/cli/main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    // The build's step that names the bin, run on a stand-in file at the bin's path: it must end up runnable as a program.
    const step = pkg.scripts.build
      .split('&&')
      .map((s) => s.trim())
      .find((s) => s.includes(pkg.bin.eero)) as string;
    expect(step).toBeDefined();
    const dir = mkdtempSync(path.join(tmpdir(), 'eero-build-'));
    try {
      const bin = path.join(dir, pkg.bin.eero);
      mkdirSync(path.dirname(bin), { recursive: true });
      writeFileSync(bin, '#!/usr/bin/env node\nprocess.stdout.write("ran");\n');
      chmodSync(bin, 0o644);
      execFileSync('sh', ['-c', step], { cwd: dir });
      expect(statSync(bin).mode & 0o111).toBe(0o111);
      expect(execFileSync(bin).toString()).toBe('ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  (existsSync(CLI) ? test : test.skip)(
    'models and classify run outside the repository with their defaults',
    async () => {
      const models = await eero(['models'], elsewhere);
      expect({ code: models.code, stderr: models.stderr }).toEqual({ code: 0, stderr: '' });
      expect(models.stdout).toContain(`resnet18-fmnist (${RESNET_BUNDLE})`);
      const photos = path.join(elsewhere, 'photos');
      mkdirSync(photos);
      writeFileSync(path.join(photos, 'a.png'), readFileSync(path.join(RESNET_BUNDLE, 'fixtures', '00.png')));
      const run = await eero(['classify', 'photos', '--out', 'results.csv', '--threads', '1'], elsewhere);
      expect(run.code).toBe(0);
      expect(readFileSync(path.join(elsewhere, 'results.csv'), 'utf8')).toMatch(/^a\.png,T-shirt\/top,0,/m);
    },
    120_000,
  );
});
