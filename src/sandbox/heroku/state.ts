import {createHash, randomUUID} from 'node:crypto'
import type * as Api from '../../lib/api/types.js'
import {visibleUrl} from './network.js'

// The sandbox's model of Heroku: plain records shaped like the Platform API and Data API answers (the
// plugin's own types of them, src/lib/api/types.ts, with every field the sandbox answers with), plus the
// few private fields (prefixed with an underscore) that the sandbox needs to do real work.

export interface Release extends Api.Release {
  updated_at: string
  user: {id: string, email: string}
  slug: {id: string} | null
  output_stream_url: string | null
  addon_plan_names: string[]
  _config: Record<string, string>
  _output: string[]
}

export interface Slug extends Api.Slug {
  commit_description: string | null
  process_types: Record<string, string>
  created_at: string
  // The slug's tar.gz (paths under ./app/), when a scenario gave it files.
  _archive?: Buffer
}

export interface Formation extends Api.Process {
  id: string
}

export interface Addon extends Api.Addon {
  plan: {id: string, name: string}
  addon_service: {id: string, name: string}
  state: 'provisioning' | 'provisioned' | 'deprovisioned'
  created_at: string
  updated_at: string
  web_url: string
  _database?: {name: string, role: string, password: string, url: string, createdAt: number}
  // Point-in-time rollback (see point-in-time.ts): snapshots to roll back to, when the database is
  // ready after provisioning, and what a rollback database was copied from.
  _snapshots?: {at: number, name: string}[]
  _availableAt?: number
  _restoredFrom?: {addon: string, at: string, snapshotAt: string | null}
  // Out of this machine's reach (see network.ts).
  _unreachable?: true
  // An Advanced database's compute level (see advanced.ts).
  _level?: string
  // The leader it follows, credentials beyond the default one, settings changed from the defaults (see extras.ts).
  _following?: string
  _credentials?: string[]
  _settings?: Record<string, boolean | number | string>
  // An Advanced database's follower pools (see routes/advanced.ts).
  _pools?: {name: string, count: number, level: string}[]
}

export interface Attachment extends Api.Attachment {
  addon: {id: string, name: string, app: {id: string, name: string}}
  config_vars: string[]
  created_at: string
  updated_at: string
  web_url: string
}

export interface Transfer extends Api.Transfer {
  from_url: string
  options: Record<string, unknown>
  source_bytes: number | null
  warnings: number
  started_at: string | null
  updated_at: string
  canceled_at: string | null
  deleted_at: string | null
  schedule: {uuid: string} | null
  logs: {created_at: string, message: string, level: string}[]
  _app: string
  _addonId: string
  _snapshot?: string
}

// How a release's code answers requests (see traffic.ts): every request well; failing with the app's own
// 500s (all, or this percent of them); crashing at boot (dynos `crashed`, the router answers H10); or too
// slowly (the router gives up after 30 s: H12).
export type CodeBehaviour = 'healthy' | 'failing' | 'crashing' | 'slow' | {failing: number}

export interface TrafficSettings {
  // Requests a second the router sees while the app's logs are read (a log session, or its URL).
  perSecond: number
  // How each release's code answers, by version (`v53`) or commit (its first 7 or more characters);
  // code named nowhere is healthy.
  code: Record<string, CodeBehaviour>
}

export interface App extends Api.AppInfo {
  generation: {id: string, name: 'cedar' | 'fir'}
  created_at: string
  updated_at: string
  released_at: string
  web_url: string
  owner: {id: string, email: string}
  region: {id: string, name: string}
  stack: {id: string, name: string}
  build_stack: {id: string, name: string}
  space: null
  // A team's app: its collaborators' app permissions (view, deploy, operate, manage) decide what they may change.
  team: {id: string, name: string} | null
  // The sandbox user's app permissions on a team app; unset, the user may change everything (an owner, an admin).
  permissions?: string[]
  releases: Release[]
  slugs: Slug[]
  formation: Formation[]
  config: Record<string, string>
  // Knobs that make the sandbox fail the way Heroku can, for tests and demos.
  faults: {rollback?: {status: number, id: string, message: string}, releasePhaseFails?: boolean, dynosCrash?: boolean, dynosNeverStart?: boolean}
  dynoStates: Record<string, {state: string, version: number}>
  traffic: TrafficSettings
  // Labs and features by name (`preboot`), as `GET /apps/{app}/features` lists them.
  features: Record<string, boolean>
  // With preboot, the release the router still sends requests to until the switch (ms since the epoch).
  serving?: {version: number, until: number}
}

export const now = () => new Date().toISOString()

// A dyno's name as Heroku shows it: `web.1` on Cedar; on Fir a name of the release's deployment and a
// suffix of its own (`web-5d8c9f7b4-x2k9p`), new on every release.
export function dynoName(app: App, key: string, version: number): string {
  if (app.generation.name !== 'fir') return key
  const [type] = key.split('.')
  const hash = createHash('sha1').update(`${app.id}:${version}:${type}`).digest('hex')
  const suffix = createHash('sha1').update(`${app.id}:${version}:${key}`).digest('base64').replace(/[^a-z0-9]/g, '').slice(0, 5).padEnd(5, '0')
  return `${type}-${hash.slice(0, 10)}-${suffix}`
}

export const ago = (ms: number) => new Date(Date.now() - ms).toISOString()
export const uuid = () => randomUUID()
export const shortId = () => randomUUID().slice(0, 8)

export class SandboxState {
  apps = new Map<string, App>()
  addons = new Map<string, Addon>()
  attachments = new Map<string, Attachment>()
  transfers: Transfer[] = []
  user = {id: uuid(), email: 'sandbox@example.com'}
  nextTransferNum = 1

  app(name: string): App | undefined {
    return this.apps.get(name) ?? [...this.apps.values()].find(app => app.id === name)
  }

  createApp(name: string): App {
    const created = ago(90 * 24 * 3600 * 1000)
    const app: App = {
      id: uuid(), name, maintenance: false, created_at: created, updated_at: created, released_at: created,
      web_url: `https://${name}-${shortId()}.herokuapp.com/`,
      owner: this.user,
      region: {id: uuid(), name: 'us'},
      stack: {id: uuid(), name: 'heroku-24'},
      build_stack: {id: uuid(), name: 'heroku-24'},
      space: null, team: null,
      generation: {id: uuid(), name: 'cedar'},
      releases: [], slugs: [], formation: [], config: {}, faults: {}, dynoStates: {},
      traffic: {perSecond: 0, code: {}}, features: {},
    }
    this.apps.set(name, app)
    return app
  }

  // A database add-on by id or name, while it exists (the Data API's `:id`).
  database(key: string): Addon | undefined {
    const addon = this.addons.get(key) ?? [...this.addons.values()].find(a => a.name === key)
    return addon?._database && addon.state !== 'deprovisioned' ? addon : undefined
  }

  // Moves the app into a team where the sandbox user is a member with these app permissions.
  joinTeam(app: App, team: string, permissions: string[]) {
    app.team = {id: uuid(), name: team}
    app.owner = {id: uuid(), email: `${team}@herokumanager.com`}
    app.permissions = [...permissions]
  }

  currentRelease(app: App): Release | undefined {
    return app.releases.find(release => release.current)
  }

  // Adds a release the way Heroku does after a deploy, a config change or an attachment change.
  addRelease(app: App, fields: Partial<Release> & {description: string}, at = now()): Release {
    const previous = this.currentRelease(app)
    const version = (app.releases.at(-1)?.version ?? 0) + 1
    const status = fields.status ?? 'succeeded'
    const release: Release = {
      id: uuid(), version, status, created_at: at, updated_at: at,
      user: this.user,
      slug: previous?.slug ?? null,
      current: false,
      eligible_for_rollback: false,
      output_stream_url: null,
      addon_plan_names: this.addonsOf(app).map(addon => addon.plan.name),
      _config: {...app.config},
      _output: [],
      ...fields,
    }
    app.releases.push(release)
    if (status === 'succeeded') this.makeCurrent(app, release)
    app.released_at = at
    return release
  }

  makeCurrent(app: App, release: Release) {
    for (const other of app.releases) other.current = other === release
    release.eligible_for_rollback = release.status === 'succeeded'
    app.config = {...release._config}
    for (const process of app.formation) {
      for (let i = 1; i <= process.quantity; i++) {
        app.dynoStates[`${process.type}.${i}`] = {state: this.crashes(app, release) ? 'crashed' : 'up', version: release.version}
      }
    }
  }

  // How the code of a release answers: by its version, else by its slug's commit (see TrafficSettings).
  codeOf(app: App, release: Release | undefined): CodeBehaviour {
    if (!release) return 'healthy'
    const byVersion = app.traffic.code[`v${release.version}`]
    if (byVersion) return byVersion
    const commit = app.slugs.find(s => s.id === release.slug?.id)?.commit
    const named = commit && Object.entries(app.traffic.code).find(([key]) => key.length >= 7 && !/^v\d+$/.test(key) && commit.startsWith(key))
    return named ? named[1] : 'healthy'
  }

  // Its dynos crash as they boot (a fault of the app, or code that does).
  crashes(app: App, release: Release): boolean {
    return Boolean(app.faults.dynosCrash) || this.codeOf(app, release) === 'crashing'
  }

  // What Heroku does, since October 2025, to a release older than 30 days and 20 releases: it destroys
  // the slug (no longer readable) and the release can no longer be rolled back to.
  expire(app: App, release: Release) {
    release.status = 'expired'
    release.eligible_for_rollback = false
    const slugId = release.slug?.id
    if (slugId && !app.releases.some(r => r.status !== 'expired' && r.slug?.id === slugId)) app.slugs = app.slugs.filter(s => s.id !== slugId)
  }

  addSlug(app: App, commit: string, processTypes: Record<string, string> = {web: 'npm start'}, at = now()): Slug {
    const slug: Slug = {id: uuid(), commit, commit_description: `Deploy ${commit.slice(0, 7)}`, process_types: processTypes, created_at: at}
    app.slugs.push(slug)
    return slug
  }

  addonsOf(app: App): Addon[] {
    const ids = new Set([...this.attachments.values()].filter(a => a.app.id === app.id).map(a => a.addon.id))
    return [...this.addons.values()].filter(addon => ids.has(addon.id) && addon.state !== 'deprovisioned')
  }

  attachmentsOf(app: App): Attachment[] {
    return [...this.attachments.values()].filter(a => a.app.id === app.id)
  }

  addonName(kind = 'postgresql'): string {
    const words = ['angular', 'curved', 'rigid', 'shaped', 'clear', 'silent', 'tidy', 'vivid']
    const pick = () => words[Math.floor(Math.random() * words.length)]
    return `${kind}-${pick()}-${Math.floor(Math.random() * 90000) + 10000}`
  }

  attach(app: App, addon: Addon, name: string, namespace: string | null = null): Attachment {
    const at = now()
    const attachment: Attachment = {
      id: uuid(), name, namespace,
      addon: {id: addon.id, name: addon.name, app: addon.app},
      app: {id: app.id, name: app.name},
      config_vars: [`${name}_URL`],
      created_at: at, updated_at: at,
      web_url: `https://data.heroku.com/datastores/${addon.id}`,
    }
    this.attachments.set(attachment.id, attachment)
    if (addon._database) app.config[`${name}_URL`] = visibleUrl(addon)
    return attachment
  }

  detach(app: App, attachment: Attachment) {
    this.attachments.delete(attachment.id)
    for (const name of attachment.config_vars) delete app.config[name]
  }

  transferName(transfer: Transfer): string {
    const prefix = transfer.to_type === 'pg_restore' ? 'r' : transfer.from_type === 'pg_dump' && transfer.to_type === 'gof3r'
      ? (transfer.schedule ? 'a' : 'b') : 'c'
    return `${prefix}${String(transfer.num).padStart(3, '0')}`
  }
}
