import {randomBytes} from 'node:crypto'
import {Delays, Heroku} from './heroku/heroku.js'
import {startPostgres} from './heroku/postgres.js'
import type {PostgresOptions} from './heroku/postgres-process.js'
import {apiService, concerns} from './routes/api.js'
import {s3Service} from './routes/s3.js'
import type {Fault, Injected} from './server/faults.js'
import {freePort, RecordedRequest, SandboxServer} from './server/server.js'

export interface SandboxOptions {
  port?: number
  postgresPort?: number
  apiKey?: string
  // How long simulated work takes, in milliseconds.
  delays?: Partial<Delays>
  latencyMs?: number
  postgres?: PostgresOptions
}

// A local stand-in for Heroku: the Platform API, the Postgres Data API and S3 on one port, backed by a
// real PostgreSQL server. The real `heroku` CLI reaches it with HEROKU_HOST and HEROKU_DATA_HOST (see
// `env`). It is the simulated Heroku (heroku/), served by one server (server/) through its routes (routes/).
export class Sandbox extends Heroku {
  readonly apiKey: string
  private readonly server: SandboxServer

  private constructor(pg: Heroku['pg'], options: SandboxOptions) {
    super(pg, options.delays)
    this.apiKey = options.apiKey ?? `sandbox-${randomBytes(16).toString('hex')}`
    this.server = new SandboxServer([s3Service(this.s3), apiService(this, this.apiKey)], options.latencyMs ?? 0)
  }

  static async start(options: SandboxOptions = {}): Promise<Sandbox> {
    const pg = await startPostgres(options.postgresPort ?? await freePort(), options.postgres)
    const sandbox = new Sandbox(pg, options)
    await sandbox.server.listen(options.port ?? 0)
    sandbox.url = sandbox.server.url
    return sandbox
  }

  // What the real CLI needs in its environment to talk to this sandbox instead of Heroku.
  get env(): Record<string, string> {
    const {port} = new URL(this.url)
    // Git remotes keep their real form (https://git.heroku.com/APP.git), so `--app` can come from them.
    return {HEROKU_HOST: `http://127.0.0.1:${port}`, HEROKU_DATA_HOST: '127.0.0.1', HEROKU_GIT_HOST: 'git.heroku.com', HEROKU_API_KEY: this.apiKey}
  }

  get requests(): RecordedRequest[] {
    return this.server.requests
  }

  // A simulated network round trip for every request: half before it is handled, half after.
  get latencyMs(): number {
    return this.server.latencyMs
  }

  set latencyMs(ms: number) {
    this.server.latencyMs = ms
  }

  // Makes matching requests misbehave (see server/faults.ts) until removed; `clearFaults` in an
  // afterEach keeps one test's faults from reaching the next.
  inject(fault: Fault): Injected {
    return this.server.inject(fault)
  }

  clearFaults() {
    this.server.clearFaults()
  }

  clearRequests() {
    this.server.clearRequests()
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
    return concerns(this.state, app, request)
  }

  // Waits for background work, then stops; hanging and delayed requests are cut off rather than waited for.
  async stop() {
    this.traffic.stop()
    await this.settle()
    await this.server.close()
    await this.pg.stop()
  }
}

export {SandboxState} from './heroku/state.js'
export type {Delays} from './heroku/heroku.js'
export type {Addon, App, Attachment, CodeBehaviour, Release, TrafficSettings, Transfer} from './heroku/state.js'
export type {LogSession} from './heroku/logplex.js'
export type {Fault, Injected} from './server/faults.js'
export type {RecordedRequest} from './server/server.js'
