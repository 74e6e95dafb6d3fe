/**
 * Keeps docs/ honest, cheaply: every error code, metric, command and flag the
 * code defines is documented, and every relative link of README.md and
 * docs/*.md leads to a file inside the repository.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { helpText } from '../../src/cli/args';
import { COMMANDS } from '../../src/cli/commands';
import { blockNames, regenerate } from '../../src/cli/report/generated-docs';
import { exitCodeFor } from '../../src/cli/exit-codes';
import { ERROR_CODES, type ErrorCode } from '../../src/errors';
import { onSurface, surfaceName } from '../../src/config';
import { METRIC_NAMES } from '../../src/metrics/names';
import { ANSWER_OPTIONS, ROUTING_OPTIONS } from '../../src/pipeline';
import { allowedMethods } from '../../src/server/routes-table';

const ROOT = resolve(__dirname, '..', '..');
const DOCS = join(ROOT, 'docs');
const read = (file: string): string => readFileSync(file, 'utf8');

/** The table row that starts with `name` (in backticks), split into its trimmed cells. */
function tableRow(text: string, name: string): string[] | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
  return line
    ?.split('|')
    .slice(1, -1)
    .map((c) => c.trim());
}

/** Markdown without fenced code blocks and inline code, where a link is only text. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Every link target: inline links and images `](target)`, and reference definitions `[x]: target`. */
function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)].map((m) => m[1] as string);
  const defined = [...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)].map((m) => m[1] as string);
  return [...inline, ...defined];
}

const hasScheme = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** Why a relative link of `file` is broken, or undefined when it resolves to an existing path inside the repository. */
function brokenLink(file: string, target: string): string | undefined {
  const path = decodeURIComponent(target.replace(/[#?].*$/, ''));
  if (path === '') return undefined; // an anchor in the same file
  if (isAbsolute(path)) return 'an absolute path';
  const resolved = resolve(dirname(file), path);
  const inside = relative(ROOT, resolved);
  if (inside.startsWith('..') || isAbsolute(inside)) return 'outside the repository';
  if (!existsSync(resolved)) return 'no such file';
  return undefined;
}

const docFiles = readdirSync(DOCS)
  .filter((f) => f.endsWith('.md'))
  .map((f) => join(DOCS, f));

describe('docs', () => {
  const api = read(join(DOCS, 'api.md'));
  const cli = read(join(DOCS, 'cli.md'));

  it('has the four documents', () => {
    for (const name of ['design.md', 'eero.md', 'api.md', 'cli.md']) expect(docFiles).toContain(join(DOCS, name));
  });

  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('api.md lists error code %s with its HTTP status and CLI exit code', (code) => {
    const row = tableRow(api, code);
    expect(row).toBeDefined();
    expect(row?.[1]).toBe(String(ERROR_CODES[code]));
    expect(row?.[3]).toBe(String(exitCodeFor(code)));
  });

  it.each(Object.values(METRIC_NAMES))('api.md lists metric %s', (metric) => {
    expect(tableRow(api, metric)).toBeDefined();
  });

  it.each(COMMANDS.map((c) => [c.spec.name, c] as const))('cli.md documents eero %s, its --help and every flag', (name, command) => {
    expect(cli).toMatch(new RegExp(`^#{2,3} eero ${name}$`, 'm'));
    expect(cli).toContain(helpText(command.spec));
    for (const flag of Object.keys(command.spec.flags)) expect(cli).toContain(`--${flag}`);
  });

  it.each([join(ROOT, 'README.md'), ...docFiles].map((f) => [relative(ROOT, f), f]))(
    'every relative link of %s resolves to a file inside the repository',
    (_name, file) => {
      const targets = linkTargets(read(file));
      const broken = targets
        .filter((t) => !hasScheme(t))
        .map((t) => [t, brokenLink(file, t)])
        .filter(([, why]) => why !== undefined);
      expect(broken).toEqual([]);
    },
  );

  it.each(docFiles.map((f) => [relative(ROOT, f), f]))('%s links only inside the repository', (_name, file) => {
    const targets = linkTargets(read(file));
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter(hasScheme)).toEqual([]);
  });

  it('finds links the way Markdown writes them, and none inside code', () => {
    const sample = [
      'See [the API](api.md#errors) and ![plot](img/a.svg "title").',
      '[ref]: ../src/errors.ts',
      '`[not a link](nowhere.md)`',
      '```',
      '[also not](inside-code.md)',
      '```',
    ].join('\n');
    expect(linkTargets(sample)).toEqual(['api.md#errors', 'img/a.svg', '../src/errors.ts']);
    expect(brokenLink(join(DOCS, 'x.md'), '../src/errors.ts')).toBeUndefined();
    expect(brokenLink(join(DOCS, 'x.md'), '../../shared/docs/DESIGN.md')).toBe('outside the repository');
    expect(brokenLink(join(DOCS, 'x.md'), 'missing.md')).toBe('no such file');
  });
});

describe('the README', () => {
  it('stays short: what it is, the two commands, one example per use, links into docs/ (at most 150 lines)', () => {
    const readme = read(join(ROOT, 'README.md'));
    expect(readme.split('\n').length).toBeLessThanOrEqual(150);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});

describe('generated docs', () => {
  const files = [join(ROOT, 'README.md'), ...docFiles];

  it.each(files.map((f) => [relative(ROOT, f), f] as const))('%s: every generated block is current (npm run docs)', (_, file) => {
    const text = read(file);
    expect(regenerate(text)).toBe(text);
  });

  it('the options tables are generated where the docs list options', () => {
    const names = files.flatMap((f) => blockNames(read(f)));
    for (const block of ['options:query', 'options:flag', 'options:policy', 'options:surfaces']) expect(names).toContain(block);
    for (const c of COMMANDS) expect(names).toContain(`help:${c.spec.name}`);
  });
});

describe('what the docs name exists', () => {
  const others = ['deploy/README.md', 'deploy/k8s/README.md', 'models/README.md', 'models/FORMAT.md', 'benchmarks/README.md'];
  const files = [join(ROOT, 'README.md'), ...docFiles, ...others.map((f) => join(ROOT, f)).filter((f) => existsSync(f))];
  const texts = files.map((f) => [relative(ROOT, f), read(f)] as const);
  const metrics = new Set<string>(Object.values(METRIC_NAMES));

  it.each(texts)('%s: every eero_* metric it names is exported (histograms with their _bucket/_sum/_count)', (_, text) => {
    const named = [...text.matchAll(/\beero_[a-z0-9_]+/g)].map((m) => m[0]).filter((n) => n !== 'eero_toolkit' && n !== 'eero_');
    const unknown = named.filter((n) => !metrics.has(n) && !metrics.has(n.replace(/_(bucket|sum|count)$/, '')));
    expect(unknown).toEqual([]);
  });

  it.each(texts)('%s: every route it names answers its method', (_, text) => {
    const bad: string[] = [];
    for (const m of text.matchAll(/\b(GET|POST|PUT|DELETE|HEAD) (\/[^\s`)|]*)/g)) {
      const path = (m[2] as string).replace(/\{[^}]+\}/g, 'x').replace(/[?#].*$/, '');
      const allowed = allowedMethods(path);
      if (!allowed?.includes(m[1] as string)) bad.push(m[0]);
    }
    expect(bad).toEqual([]);
  });

  it.each(texts)('%s: every flag it gives an eero command is one of that command', (_, text) => {
    const bad: string[] = [];
    for (const m of text.matchAll(/\beero (serve|classify|merge|calibrate|models)\b([^\n`]*)/g)) {
      const command = COMMANDS.find((c) => c.spec.name === m[1]);
      const flags = new Set([...Object.keys(command?.spec.flags ?? {}), 'help']);
      for (const f of (m[2] as string).matchAll(/(?:^|\s)--([a-z][a-z0-9-]*)/g))
        if (!flags.has(f[1] as string)) bad.push(`${m[1]} --${f[1]}`);
    }
    expect(bad).toEqual([]);
  });

  it.each(texts)('%s: every repository file it names under src/, test/, benchmarks/ or scripts/ exists', (_, text) => {
    const named = [...text.matchAll(/(?<![\w/.-])(?:src|test|benchmarks|scripts)\/[A-Za-z0-9_/.-]+\.(?:ts|mjs|js|sh|py)\b/g)].map(
      (m) => m[0],
    );
    expect(named.filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
  });

  it.each(texts)('%s: every parameter its example URLs give /v1/classify is a declared option', (_, text) => {
    const names = new Set(['model', ...onSurface([...ROUTING_OPTIONS, ...ANSWER_OPTIONS], 'query').map((s) => surfaceName(s, 'query'))]);
    const bad: string[] = [];
    for (const m of text.matchAll(/\/v1\/classify\?([^\s'"`)]+)/g)) {
      for (const pair of (m[1] as string).split('&')) {
        const name = decodeURIComponent(pair.split('=')[0] ?? '');
        if (!names.has(name)) bad.push(name);
      }
    }
    expect(bad).toEqual([]);
  });
});
