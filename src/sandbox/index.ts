import {createServer, IncomingMessage, Server, ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {randomBytes} from 'node:crypto'
import {setTimeout as sleepUnless} from 'node:timers/promises'
import {dataRoutes} from './routes/data.js'
import {appliesBeforeFault, Fault, faultLabel, faultReply, Faults, Injected} from './server/faults.js'
import {ApiError, readBody, Reply, Router, send} from './server/http.js'
import {platformRoutes} from './routes/platform.js'
import {s3FaultReply, SandboxS3} from './heroku/s3.js'
import {checkpoint, handOver, pointInTimeRoutes, Snapshot} from './heroku/point-in-time.js'
import {PostgresServer, startPostgres} from './heroku/postgres.js'
import type {PostgresOptions} from './heroku/postgres-process.js'
import {Addon, App, Attachment, Release, SandboxState, Transfer, now, shortId, uuid} from './heroku/state.js'

export interface RecordedRequest {
  method: string
  path: string
  query: string
  body: any
  headers: Record<string, string | string[] | undefined>
  // The injected fault it hit ('status-503', 'reset-after'...), and whether its handler ran.
  fault?: string
  applied: boolean
  // When it arrived, and when its answer was sent (ms since the epoch).
  at: number
  done?: number
}

export interface SandboxOptions {
  port?: number
  postgresPort?: number
  apiKey?: string
  // How long simulated work takes, in milliseconds.
  delays?: Partial<Delays>
  latencyMs?: number
  postgres?: PostgresOptions
}

export interface Delays {transfer: number, releasePhase: number, dynoBoot: number, provision: number}

// A port nothing listens on now, as the kernel picks it: sandboxes started side by side never collide.
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const {port} = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    }).on('error', reject)
  })
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const internalError = () => new Reply({status: 500, body: {id: 'internal_server_error', message: 'Internal server error.'}})
const COLORS = ['AMBER', 'BLUE', 'BRONZE', 'CHARCOAL', 'COBALT', 'CRIMSON', 'GOLD', 'GRAY', 'GREEN', 'IVORY', 'MAUVE', 'NAVY', 'OLIVE', 'ONYX', 'ORANGE', 'PINK', 'PURPLE', 'RED', 'SILVER', 'TEAL', 'WHITE', 'YELLOW']

// A local stand-in for Heroku: the Platform API and the Postgres Data API on one port, backed by a real
// PostgreSQL server. The real `heroku` CLI reaches it with HEROKU_HOST and HEROKU_DATA_HOST (see `env`).
export class Sandbox {
  readonly state = new SandboxState()
  // Versioned S3 buckets, path-style under /s3 (see s3.ts): `s3Endpoint` is what apps' config vars name.
  readonly s3 = new SandboxS3()
  readonly requests: RecordedRequest[] = []
  readonly apiKey: string
  delays: Delays
  // A simulated network round trip for every API request: half before it is handled, half after.
  latencyMs: number
  url = ''
  private server?: Server
  private pending = new Set<Promise<unknown>>()
  private faults = new Faults()
  private stopping = new AbortController()

  private constructor(readonly pg: PostgresServer, options: SandboxOptions) {
    this.apiKey = options.apiKey ?? `sandbox-${randomBytes(16).toString('hex')}`
    this.delays = {transfer: 300, releasePhase: 600, dynoBoot: 400, provision: 800, ...options.delays}
    this.latencyMs = options.latencyMs ?? 0
  }

  static async start(options: SandboxOptions = {}): Promise<Sandbox> {
    const pg = await startPostgres(options.postgresPort ?? await freePort(), options.postgres)
    const sandbox = new Sandbox(pg, options)
    await sandbox.listen(options.port ?? 0)
    return sandbox
  }

  // What the real CLI needs in its environment to talk to this sandbox instead of Heroku.
  get env(): Record<string, string> {
    const {port} = new URL(this.url)
    // Git remotes keep their real form (https://git.heroku.com/APP.git), so `--app` can come from them.
    return {HEROKU_HOST: `http://127.0.0.1:${port}`, HEROKU_DATA_HOST: '127.0.0.1', HEROKU_GIT_HOST: 'git.heroku.com', HEROKU_API_KEY: this.apiKey}
  }

  private async listen(port: number) {
    const router = new Router()
    platformRoutes(router, this)
    dataRoutes(router, this)
    pointInTimeRoutes(router, this)
    router.on('GET', '/streams/:release', async request => {
      const found = [...this.state.apps.values()].flatMap(app => app.releases).find(r => r.id === request.params.release)
      if (!found) throw new ApiError(404, 'not_found', 'Stream not found.')
      while (found.status === 'pending') await sleep(50)
      return new Reply({text: found._output.join('\n') + '\n'})
    })
    // Slug archives, as the signed storage URLs of `blob.url` serve them: no API key needed.
    router.on('GET', '/slug-blobs/:slug', request => {
      const slug = [...this.state.apps.values()].flatMap(app => app.slugs).find(s => s.id === request.params.slug)
      if (!slug?._archive) throw new ApiError(404, 'not_found', 'No such blob.')
      return new Reply({bytes: slug._archive})
    })

    this.server = createServer((req, res) => void this.serve(router, req, res))
    await new Promise<void>(resolve => this.server!.listen(port, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`
  }

  get s3Endpoint(): string {
    return `${this.url}/s3`
  }

  private async serve(router: Router, req: IncomingMessage, res: ServerResponse) {
    try {
      const url = new URL(req.url ?? '/', 'http://sandbox')
      if (url.pathname === '/s3' || url.pathname.startsWith('/s3/')) return await this.serveS3(req, res, url)
      const request: RecordedRequest = {method: req.method ?? 'GET', path: url.pathname, query: url.search, body: await readBody(req), headers: req.headers, applied: false, at: Date.now()}
      this.requests.push(request)
      const fault = this.faults.hit(request.method, request.path, app => this.concerns(app, request))
      if (fault) request.fault = faultLabel(fault)
      const halfTrip = url.pathname.startsWith('/streams/') ? 0 : this.latencyMs / 2
      await this.wait(halfTrip)
      const reply = appliesBeforeFault(fault) ? await this.apply(router, request, req, url) : undefined
      if (fault?.kind === 'hang') return
      if (fault?.kind === 'delay') await this.wait(fault.ms)
      await this.wait(halfTrip)
      if (fault?.kind === 'reset') return req.socket.resetAndDestroy()
      send(res, fault?.kind === 'status' ? faultReply(fault) : reply!)
      request.done = Date.now()
    } catch {
      // Only a stopped sandbox (its waits aborted) or a body that never arrived gets here.
      if (!req.socket.destroyed) send(res, internalError())
    }
  }

  // S3 requests: raw bodies (uploads are bytes), S3's XML errors, the same faults and latency as the API.
  private async serveS3(req: IncomingMessage, res: ServerResponse, url: URL) {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const request: RecordedRequest = {method: req.method ?? 'GET', path: url.pathname, query: url.search, body: undefined, headers: req.headers, applied: false, at: Date.now()}
    this.requests.push(request)
    const fault = this.faults.hit(request.method, request.path, app => this.s3.ownerOf(request.path) === app)
    if (fault) request.fault = faultLabel(fault)
    await this.wait(this.latencyMs / 2)
    let reply: Reply | undefined
    if (appliesBeforeFault(fault)) {
      request.applied = true
      reply = this.s3.handle(request.method, url.pathname, url.searchParams, req.headers, body)
    }
    if (fault?.kind === 'hang') return
    if (fault?.kind === 'delay') await this.wait(fault.ms)
    await this.wait(this.latencyMs / 2)
    if (fault?.kind === 'reset') return req.socket.resetAndDestroy()
    send(res, fault?.kind === 'status' ? s3FaultReply(fault.status) : reply!)
  }

  private async apply(router: Router, request: RecordedRequest, req: IncomingMessage, url: URL): Promise<Reply> {
    try {
      if (!/^\/(streams|slug-blobs)\//.test(url.pathname) && req.headers.authorization !== `Bearer ${this.apiKey}`) {
        throw new ApiError(401, 'unauthorized', 'Invalid credentials provided.')
      }
      const route = router.match(request.method, url.pathname)
      if (!route) throw new ApiError(404, 'not_found', 'The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?')
      request.applied = true
      const result = await route.handler({method: request.method, path: url.pathname, params: route.params, query: url.searchParams, headers: req.headers, body: request.body})
      return result instanceof Reply ? result : new Reply({body: result})
    } catch (error) {
      if (error instanceof ApiError) return new Reply({status: error.status, body: {id: error.id, message: error.message}})
      return internalError()
    }
  }

  private wait(ms: number): Promise<void> {
    return ms > 0 ? sleepUnless(ms, undefined, {signal: this.stopping.signal}) : Promise.resolve()
  }

  // Makes matching requests misbehave (see faults.ts) until removed; `clearFaults` in an afterEach
  // keeps one test's faults from reaching the next.
  inject(fault: Fault): Injected {
    return this.faults.inject(fault)
  }

  clearFaults() {
    this.faults.clear()
  }

  // Hanging and delayed requests are cut off rather than waited for.
  async stop() {
    await this.settle()
    const closed = new Promise(resolve => this.server?.close(resolve))
    this.server?.closeAllConnections()
    this.stopping.abort()
    await closed
    await this.pg.stop()
  }

  // Waits for simulated background work (backups, release phases) to finish.
  async settle() {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  // Requests that change something (anything but GET and the read-only resolve actions), for one app:
  // its own paths, its add-ons' Data API paths, and bodies that name it. Only applied requests count:
  // a write a fault answered before its handler ran (a 503, a reset or hang 'before') changed nothing.
  writes(app?: string): RecordedRequest[] {
    const readOnly = /\/actions\/(addons|addon-attachments)\/resolve$/
    return this.requests.filter(r => r.applied && r.method !== 'GET' && !readOnly.test(r.path) && (!app || this.concerns(app, r)))
  }

  // Whether a request is about an app: its own paths (by name or id), its add-ons' paths, a body naming it.
  concerns(app: string, request: Pick<RecordedRequest, 'path' | 'body'>): boolean {
    const target = this.state.app(app)
    const ids = new Set([app, ...(target ? [target.id, ...[...this.state.addons.values()].filter(a => a.app.id === target.id).map(a => a.id)] : [])])
    return request.path.split('/').some(segment => ids.has(segment)) || JSON.stringify(request.body ?? '').includes(`"${app}"`)
  }

  clearRequests() {
    this.requests.length = 0
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
    const release = this.state.addRelease(app, {
      description: `Rollback to v${target.version}`,
      slug: target.slug,
      _config: {...target._config},
      status: hasReleasePhase ? 'pending' : 'succeeded',
    })
    if (hasReleasePhase) this.runReleasePhase(app, release)
    else this.bootDynos(app, release)
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
        this.state.makeCurrent(app, release)
        this.bootDynos(app, release)
      }
      release.updated_at = now()
    })
  }

  bootDynos(app: App, release: Release) {
    for (const [name, dyno] of Object.entries(app.dynoStates)) {
      if (dyno.version === release.version) app.dynoStates[name] = {state: 'starting', version: release.version}
    }
    if (app.faults.dynosNeverStart) return
    this.background(async () => {
      await sleep(this.delays.dynoBoot)
      for (const [name, dyno] of Object.entries(app.dynoStates)) {
        if (dyno.version === release.version) app.dynoStates[name] = {state: app.faults.dynosCrash ? 'crashed' : 'up', version: release.version}
      }
    })
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

  attachWithRelease(app: App, addon: Addon, name: string, replacing?: Attachment): Attachment {
    if (replacing) {
      this.state.detach(app, replacing)
      this.state.addRelease(app, {description: `Detach ${replacing.name} (@ref:${replacing.addon.name})`})
    }
    const attachment = this.state.attach(app, addon, name)
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
    return checkpoint(this, addon)
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
        if (sourceRole && sourceRole !== db.role) await handOver(this, db.name, sourceRole, db.role)
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

export {SandboxState} from './heroku/state.js'
export type {Addon, App, Attachment, Release, Transfer} from './heroku/state.js'
