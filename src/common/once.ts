// A call that takes effect once: releases, closes and arrivals that callers may repeat.

/** `action` wrapped so that only its first call runs it; later calls do nothing. */
export function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
