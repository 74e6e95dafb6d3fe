/** The words beside a classified image: why it stopped where it did, and what skipping the later exits saved. */
import { restNote, why } from '../../../../src/server/status-page/client/answer-text';

test('why names the reason the image stopped, including one the page does not know', () => {
  expect(why({ stoppedBy: 'confidence', exit: 3 })).toMatch(/^Stopped at exit 3: its score cleared the threshold/);
  expect(why({ stoppedBy: 'ledger', exit: 2 })).toMatch(/^Forced out at exit 2 by the budget ledger/);
  expect(why({ stoppedBy: 'deadline', exit: 1 })).toBe('Forced out at exit 1 by the request deadline.');
  expect(why({ stoppedBy: 'last-exit', exit: 8 })).toMatch(/^Ran to the last exit \(8\)/);
  expect(why({ stoppedBy: 'agreement', exit: 4 })).toBe('Stopped at exit 4 (agreement).');
});

test('restNote names the exits not run and the share saved, or says every exit ran', () => {
  expect(restNote({ exit: 3, exits: 8, cost: { fraction: 0.25 } })).toMatch(/^Exits 4–8 not run: 75[.,]0% of the full model saved\.$/);
  expect(restNote({ exit: 7, exits: 8, cost: { fraction: 0.9 } })).toMatch(/^Exits 8 not run: 10[.,]0% of the full model saved\.$/);
  expect(restNote({ exit: 8, exits: 8, cost: { fraction: 1 } })).toBe("Every exit ran: the full model's cost.");
});
