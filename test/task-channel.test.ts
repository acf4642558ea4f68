// How queued script callbacks are cut into tasks: up to 64 per task, and a message carrying a
// JSEP ends its task, so the answers to offers queued together are not held back by the
// offers after them (bench/README.md, "Seventeenth session").

import { expect } from 'chai';
import type { CallTask } from '../src/common/bridge';
import { nextTaskSize } from '../src/script/task-channel';

const bytes = new TextEncoder().encode('{}');
const message = (session: number): { call: CallTask } => ({ call: { session, handleMessage: { transaction: 't', message: bytes } } });
const offer = (session: number): { call: CallTask } => ({ call: { session, handleMessage: { transaction: 't', message: bytes, jsep: bytes } } });
const setup = (session: number): { call: CallTask } => ({ call: { session, setupMedia: {} } });

/** The task sizes nextTaskSize cuts `queued` into. */
function cut(queued: Array<{ call: CallTask }>): number[] {
  const sizes: number[] = [];
  for (let rest = queued; rest.length > 0;) {
    const size = nextTaskSize(rest);
    sizes.push(size);
    rest = rest.slice(size);
  }
  return sizes;
}

describe('script tasks', function () {
  it('keep callbacks without a JSEP together, up to 64 a task', function () {
    expect(cut([message(1), setup(2), message(3)])).to.deep.equal([3]);
    expect(cut(Array.from({ length: 150 }, (_, i) => message(i)))).to.deep.equal([64, 64, 22]);
    expect(nextTaskSize([])).to.equal(0);
  });

  it('end a task after each message with a JSEP', function () {
    expect(cut([offer(1), offer(2), offer(3)])).to.deep.equal([1, 1, 1]);
    expect(cut([message(1), setup(2), offer(3), message(4), offer(5), setup(6)])).to.deep.equal([3, 2, 1]);
    // A null JSEP is no JSEP.
    expect(cut([{ call: { session: 1, handleMessage: { transaction: 't', message: bytes, jsep: null } } }, message(2)])).to.deep.equal([2]);
  });
});
