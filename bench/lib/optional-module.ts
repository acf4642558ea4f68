// The bench's WebRTC peers come from optional dependencies (native prebuilt binaries that may
// not install everywhere): loaded on first use, with a one-line failure naming the fix.

import { BenchFailure } from './errors';

/** `require(name)`, or a BenchFailure with `hint(reason)` when it does not load. */
export function loadOptional<T>(name: string, hint: (reason: string) => string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (error) {
    throw new BenchFailure(hint((error as Error).message.split('\n')[0] ?? ''));
  }
}
