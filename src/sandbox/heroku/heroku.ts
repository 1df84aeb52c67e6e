import {ApiError} from './errors.js'
import {Logplex} from './logplex.js'
import {checkpoint, handOver, Snapshot} from './point-in-time.js'
import type {PostgresServer} from './postgres.js'
import {SandboxS3} from './s3.js'
import {Addon, App, Attachment, dynoName, Release, SandboxState, Transfer, now, shortId, uuid} from './state.js'
import {Traffic} from './traffic.js'

// The simulated Heroku: its state (state.ts) and what it does over time, the way Heroku does it:
// releases and their release phase, dynos booting, add-ons provisioned and attached, backups and
// restores, snapshots for point-in-time rollbacks, S3 buckets. Work that takes time runs in the
// background, `delays` long; `settle` waits for all of it. routes/ serves it over HTTP.

// How long simulated work takes, in milliseconds. `prebootSwitch`: with preboot, how long the old dynos
// go on serving after the new ones are up (about 3 minutes at Heroku).
export interface Delays {transfer: number, releasePhase: number, dynoBoot: number, provision: number, prebootSwitch: number}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const COLORS = ['AMBER', 'BLUE', 'BRONZE', 'CHARCOAL', 'COBALT', 'CRIMSON', 'GOLD', 'GRAY', 'GREEN', 'IVORY', 'MAUVE', 'NAVY', 'OLIVE', 'ONYX', 'ORANGE', 'PINK', 'PURPLE', 'RED', 'SILVER', 'TEAL', 'WHITE', 'YELLOW']

export class Heroku {
  readonly state = new SandboxState()
  // Versioned S3 buckets (see s3.ts), served path-style under /s3: `s3Endpoint` is what apps' config vars name.
  readonly s3 = new SandboxS3()
  // What the router, the dynos and the app write (logplex.ts), and the requests that come in (traffic.ts).
  readonly logplex = new Logplex()
  readonly traffic = new Traffic(this.state, this.logplex)
  delays: Delays
  // Where it is served, once the server listens: release streams, backups and slug archives have URLs under it.
  url = ''
  private pending = new Set<Promise<unknown>>()

  constructor(readonly pg: PostgresServer, delays: Partial<Delays> = {}) {
    this.delays = {transfer: 300, releasePhase: 600, dynoBoot: 400, provision: 800, prebootSwitch: 3000, ...delays}
    this.logplex.onReaders = (app, readers) => this.traffic.reading(app, readers)
  }

  get s3Endpoint(): string {
    return `${this.url}/s3`
  }

  // Waits for simulated background work (backups, release phases) to finish.
  async settle() {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  background(work: () => Promise<unknown>) {
    const task = work().catch(() => {}).finally(() => this.pending.delete(task))
    this.pending.add(task)
  }

  colorName(app: App): string {
    const taken = new Set(this.state.attachmentsOf(app).map(a => a.name))
    const free = COLORS.map(c => `HEROKU_POSTGRESQL_${c}`).filter(name => !taken.has(name))
    return free[Math.floor(Math.random() * free.length)] ?? `HEROKU_POSTGRESQL_${shortId().toUpperCase()}`
  }

  // --- Apps and releases ----------------------------------------------------------------------------

  createApp(name: string): App {
    return this.state.createApp(name)
  }

  rollback(app: App, target: Release): Release {
    const hasReleasePhase = app.formation.some(p => p.type === 'release')
    const serving = this.traffic.servingVersion(app)
    const release = this.state.addRelease(app, {
      description: `Rollback to v${target.version}`,
      slug: target.slug,
      _config: {...target._config},
      status: hasReleasePhase ? 'pending' : 'succeeded',
    })
    this.logplex.write(app, {source: 'heroku', process: 'api', text: `Rollback to v${target.version} by user ${this.state.user.email}`})
    if (hasReleasePhase) this.runReleasePhase(app, release)
    else this.bootDynos(app, release, serving)
    return release
  }

  runReleasePhase(app: App, release: Release) {
    const command = app.formation.find(p => p.type === 'release')?.command ?? ''
    release.output_stream_url = `${this.url}/streams/${release.id}`
    this.background(async () => {
      await sleep(this.delays.releasePhase)
      release._output.push(`Running release command: ${command}`)
      if (app.faults.releasePhaseFails) {
        release._output.push('Error: release command exited with status 1')
        release.status = 'failed'
      } else {
        release._output.push('Release command finished.')
        release.status = 'succeeded'
        const serving = this.traffic.servingVersion(app)
        this.state.makeCurrent(app, release)
        this.bootDynos(app, release, serving)
      }
      release.updated_at = now()
    })
  }

  // The dynos of a new release start; with preboot, those of the release `before` go on serving until the switch.
  bootDynos(app: App, release: Release, before?: number) {
    const preboot = app.features.preboot && before !== undefined && before !== release.version
    if (preboot) app.serving = {version: before, until: Infinity}
    for (const [name, dyno] of Object.entries(app.dynoStates)) {
      if (dyno.version === release.version) this.dyno(app, name, 'starting', release.version)
    }
    if (app.faults.dynosNeverStart) return
    this.background(async () => {
      await sleep(this.delays.dynoBoot)
      const crashes = this.state.crashes(app, release)
      for (const [name, dyno] of Object.entries(app.dynoStates)) {
        if (dyno.version === release.version) this.dyno(app, name, crashes ? 'crashed' : 'up', release.version)
      }
      if (preboot && app.serving?.version === before) app.serving.until = Date.now() + this.delays.prebootSwitch
    })
  }

  // A dyno's new state, and the lines Heroku writes about it.
  private dyno(app: App, key: string, state: string, version: number) {
    const was = app.dynoStates[key]?.state
    app.dynoStates[key] = {state, version}
    const process = dynoName(app, key, version)
    const write = (text: string) => this.logplex.write(app, {source: 'heroku', process, text})
    if (state === 'starting') write(`Starting process with command \`${app.formation.find(p => key.startsWith(`${p.type}.`))?.command ?? ''}\``)
    if (state === 'crashed') write('Process exited with status 1')
    if (was !== state) write(`State changed from ${was === 'starting' || was === 'crashed' ? was : 'up'} to ${state}`)
  }

  scale(app: App, type: string, quantity: number) {
    const process = app.formation.find(p => p.type === type)
    if (!process) throw new ApiError(404, 'not_found', `Couldn't find that process type (${type}).`)
    process.quantity = Number(quantity)
    const version = this.state.currentRelease(app)?.version ?? 1
    for (const name of Object.keys(app.dynoStates)) if (name.startsWith(`${type}.`)) delete app.dynoStates[name]
    for (let i = 1; i <= process.quantity; i++) app.dynoStates[`${type}.${i}`] = {state: 'up', version}
    return {...process, app: {id: app.id, name: app.name}}
  }

  // --- Add-ons and databases --------------------------------------------------------------------------

  async createPostgres(app: App, plan = 'heroku-postgresql:standard-0', attachAs = 'DATABASE', options: {createdAt?: number, release?: boolean} = {}): Promise<Addon> {
    const name = this.state.addonName()
    const dbName = `d${shortId()}`
    const {role, password} = await this.pg.createDatabase(dbName)
    const at = now()
    const addon: Addon = {
      id: uuid(), name, app: {id: app.id, name: app.name}, plan: {id: uuid(), name: plan},
      addon_service: {id: uuid(), name: 'heroku-postgresql'}, state: 'provisioned', config_vars: [`${attachAs}_URL`],
      created_at: at, updated_at: at, web_url: 'https://data.heroku.com/',
      _database: {name: dbName, role, password, url: this.pg.urlFor(dbName, role, password), createdAt: options.createdAt ?? Date.now()},
    }
    this.state.addons.set(addon.id, addon)
    if (options.release === false) this.state.attach(app, addon, attachAs)
    else this.attachWithRelease(app, addon, attachAs)
    return addon
  }

  attachWithRelease(app: App, addon: Addon, name: string, replacing?: Attachment, namespace: string | null = null): Attachment {
    if (replacing) {
      this.state.detach(app, replacing)
      this.state.addRelease(app, {description: `Detach ${replacing.name} (@ref:${replacing.addon.name})`})
    }
    const attachment = this.state.attach(app, addon, name, namespace)
    this.state.addRelease(app, {description: `Attach ${name} (@ref:${addon.name})`})
    return attachment
  }

  destroyAddon(addon: Addon): Addon {
    for (const attachment of [...this.state.attachments.values()].filter(a => a.addon.id === addon.id)) {
      const app = this.state.app(attachment.app.id)!
      this.state.detach(app, attachment)
      this.state.addRelease(app, {description: `Detach ${attachment.name} (@ref:${addon.name})`})
    }
    addon.state = 'deprovisioned'
    if (addon._database) this.background(() => this.pg.dropDatabase(addon._database!.name))
    return addon
  }

  // Runs SQL on an add-on's database as the add-on's own role, as an app would.
  async sql<T extends Record<string, any> = any>(addon: Addon, text: string, params: unknown[] = []): Promise<T[]> {
    const {default: pg} = await import('pg')
    const client = new pg.Client({connectionString: addon._database!.url})
    await client.connect()
    try {
      return (await client.query<T>(text, params)).rows
    } finally {
      await client.end()
    }
  }

  billingAttachmentName(addon: Addon): string {
    return [...this.state.attachments.values()].find(a => a.addon.id === addon.id && a.app.id === addon.app.id)?.name ?? addon.name
  }

  newTransfer(addon: Addon, fields: Partial<Transfer>): Transfer {
    const at = now()
    const transfer: Transfer = {
      uuid: uuid(), num: this.state.nextTransferNum++,
      from_name: this.billingAttachmentName(addon), from_type: 'pg_dump', from_url: '',
      to_name: 'BACKUP', to_type: 'gof3r', to_url: '',
      options: {}, source_bytes: null, processed_bytes: 0, succeeded: null, warnings: 0,
      created_at: at, started_at: at, finished_at: null, updated_at: at, canceled_at: null, deleted_at: null,
      schedule: null, logs: [], _app: addon.app.name, _addonId: addon.id,
      ...fields,
    }
    this.state.transfers.push(transfer)
    return transfer
  }

  // A backup copies the whole database into a snapshot database that a restore copies back.
  capture(addon: Addon, options: {scheduled?: boolean, fails?: boolean, finishedAt?: string} = {}): Transfer {
    const transfer = this.newTransfer(addon, {schedule: options.scheduled ? {uuid: uuid()} : null})
    transfer.to_url = `${this.url}/backups/${transfer.uuid}`
    transfer.from_url = `postgres://127.0.0.1:${this.pg.port}/${addon._database!.name}`
    this.background(async () => {
      await sleep(this.delays.transfer)
      const finish = (succeeded: boolean, message: string) => Object.assign(transfer, {
        succeeded, finished_at: options.finishedAt ?? now(), updated_at: now(),
        logs: [...transfer.logs, {created_at: now(), level: succeeded ? 'info' : 'error', message}],
      })
      if (options.fails) return finish(false, 'pg_dump: error: connection to server failed')
      try {
        const snapshot = `s${transfer.uuid.replace(/-/g, '').slice(0, 16)}`
        await this.pg.cloneDatabase(addon._database!.name, snapshot)
        const bytes = await this.pg.databaseSize(snapshot)
        Object.assign(transfer, {_snapshot: snapshot, source_bytes: bytes, processed_bytes: bytes})
        finish(true, 'backup done')
      } catch (error) {
        finish(false, `pg_dump: error: ${(error as Error).message}`)
      }
    })
    return transfer
  }

  // A snapshot of the database as it is now, for point-in-time rollbacks to reach (see point-in-time.ts).
  checkpoint(addon: Addon): Promise<Snapshot> {
    return checkpoint(this.pg, addon)
  }

  restore(addon: Addon, backupUrl: string): Transfer {
    const backup = this.state.transfers.find(t => t.to_url === backupUrl && t.succeeded && t._snapshot)
    const transfer = this.newTransfer(addon, {
      from_name: backup ? this.state.transferName(backup) : 'BACKUP', from_type: 'gof3r', from_url: backupUrl,
      to_name: this.billingAttachmentName(addon), to_type: 'pg_restore', to_url: `postgres://127.0.0.1:${this.pg.port}/${addon._database!.name}`,
    })
    this.background(async () => {
      await sleep(this.delays.transfer)
      const finish = (succeeded: boolean, message: string) => Object.assign(transfer, {
        succeeded, finished_at: now(), updated_at: now(), logs: [{created_at: now(), level: succeeded ? 'info' : 'error', message}],
      })
      if (!backup) return finish(false, 'pg_restore: error: could not read the backup: not found')
      try {
        const db = addon._database!
        await this.pg.dropDatabase(db.name)
        await this.pg.cloneDatabase(backup._snapshot!, db.name, db.role)
        const sourceRole = this.state.addons.get(backup._addonId)?._database?.role
        if (sourceRole && sourceRole !== db.role) await handOver(this.pg, db.name, sourceRole, db.role)
        const bytes = await this.pg.databaseSize(db.name)
        Object.assign(transfer, {source_bytes: bytes, processed_bytes: bytes})
        await this.checkpoint(addon)
        finish(true, 'restore done')
      } catch (error) {
        finish(false, `pg_restore: error: ${(error as Error).message}`)
      }
    })
    return transfer
  }
}
