import {createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse} from 'node:http'
import {setMaxListeners} from 'node:events'
import type {AddressInfo} from 'node:net'
import {setTimeout as sleepUnless} from 'node:timers/promises'
import {appliesBeforeFault, Fault, faultLabel, Faults, Injected} from './faults.js'
import {internalError, readBytes, Reply, send} from './http.js'

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

// What a service answers from: the request as recorded, its URL and headers, the body's bytes.
export interface Incoming {
  record: RecordedRequest
  url: URL
  headers: IncomingHttpHeaders
  bytes: Buffer
}

// One API the server answers on its port: the Platform and Data APIs (JSON), S3 (XML, raw bodies).
export interface Service {
  // Whether it answers a path; the first service that does, answers.
  owns(path: string): boolean
  // The body as the request log keeps it.
  recorded(bytes: Buffer): unknown
  // Whether a request is about an app: faults aimed at an app hit only its requests.
  concerns(app: string, request: RecordedRequest): boolean
  // Whether the request pays the simulated round trip.
  roundTrip(path: string): boolean
  // Runs the handler, sets `record.applied` if it ran, and answers its errors in the service's dialect.
  answer(incoming: Incoming): Promise<Reply>
  // How an injected status fault reads in the service's dialect.
  faultReply(fault: Fault & {kind: 'status'}): Reply
}

// A port nothing listens on now, as the kernel picks it: sandboxes started side by side never collide.
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const {port} = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    }).on('error', reject)
  })
}

// The sandbox's HTTP server: every request, whichever service answers it, goes through one pipeline:
// it is recorded, meets the faults injected for it, waits half the simulated round trip, is handled
// (unless its fault answers first), and is answered the way its fault says.
export class SandboxServer {
  readonly requests: RecordedRequest[] = []
  url = ''
  private server?: Server
  private faults = new Faults()
  private stopping = new AbortController()

  // `latencyMs`: a simulated network round trip for every request, half before it is handled, half after.
  constructor(private readonly services: Service[], public latencyMs = 0) {
    // Every request under way waits on this one signal: many at once is the normal case, not a leak.
    setMaxListeners(0, this.stopping.signal)
  }

  async listen(port: number) {
    this.server = createServer((req, res) => void this.serve(req, res))
    await new Promise<void>(resolve => this.server!.listen(port, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`
  }

  private async serve(req: IncomingMessage, res: ServerResponse) {
    try {
      const url = new URL(req.url ?? '/', 'http://sandbox')
      const service = this.services.find(candidate => candidate.owns(url.pathname))
      if (!service) throw new Error(`No service answers ${url.pathname}`)
      const bytes = await readBytes(req)
      const record: RecordedRequest = {method: req.method ?? 'GET', path: url.pathname, query: url.search, body: service.recorded(bytes), headers: req.headers, applied: false, at: Date.now()}
      this.requests.push(record)
      const fault = this.faults.hit(record.method, record.path, app => service.concerns(app, record))
      if (fault) record.fault = faultLabel(fault)
      const halfTrip = service.roundTrip(url.pathname) ? this.latencyMs / 2 : 0
      await this.wait(halfTrip)
      const reply = appliesBeforeFault(fault) ? await service.answer({record, url, headers: req.headers, bytes}) : undefined
      if (fault?.kind === 'hang') return
      if (fault?.kind === 'delay') await this.wait(fault.ms)
      await this.wait(halfTrip)
      if (fault?.kind === 'reset') return req.socket.resetAndDestroy()
      await send(res, fault?.kind === 'status' ? service.faultReply(fault) : reply!, this.stopping.signal)
      record.done = Date.now()
    } catch {
      // Only a stopped server (its waits aborted) or a body that never arrived gets here.
      if (!req.socket.destroyed) void send(res, internalError())
    }
  }

  private wait(ms: number): Promise<void> {
    return ms > 0 ? sleepUnless(ms, undefined, {signal: this.stopping.signal}) : Promise.resolve()
  }

  // Makes matching requests misbehave (see faults.ts) until removed.
  inject(fault: Fault): Injected {
    return this.faults.inject(fault)
  }

  clearFaults() {
    this.faults.clear()
  }

  clearRequests() {
    this.requests.length = 0
  }

  // Hanging and delayed requests are cut off rather than waited for.
  async close() {
    const closed = new Promise(resolve => this.server?.close(resolve))
    this.server?.closeAllConnections()
    this.stopping.abort()
    await closed
  }
}
