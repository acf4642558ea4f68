// The ordered list of our edits to mediasoup 3.12.16 (worker C++ sources, its meson files,
// and its Node lib). scripts/build-worker.mjs applies them in this order; each edit must find
// its `find` text exactly `count` times (default 1) in the file as left by the edits before
// it, or the build stops naming the edit. To add an edit: append it to a series file (or add
// a new series file and list it below); the worker cache key changes with it automatically.
// See patches/README.md for what each series is for.

import meson from './00-meson-system-deps.mjs';
import consumerWire from './10-consumer-wire.mjs';
import dcep from './20-dcep-to-node.mjs';
import nodeConsumeWire from './30-node-consume-wire.mjs';
import nodeConsumeDataStream from './40-node-consume-data-stream.mjs';

/**
 * @typedef {object} Edit
 * @property {string} id          unique, stable name (used in error messages)
 * @property {'worker'|'node'} target  'worker': path under mediasoup/worker (changes the
 *   binary, so part of the cache key); 'node': path under the mediasoup package (node/lib),
 *   applied to node_modules on every install
 * @property {string} file        path relative to the target root
 * @property {string} why         what the edit does and why (upstream issue it stands in for)
 * @property {string} find        exact text to find
 * @property {string} replace     replacement text
 * @property {number} [count]     expected number of occurrences (default 1); all are replaced
 */

/** @type {Edit[]} */
export const edits = [...meson, ...consumerWire, ...dcep, ...nodeConsumeWire, ...nodeConsumeDataStream];

/** The mediasoup version these edits are written against. */
export const MEDIASOUP_VERSION = '3.12.16';
