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
  test('with no connection accepted since the last settle it returns at once, without a turn', async () => {
    const activity = new IoActivity();
    expect(await activity.settle()).toBe(0);
    activity.connected();
    await activity.settle();
    expect(await activity.settle()).toBe(0);
  });

  test('after a connection it keeps turning while each turn accepts one, and stops at the first turn without one', async () => {
    const activity = new IoActivity();
    activity.connected();
    activityOnNextTurns(activity, 4);
    const turns = await activity.settle();
    // Four more turns accepted a connection each; the next (which reads the last one's request) accepted none.
    expect(turns).toBeGreaterThanOrEqual(5);
    expect(turns).toBeLessThanOrEqual(6);
  });

  test('a steady stream of connections does not hold a batch back beyond maxTurns', async () => {
    const activity = new IoActivity(4);
    activity.connected();
    activityOnNextTurns(activity, 100);
    expect(await activity.settle()).toBe(4);
  });
});
