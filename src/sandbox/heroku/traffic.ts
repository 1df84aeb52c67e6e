import type {Logplex} from './logplex.js'
import {type App, type CodeBehaviour, dynoName, type SandboxState, uuid} from './state.js'

// The router and the app's code: each request to an app is answered the way the code of the release its
// dynos run answers it (TrafficSettings.code: healthy, failing with 500s, crashing, slow), or by the
// router itself (H80 in maintenance mode, H10 when every web dyno crashed, H14 without web dynos), and
// logged as Heroku's router logs it. While a log session of the app is being read, a steady stream of
// requests comes in (`traffic.perSecond`); a request to the app's URL (`/apps-web/APP/...`) is one more.
// SIMULATED: the router line of a request that times out (H12) is written at once, not 30 s later, and
// requests that come while the dynos boot wait unseen (Heroku holds them, then answers H20 after 75 s).

export interface Answer {
  status: number
  // The router's error code (H10, H12...), when the router answered instead of the app.
  code?: string
  // The release the answering dyno runs (what `X-Heroku-Release-Version` says), when a dyno answered.
  version?: number
  body: string
}

const TICK_MS = 100
const PATHS = ['/', '/products', '/cart', '/api/orders?page=2', '/account', '/products/42']
const ROUTER_ERRORS: Record<string, string> = {H10: 'App crashed', H12: 'Request timeout', H14: 'No web processes running', H20: 'App boot timeout', H80: 'Maintenance mode'}

export class Traffic {
  private readonly streams = new Map<string, {timer: NodeJS.Timeout, started: number, sent: number}>()
  // Requests served per app: which dyno answers next, and the count for a `{failing: N}` code.
  private readonly served = new Map<string, number>()
  // Answers per app by router code or status ('H80', '200'), for tests to read.
  private readonly answered = new Map<string, Record<string, number>>()

  constructor(private readonly state: SandboxState, private readonly logplex: Logplex) {}

  // Runs an app's steady stream of requests while its logs are being read.
  reading(app: App, readers: number) {
    const stream = this.streams.get(app.id)
    if (readers > 0 && !stream) {
      const started = Date.now()
      const timer = setInterval(() => this.tick(app), TICK_MS)
      timer.unref()
      this.streams.set(app.id, {timer, started, sent: 0})
    } else if (readers === 0 && stream) {
      clearInterval(stream.timer)
      this.streams.delete(app.id)
    }
  }

  stop() {
    for (const {timer} of this.streams.values()) clearInterval(timer)
    this.streams.clear()
  }

  private tick(app: App) {
    const stream = this.streams.get(app.id)
    if (!stream) return
    const due = Math.floor((Date.now() - stream.started) / 1000 * app.traffic.perSecond) - stream.sent
    for (let i = 0; i < due; i++) {
      stream.sent++
      this.request(app, PATHS[stream.sent % PATHS.length])
    }
  }

  // The release the router sends requests to: the old one until a preboot switch, else the web dynos'.
  servingVersion(app: App): number | undefined {
    if (app.serving && Date.now() < app.serving.until) return app.serving.version
    return Object.entries(app.dynoStates).find(([name]) => name.startsWith('web.'))?.[1].version ?? this.state.currentRelease(app)?.version
  }

  // One request through the router; undefined while the dynos boot (it waits, unseen).
  request(app: App, path: string, method = 'GET'): Answer | undefined {
    const web = Object.entries(app.dynoStates).filter(([name]) => name.startsWith('web.'))
    const serving = this.servingVersion(app)
    const release = app.releases.find(r => r.version === serving)
    if (app.maintenance) return this.log(app, method, path, {status: 503, code: 'H80', body: maintenancePage})
    if (app.formation.every(p => p.type !== 'web' || p.quantity === 0) || web.length === 0) return this.log(app, method, path, {status: 503, code: 'H14', body: errorPage})
    const preboot = app.serving && Date.now() < app.serving.until
    const up = preboot ? web : web.filter(([, dyno]) => dyno.state === 'up')
    if (up.length === 0) return web.some(([, dyno]) => dyno.state === 'crashed') ? this.log(app, method, path, {status: 503, code: 'H10', body: errorPage}) : undefined
    const count = this.served.get(app.id) ?? 0
    this.served.set(app.id, count + 1)
    const [key] = up[count % up.length]
    const dyno = dynoName(app, key, serving ?? 0)
    const answer = respond(this.state.codeOf(app, release), count, serving)
    if (answer.status === 500) this.logplex.write(app, {source: 'app', process: dyno, text: `Error: relation "orders" does not exist (GET ${path}) status=500`})
    return this.log(app, method, path, answer, dyno)
  }

  // What the app's requests were answered so far, by router code or status: {H80: 12, '200': 40}.
  answers(app: App): Record<string, number> {
    return {...this.answered.get(app.id)}
  }

  private log(app: App, method: string, path: string, answer: Answer, dyno?: string): Answer {
    const tally = this.answered.get(app.id) ?? {}
    const key = answer.code ?? String(answer.status)
    tally[key] = (tally[key] ?? 0) + 1
    this.answered.set(app.id, tally)
    const host = new URL(app.web_url).host
    const fir = app.generation.name === 'fir'
    const service = answer.code === 'H12' ? 30_000 : 5 + (path.length * 7) % 60
    const fields = [
      answer.code ? `at=error code=${answer.code} desc="${ROUTER_ERRORS[answer.code]}"` : 'at=info',
      `method=${method} path="${path}" host=${host} request_id=${uuid()} fwd="203.0.113.${(path.length * 13) % 250 + 1}"`,
      dyno && answer.code !== 'H10' ? `dyno=${dyno} connect=0ms service=${service}ms` : 'dyno= connect= service=',
      `status=${answer.status} bytes=${answer.code && answer.code !== 'H12' ? '' : Buffer.byteLength(answer.body)}`,
      fir ? 'protocol=http1.1 tls=true tls_version=tls1.3' : 'protocol=https',
    ]
    // H80 is the router at work as asked, not an error of the app.
    this.logplex.write(app, {source: 'heroku', process: 'router', text: fields.join(' ').replace(/^at=error code=H80/, 'at=info code=H80')})
    return answer
  }
}

// How the code answers the `count`th request.
function respond(code: CodeBehaviour, count: number, version: number | undefined): Answer {
  const failing = code === 'failing' ? 100 : typeof code === 'object' ? code.failing : 0
  // Spread evenly: the nth request fails when the running count of failures due goes up by one.
  if (failing > 0 && Math.floor((count + 1) * failing / 100) > Math.floor(count * failing / 100)) return {status: 500, version, body: 'Internal Server Error'}
  if (code === 'slow') return {status: 503, code: 'H12', body: errorPage}
  if (code === 'crashing') return {status: 503, code: 'H10', body: errorPage}
  return {status: 200, version, body: JSON.stringify({status: 'ok', release: version === undefined ? null : `v${version}`})}
}

const errorPage = '<!DOCTYPE html><html><head><title>Application Error</title></head><body>An error occurred in the application and your page could not be served.</body></html>'
const maintenancePage = '<!DOCTYPE html><html><head><title>Offline for Maintenance</title></head><body>This app is in maintenance mode.</body></html>'
