import {Reply} from './http.js'

// Requests the sandbox answers badly on purpose, so tests can show the plugin stays safe when the
// network fails, the API errs or a request hangs.

export interface FaultTarget {
  // Only requests about this app (its paths, its add-ons' Data API paths, bodies naming it), so that
  // tests running side by side do not meet each other's faults.
  app?: string
  method?: string
  // An exact path, or a pattern; any path when left out.
  path?: string | RegExp
  // Which matching request is hit first (1-based), and how many consecutive matching requests from it.
  nth?: number
  times?: number
}

// 'before' and 'after' say whether the request was applied when the connection drops or stalls.
type When = {when?: 'before' | 'after'}

export type Fault = FaultTarget & (
  | {kind: 'status', status: number, id?: string, message?: string, headers?: Record<string, string>, apply?: boolean}
  | {kind: 'reset'} & When
  | {kind: 'hang'} & When
  | {kind: 'delay', ms: number}
)

export interface Injected {
  readonly hits: number
  remove(): void
}

const errors: Record<number, [id: string, message: string]> = {
  400: ['bad_request', 'Request invalid, validate usage and try again.'],
  401: ['unauthorized', 'Invalid credentials provided.'],
  403: ['forbidden', 'You do not have access to this resource.'],
  404: ['not_found', "Couldn't find that record."],
  409: ['conflict', 'Request failed, see response body for suggested resolution.'],
  422: ['invalid_params', 'Invalid parameters.'],
  429: ['rate_limit', 'Your account reached the API rate limit. Please wait a few minutes before making new requests.'],
  500: ['internal_server_error', 'Internal server error.'],
  503: ['unavailable', 'API is temporarily unavailable. Please try again later.'],
}

export function faultReply(fault: Fault & {kind: 'status'}): Reply {
  const [id, message] = errors[fault.status] ?? (fault.status >= 500 ? errors[503] : errors[400])
  return new Reply({status: fault.status, headers: fault.headers, body: {id: fault.id ?? id, message: fault.message ?? message}})
}

// How a recorded request names the fault it hit: 'status-503', 'reset-after', 'hang-before', 'delay'.
export function faultLabel(fault: Fault): string {
  if (fault.kind === 'status') return `status-${fault.status}`
  if (fault.kind === 'delay') return 'delay'
  return `${fault.kind}-${fault.when ?? 'after'}`
}

export function appliesBeforeFault(fault?: Fault): boolean {
  if (fault?.kind === 'status') return fault.apply === true
  if (fault?.kind === 'reset' || fault?.kind === 'hang') return fault.when !== 'before'
  return true
}

class Armed implements Injected {
  hits = 0
  private seen = 0

  constructor(readonly fault: Fault, private readonly armed: Armed[]) {}

  remove() {
    if (this.armed.includes(this)) this.armed.splice(this.armed.indexOf(this), 1)
  }

  targets(method: string, path: string, concerns: (app: string) => boolean): boolean {
    const {method: wanted, path: where, app} = this.fault
    if (wanted && wanted.toUpperCase() !== method.toUpperCase()) return false
    if (app && !concerns(app)) return false
    return where === undefined || (typeof where === 'string' ? where === path : where.test(path))
  }

  // Counts one matching request; true when it falls in this fault's window.
  count(): boolean {
    const first = this.fault.nth ?? 1
    this.seen++
    return this.seen >= first && this.seen < first + (this.fault.times ?? 1)
  }
}

export class Faults {
  private armed: Armed[] = []

  inject(fault: Fault): Injected {
    const armed = new Armed(fault, this.armed)
    this.armed.push(armed)
    return armed
  }

  clear() {
    this.armed.length = 0
  }

  // Every fault counts every request it targets, so `nth` means the nth such request the server saw;
  // when several are due, the first registered answers.
  hit(method: string, path: string, concerns: (app: string) => boolean): Fault | undefined {
    const due = this.armed.filter(armed => armed.targets(method, path, concerns)).filter(armed => armed.count())
    if (due[0]) due[0].hits++
    return due[0]?.fault
  }
}
