// Which databases this machine can reach. SIMULATED: at Heroku a database may sit behind a firewall or in
// a private space, out of reach of the machine the CLI runs on, while the API still answers for it. Here
// an unreachable database's config vars name a port on which nothing listens (connections are refused at
// once); the database itself, and the sandbox's own access to it (`sql`), are unchanged. A database made
// from an unreachable one (a point-in-time rollback) is in the same network: unreachable too.

// What of an add-on and of the apps this needs (state.ts uses it: no import back).
interface Reachable {
  _database?: {url: string}
  _unreachable?: true
}

type Apps = {apps: Map<string, {config: Record<string, string>}>}

// Port 1 (tcpmux) is not served on any machine the sandbox runs on.
const UNREACHABLE_PORT = 1

// The URL the add-on's config vars hold: its real one, or one this machine cannot reach.
export function visibleUrl(addon: Reachable): string {
  const url = addon._database!.url
  if (!addon._unreachable) return url
  const parsed = new URL(url)
  parsed.port = String(UNREACHABLE_PORT)
  return parsed.toString()
}

// The knob: the database can no longer be reached from this machine (or again, with `reachable: true`).
// Every config var that names it, on every app, follows.
export function setReachable(state: Apps, addon: Reachable, reachable: boolean) {
  const before = visibleUrl(addon)
  addon._unreachable = reachable ? undefined : true
  const after = visibleUrl(addon)
  for (const app of state.apps.values()) {
    for (const [key, value] of Object.entries(app.config)) if (value === before) app.config[key] = after
  }
}
