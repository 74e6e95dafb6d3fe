/** IoActivity on the real event loop, with activity noted from later loop turns instead of sockets. */
import { IoActivity } from '../../src/server/io-activity';

/** Notes one activity in each of the next `turns` loop turns (as one connection accepted per turn would). */
function activityOnNextTurns(activity: IoActivity, turns: number): void {
  let left = turns;
  const step = (): void => {
    if (left-- <= 0) return;
    activity.note();
    setImmediate(step);
  };
  setImmediate(step);
}

describe('IoActivity.settle', () => {
  test('with nothing arriving it gives the loop one turn and returns', async () => {
    expect(await new IoActivity().settle()).toBe(1);
  });

  test('it keeps turning while each turn brings something new, and stops at the first quiet turn', async () => {
    const activity = new IoActivity();
    activityOnNextTurns(activity, 5);
    const turns = await activity.settle();
    // Five turns brought a connection or request each, the next was quiet.
    expect(turns).toBeGreaterThanOrEqual(6);
    expect(turns).toBeLessThanOrEqual(7);
  });

  test('a steady stream does not hold a batch back beyond maxTurns', async () => {
    const activity = new IoActivity(4);
    activityOnNextTurns(activity, 100);
    expect(await activity.settle()).toBe(4);
  });
});
