import { main } from '../../src/cli/main';
import { COMMANDS } from '../../src/cli/commands';
import { exitCodeFor } from '../../src/cli/exit-codes';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('eero main', () => {
  it.each(COMMANDS.map((c) => c.spec.name))('prints --help for %s with usage and every flag, exit 0', async (name) => {
    const { code, out } = await capture([name, '--help']);
    expect(code).toBe(0);
    expect(out).toContain(`Usage: eero ${name}`);
    for (const flag of Object.keys(COMMANDS.find((c) => c.spec.name === name)!.spec.flags)) expect(out).toContain(`--${flag}`);
  });

  it('lists the commands with no arguments and exits 2', async () => {
    const { code, out } = await capture([]);
    expect(code).toBe(2);
    for (const c of COMMANDS) expect(out).toContain(c.spec.name);
  });

  it('prints our errors as one line with the code and maps them to their exit code', async () => {
    const { code, err } = await capture(['classify', 'x', '--batch', 'zero']);
    expect(code).toBe(exitCodeFor('BAD_PARAMETER'));
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/\[BAD_PARAMETER\]$/m);
  });

  it('names an unknown flag', async () => {
    const { code, err } = await capture(['calibrate', '--nope']);
    expect(code).toBe(2);
    expect(err).toContain('--nope');
  });

  it('refuses a broken model folder with the model exit code', async () => {
    const { code, err } = await capture(['classify', '.', '--model', '/nonexistent/bundle']);
    expect(code).toBe(exitCodeFor('MODEL_FILE_MISSING'));
    expect(err).toMatch(/MODEL|manifest/);
  });
});
