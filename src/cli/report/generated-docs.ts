/**
 * The parts of docs/ that are derived from the code: each command's --help and
 * the options tables of every surface, from the declared options. They sit in
 * the docs between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`;
 * `npm run docs` rewrites them and the docs test checks them, so they cannot drift.
 */
import { expectedText, onSurface, surfaceName, type OptionSpec, type Surface } from '../../config';
import { ANSWER_OPTIONS, ROUTING_OPTIONS } from '../../pipeline';
import { scorers } from '../../router';
import { helpText } from '../args';
import { COMMANDS } from '../commands';

const DECLARED: readonly OptionSpec[] = [...ROUTING_OPTIONS, ...ANSWER_OPTIONS];

const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The options of one surface as a table: name, what it accepts, default, what it does. */
export function optionsTable(surface: Surface, specs: readonly OptionSpec[] = DECLARED): string {
  const rows = onSurface(specs, surface).map((s) => {
    const flag = surface === 'flag' && s.short ? `-${s.short}, ` : '';
    return `| \`${flag}${surfaceName(s, surface)}\` | ${cell(expectedText(s))} | ${s.default === undefined ? 'none' : `\`${s.default}\``} | ${cell(s.doc)} |`;
  });
  return ['| name | accepts | default | what |', '|---|---|---|---|', ...rows].join('\n');
}

/** Every option and the name each surface gives it. */
export function surfacesTable(specs: readonly OptionSpec[] = DECLARED): string {
  const surfaces: Surface[] = ['query', 'v2', 'flag', 'policy', 'serve'];
  const rows = specs.map((s) => {
    const names = surfaces.map((sf) => (s.surfaces.includes(sf) ? `\`${surfaceName(s, sf)}\`` : '–'));
    return `| ${s.key} | ${names.join(' | ')} |`;
  });
  return [
    '| option | HTTP query/form | v2 / gRPC parameters | CLI flag | policy file | serve config |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function inGraph(s: ReturnType<typeof scorers>[number]): string {
  if (s.graphCode === undefined) return 'no: the stage chain routes';
  // A fitted score is in the graph its bundle composed with its params (models/FORMAT.md `earlyExit.scores`).
  return s.fitted
    ? `yes (\`score_kind\` ${s.graphCode}) where the bundle's graph was composed with its file`
    : `yes (\`score_kind\` ${s.graphCode})`;
}

/** The exit scores in the registry (router/scorers), and whether the one graph computes each itself. */
export function scoresTable(): string {
  const rows = scorers().map((s) => `| \`${s.name}\` | ${cell(s.description)} | ${inGraph(s)} |`);
  return ['| score | what | in the one graph |', '|---|---|---|', ...rows].join('\n');
}

/** The generated blocks by name. */
export function generatedBlock(name: string): string | undefined {
  const [kind, arg = ''] = name.split(':');
  if (kind === 'scores') return scoresTable();
  if (kind === 'help') {
    const command = COMMANDS.find((c) => c.spec.name === arg);
    return command ? `\`\`\`\n${helpText(command.spec)}\`\`\`` : undefined;
  }
  if (kind === 'options') {
    if (arg === 'surfaces') return surfacesTable();
    const surface = arg as Surface;
    return ['query', 'v2', 'flag', 'policy', 'serve'].includes(surface) ? optionsTable(surface) : undefined;
  }
  return undefined;
}

const BLOCK = /<!-- generated:([\w:-]+) -->\n[\s\S]*?<!-- \/generated:\1 -->/g;

/** `markdown` with every generated block rewritten; throws on a block name nothing generates. */
export function regenerate(markdown: string): string {
  return markdown.replace(BLOCK, (_, name: string) => {
    const body = generatedBlock(name);
    if (body === undefined) throw new Error(`unknown generated block "${name}"`);
    return `<!-- generated:${name} -->\n${body}\n<!-- /generated:${name} -->`;
  });
}

/** The names of the generated blocks in `markdown`. @internal For the tests. */
export function blockNames(markdown: string): string[] {
  return [...markdown.matchAll(BLOCK)].map((m) => m[1] as string);
}
