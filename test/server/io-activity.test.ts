/** IoActivity on the real event loop, with connections noted from later loop turns instead of sockets. */
import { IoActivity } from '../../src/server/io-activity';

/** Notes one connection in each of the next `turns` loop turns (as libuv accepts them). */
function activityOnNextTurns(activity: IoActivity, turns: number): void {
  let left = turns;
  const step = (): void => {
    if (left-- <= 0) return;
    activity.connected();
    setImmediate(step);
  };
  setImmediate(step);
}

describe('IoActivity.settle', () => {
  test('with nothing arriving it gives the loop one turn and returns', async () => {
    expect(await new IoActivity().settle()).toBe(1);
  });

  test('it keeps turning while each turn accepts a connection, and stops at the first turn without one', async () => {
    const activity = new IoActivity();
    activityOnNextTurns(activity, 5);
    const turns = await activity.settle();
    // Five turns accepted a connection each; the next (which reads the last one's request) accepted none.
    expect(turns).toBeGreaterThanOrEqual(6);
    expect(turns).toBeLessThanOrEqual(7);
  });

  test('a steady stream does not hold a batch back beyond maxTurns', async () => {
    const activity = new IoActivity(4);
    activityOnNextTurns(activity, 100);
    expect(await activity.settle()).toBe(4);
  });
});
