// How the set-up scripts call apt-get install. A fresh Debian machine often has another apt
// (unattended-upgrades, a provisioning step) holding dpkg's lock for a while; without this
// apt-get fails at once and `npm ci` with it.

/** apt-get options: wait up to 5 minutes for dpkg's lock instead of failing. */
export const APT_WAIT_FOR_LOCK = ['-o', 'DPkg::Lock::Timeout=300'];
