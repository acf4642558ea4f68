// A plugin's identity as `info` shows it. Here rather than in src/plugin/ because both threads
// build one: the core for TypeScript plugins, the script threads for scripts (getName etc.).

/** What the core shows in `info` and registers the plugin under (`package`). */
export interface PluginInfo {
  /** The name clients attach to, e.g. `janus.plugin.echolua`. */
  package: string;
  /** Human-readable name (Janus's `get_name`). */
  name: string;
  /** One line on what the plugin does (Janus's `get_description`). */
  description: string;
  /** Who wrote it (Janus's `get_author`). */
  author: string;
  /** Numeric version (Janus's `get_version`). */
  version: number;
  /** Version as text (Janus's `get_version_string`). */
  versionString: string;
}
