/**
 * The routing flags of every command that routes images, derived from the
 * declared options (pipeline's ROUTING_OPTIONS): names, help lines and
 * validation all come from the one declaration.
 */
import { expectedText, onSurface, surfaceName, type OptionSpec } from '../../config';
import { ROUTING_OPTIONS } from '../../pipeline';
import type { FlagSpec } from '../args';

/** The help line of an option: its doc, what it takes when that is not obvious, and its default. */
function flagDescription(spec: OptionSpec): string {
  const takes = spec.kind === 'choice' ? `: ${(spec.choices?.() ?? []).join(' | ')}` : '';
  const range = spec.kind === 'number' || spec.kind === 'integer' ? ` (${expectedText(spec)})` : '';
  return `${spec.doc}${takes}${range}`;
}

/** CLI flags for `specs` (by default every routing option on the flag surface), keyed by flag name without `--`. */
export function optionFlags(
  specs: readonly OptionSpec[] = ROUTING_OPTIONS,
  defaults: Readonly<Record<string, string>> = {},
): Record<string, FlagSpec> {
  const flags: Record<string, FlagSpec> = {};
  for (const spec of onSurface(specs, 'flag')) {
    const name = surfaceName(spec, 'flag').slice(2);
    const dflt = defaults[spec.key] ?? spec.default;
    flags[name] = {
      type: spec.kind === 'boolean' ? 'boolean' : 'string',
      description: flagDescription(spec),
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.valueName ? { valueName: spec.valueName } : {}),
      ...(dflt !== undefined ? { shownDefault: dflt } : {}),
    };
  }
  return flags;
}

/** Only the options with these keys (a command that takes some of them). */
export function someOptions(keys: readonly string[], specs: readonly OptionSpec[] = ROUTING_OPTIONS): OptionSpec[] {
  return specs.filter((s) => keys.includes(s.key));
}
