/**
 * SIGTERM and SIGINT for `eero serve`. Node's default for both is to die at
 * once, and loading the service's modules takes a while (onnxruntime, sharp):
 * a SIGTERM then, before the command has its handlers, ended the process by
 * the signal. So main holds them from its first lines (`holdSignals`), and the
 * command takes them over (`onSignals`), getting any that came meanwhile.
 */
const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

const held: NodeJS.Signals[] = [];
let holding = false;
const hold = (signal: NodeJS.Signals): void => {
  held.push(signal);
};

/** From now on SIGTERM and SIGINT are kept for `onSignals`, not fatal. */
export function holdSignals(): void {
  if (holding) return;
  holding = true;
  for (const s of SIGNALS) process.on(s, hold);
}

/** Sends SIGTERM and SIGINT (and any held ones, in order, on the next tick) to `handler`; returns the detach. */
export function onSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  // The handler goes in before the hold comes out: no moment without one.
  for (const s of SIGNALS) process.on(s, handler);
  if (holding) {
    for (const s of SIGNALS) process.off(s, hold);
    holding = false;
  }
  for (const s of held.splice(0)) process.nextTick(() => handler(s));
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
  };
}
