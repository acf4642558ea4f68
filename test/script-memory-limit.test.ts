// The script threads' memory watchdog (workers/memory.ts): over-limit readings are confirmed
// with a full GC; during a task at most one forced GC per 100 ms, after a task always.

import { expect } from 'chai';
import { MemoryLimit } from '../workers/memory';

describe('script memory watchdog', () => {
  it('confirms an over-limit reading after a task even right after a GC forced mid-task', () => {
    const limit = new MemoryLimit();
    // Any heap is over one byte: every reading is over the limit, live memory included.
    limit.limitBytes = 1;
    // Mid-task (the Lua hook): the first reading forces a GC and counts...
    expect(limit.check().overMemory).to.equal(true);
    // ...the next within 100 ms does not count yet (no GC on every hook step)...
    expect(limit.check().overMemory).to.equal(false);
    // ...but the task's final check still sees it: the script may get no other task.
    expect(limit.checkAfterTask().overMemory).to.equal(true);
  });

  it('is under the limit when the heap is', () => {
    const limit = new MemoryLimit();
    limit.limitBytes = 64 * 1024 ** 3;
    expect(limit.check()).to.deep.include({ overMemory: false });
    expect(limit.checkAfterTask()).to.deep.include({ overMemory: false });
    expect(limit.checkAfterTask().memoryBytes).to.be.above(0);
  });
});
