import type {APIClient} from '@heroku-cli/command'
import {isAbort, sleep} from '../abort.js'
import {cliUtils} from '../cli-modules.js'

// The one layer that talks to Heroku: every request goes through the CLI's own authenticated client
// (`this.heroku`), with the Data API on the data host the CLI uses. It decides what may be repeated:
// reads are retried with back-off (honouring Retry-After); writes never are, because the Platform API
// has no idempotency keys, and a failed write says whether it may have been applied.

export const SDK_HEADERS = {Accept: 'application/vnd.heroku+json; version=3.sdk'}

// A path whose every interpolated segment is URL-encoded: `v50/../51` stays one segment.
export const path = (strings: TemplateStringsArray, ...segments: (string | number)[]) =>
  strings.reduce((out, text, i) => out + text + (i < segments.length ? encodeURIComponent(String(segments[i])) : ''), '')

export interface RequestOptions {
  body?: unknown
  headers?: Record<string, string>
  // Send to the Heroku Postgres Data API instead of the Platform API.
  data?: boolean
  // One page of a list (the client must not follow Next-Range).
  range?: string
  // A write whose repetition leaves the same state (set maintenance off, scale to 2, destroy X).
  idempotent?: boolean
}

export interface Response<T> {
  body: T
  headers: Record<string, string | string[] | undefined>
}

// A request that failed. `applied` says what is known of a write: false when it certainly did not
// happen (refused by the API, connection never made), 'unknown' when it may have (a 5xx, a lost
// response, a timeout): then read the state to learn it, never send it again blindly.
export class ApiFailure extends Error {
  constructor(message: string, readonly status: number | undefined, readonly id: string | undefined, readonly applied: false | 'unknown', readonly retryAfterMs?: number) {
    super(message)
  }
}

export interface ApiSettings {
  // Aborts reads and waits at once (Ctrl-C).
  signal?: AbortSignal
  // Aborts writes; the runner fires it a moment later than `signal`, so that a write already on its
  // way can still answer and its outcome be known.
  writeSignal?: AbortSignal
  // The longest one request may take (socket idle time); waits of the caller are bounded separately.
  timeoutMs?: number
  // Attempts of a read or idempotent write before giving up (the first one included).
  attempts?: number
  // The first pause between attempts; it doubles, up to `maxBackoffMs`.
  backoffMs?: number
  maxBackoffMs?: number
}

const DEFAULTS = {timeoutMs: 60_000, attempts: 4, backoffMs: 250, maxBackoffMs: 8000}
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504])
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH'])

type HttpClass = APIClient['http']

export class Api {
  private readonly http: HttpClass
  readonly settings: Required<Omit<ApiSettings, 'signal' | 'writeSignal'>> & Pick<ApiSettings, 'signal' | 'writeSignal'>

  constructor(readonly client: APIClient, settings: ApiSettings = {}, http?: HttpClass) {
    this.settings = {...DEFAULTS, ...settings}
    // The CLI's HTTP client repeats any request, POST included, after a network error; this one
    // never repeats by itself, so that the policy above is the only one.
    this.http = http ?? class NoReplay extends (client.http as any) {
      async _maybeRetry(error: unknown) {
        throw error
      }
    } as unknown as HttpClass
  }

  // The same client with other settings (a signal of its own for put-backs, a shorter timeout).
  with(settings: ApiSettings): Api {
    return new Api(this.client, {...this.settings, ...settings}, this.http)
  }

  get<T>(url: string, options: RequestOptions = {}): Promise<T> {
    return this.send<T>('GET', url, options).then(r => r.body)
  }

  // One page of a list, with the Range that asks for the next one.
  async page<T>(url: string, range: string, options: RequestOptions = {}): Promise<{body: T[], nextRange?: string}> {
    const {body, headers} = await this.send<T[]>('GET', url, {...options, range})
    return {body, nextRange: headers['next-range'] as string | undefined}
  }

  post<T>(url: string, options: RequestOptions = {}): Promise<T> {
    return this.send<T>('POST', url, options).then(r => r.body)
  }

  patch<T>(url: string, options: RequestOptions = {}): Promise<T> {
    return this.send<T>('PATCH', url, {idempotent: true, ...options}).then(r => r.body)
  }

  delete<T>(url: string, options: RequestOptions = {}): Promise<T> {
    return this.send<T>('DELETE', url, {idempotent: true, ...options}).then(r => r.body)
  }

  send<T>(method: string, url: string, options: RequestOptions): Promise<Response<T>> {
    const headers = {...options.headers, ...(options.range ? {Range: options.range} : {})}
    const request = async () => {
      const utils = options.data ? await cliUtils() : undefined
      const {body, headers: received} = await this.request(url, {
        method, body: options.body, headers, partial: options.range !== undefined, ...(utils ? {hostname: utils.getHost()} : {}),
      }, method === 'GET')
      return {body: body as T, headers: received}
    }
    return this.retrying(request, method, method === 'GET' || options.idempotent === true).catch(error => {
      throw classify(error, method)
    })
  }

  // What @heroku/heroku-cli-util's resolvers call (`get`, `post`): their POSTs to `/actions/.../resolve`
  // only read, so they are retried like reads. Errors keep the CLI's own shape, which they inspect.
  get resolverClient(): APIClient {
    const as = (method: string) => (url: string, options: Record<string, any> = {}) => this.retrying(() => this.request(url, {...options, method}, true), 'GET', true)
    return {get: as('GET'), post: as('POST'), request: as('GET')} as unknown as APIClient
  }

  private request(url: string, options: Record<string, unknown>, read: boolean): Promise<{body: unknown, headers: Response<unknown>['headers']}> {
    const {signal, writeSignal, timeoutMs} = this.settings
    return (this.http as any).request(url, {...options, timeout: timeoutMs, signal: read ? signal : writeSignal ?? signal})
  }

  private async retrying<T>(request: () => Promise<T>, method: string, repeatable: boolean): Promise<T> {
    const {attempts, backoffMs, maxBackoffMs, signal} = this.settings
    for (let attempt = 1; ; attempt++) {
      try {
        return await request()
      } catch (error) {
        const failure = classify(error, method)
        if (!repeatable || attempt >= attempts || !isTransient(failure) || signal?.aborted) throw error
        await sleep(failure.retryAfterMs ?? Math.min(backoffMs * 2 ** (attempt - 1), maxBackoffMs) * (0.75 + Math.random() / 2), signal)
      }
    }
  }
}

const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH'])

// A failure that the same request may not meet again: a lost connection, a 5xx, a rate limit.
export const isTransient = (failure: unknown): boolean => failure instanceof ApiFailure && (failure.status === undefined ? TRANSIENT_NETWORK.has(failure.id ?? '') : RETRYABLE_STATUS.has(failure.status))

// Retry-After in seconds or as an HTTP date; capped so that a misbehaving header cannot stall an incident.
function retryAfterMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now()
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 60_000) : undefined
}

export function classify(error: unknown, method: string): ApiFailure {
  if (error instanceof ApiFailure) return error
  const e = error as {http?: {statusCode?: number, headers?: Record<string, unknown>, http?: {headers?: Record<string, unknown>}, body?: {id?: string, message?: string}}, statusCode?: number, body?: {id?: string, message?: string}, code?: string, message?: string}
  const status = e?.http?.statusCode ?? e?.statusCode
  const write = method !== 'GET'
  if (status !== undefined) {
    const body = e.body ?? e.http?.body
    const message = body?.message ?? `HTTP ${status}`
    // A 4xx is the API refusing the request; a 5xx may come after the work was done.
    const applied = write && (status >= 500 || status === 408) ? 'unknown' : false
    return new ApiFailure(message, status, body?.id, applied, status === 429 || status === 503 ? retryAfterMs((e.http?.headers ?? e.http?.http?.headers)?.['retry-after']) : undefined)
  }
  if (isAbort(error)) return new ApiFailure('the request was cancelled', undefined, 'aborted', write ? 'unknown' : false)
  const code = e?.code ?? (/timed out/i.test(e?.message ?? '') ? 'ETIMEDOUT' : undefined)
  const applied = write && !NEVER_SENT.has(code ?? '') ? 'unknown' : false
  const what = code === 'ETIMEDOUT' ? 'no answer in time' : code === 'ECONNRESET' ? 'the connection was lost before an answer' : (e?.message ?? String(error))
  return new ApiFailure(what, undefined, code ?? 'error', applied)
}

// A read started now and awaited later: its failure is reported where it is awaited, never as an
// unhandled rejection when a refusal ends the command before that.
export function started<T>(read: Promise<T>): Promise<T> {
  read.catch(() => {})
  return read
}

export const statusOf = (error: unknown) => error instanceof ApiFailure ? error.status : classify(error, 'GET').status
