import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {setTimeout as sleep} from 'node:timers/promises'
import {formatDuration} from '../duration.js'
import type {Notice} from './notice.js'
import type {Sink, SinkRequest} from './sinks.js'

// Delivery that is never in the way: each sink gets at most BUDGET_MS of the command's time in all, for all
// the run's events; a sink that fails, hangs or is rate-limited only costs that, and what it did not get
// is said once and recorded. An event is sent again (with the same id) only where that cannot show it
// twice: after an answer that refused it (429, 5xx) or a connection that never opened; after a lost answer
// only to a sink that drops duplicates (a CloudEvents webhook), never to PagerDuty, Slack or Datadog.

export const BUDGET_MS = 5000
const ATTEMPTS = 3
// Less than this left: no attempt is worth starting.
const MIN_ATTEMPT_MS = 100
const RETRY_AFTER_FAILURE_MS = 500

export type Delivered = {status: 'delivered'} | {status: 'not delivered' | 'in doubt', why: string}

type Posted = {answered: true, status: number, retryAfterMs?: number} | {answered: false, sent: boolean, why: string}

// Retry-After: seconds, or an HTTP date.
function retryAfter(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

// One POST, answered or given up after `timeoutMs`. `sent`: the connection was open, so the receiver may
// have the event even though no answer came.
export function post({url, headers, body}: SinkRequest, timeoutMs: number, signal?: AbortSignal): Promise<Posted> {
  return new Promise(resolve => {
    const target = new URL(url)
    const secure = target.protocol === 'https:'
    let connected = false
    let settled = false
    const request = (secure ? httpsRequest : httpRequest)(target, {
      method: 'POST', agent: false,
      headers: {...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'heroku-safe-rollback'},
    })
    const stop = () => settle({answered: false, sent: connected, why: 'stopped waiting for it'})
    const settle = (posted: Posted) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', stop)
      request.destroy()
      resolve(posted)
    }
    const timer = setTimeout(() => settle({answered: false, sent: connected, why: `no answer within ${formatDuration(timeoutMs)}`}), timeoutMs)
    signal?.addEventListener('abort', stop)
    request.on('socket', socket => {
      if (!socket.connecting) connected = true
      else socket.once(secure ? 'secureConnect' : 'connect', () => (connected = true))
    })
    request.on('response', response => {
      response.resume()
      settle({answered: true, status: response.statusCode ?? 0, retryAfterMs: retryAfter(response.headers['retry-after'])})
    })
    // The error's code only: its message may name the URL.
    request.on('error', error => settle({answered: false, sent: connected, why: (error as NodeJS.ErrnoException).code ?? 'the connection failed'}))
    request.end(body)
  })
}

const answered = (status: number, sink: Sink) =>
  `it answered ${status}${status === 401 || status === 403 ? ` (check ${sink.credentials})` : status === 404 ? ' (check the URL)' : ''}`

// One sink's events, in order, within the one budget.
export class Lane {
  private spentMs = 0
  private queue: Promise<unknown> = Promise.resolve()

  // `signal`: stop waiting (Ctrl-C while the command waits for its sinks at the end).
  constructor(readonly sink: Sink, private readonly budgetMs = BUDGET_MS, private readonly signal?: AbortSignal) {}

  deliver(notice: Notice): Promise<Delivered> {
    const delivery = this.queue.then(() => this.attempts(notice))
    this.queue = delivery
    return delivery
  }

  private async timed<T>(work: Promise<T>): Promise<T> {
    const started = Date.now()
    try {
      return await work
    } finally {
      this.spentMs += Date.now() - started
    }
  }

  private get leftMs() {
    return this.budgetMs - this.spentMs
  }

  private async attempts(notice: Notice): Promise<Delivered> {
    const request = this.sink.request(notice)
    let last: Delivered | undefined
    let doubt = false
    const given = (why: string): Delivered => ({status: doubt ? 'in doubt' : 'not delivered', why})
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      if (this.signal?.aborted) return last ?? {status: 'not delivered', why: 'not sent: stopped waiting for it'}
      if (this.leftMs < MIN_ATTEMPT_MS) return last ?? {status: 'not delivered', why: `not sent: the ${formatDuration(this.budgetMs)} it may take were used up`}
      const posted = await this.timed(post(request, this.leftMs, this.signal))
      let waitMs: number
      if (posted.answered) {
        if (posted.status >= 200 && posted.status < 300) return {status: 'delivered'}
        last = given(answered(posted.status, this.sink))
        if (posted.status === 429) waitMs = posted.retryAfterMs ?? 1000
        else if (posted.status >= 500) waitMs = RETRY_AFTER_FAILURE_MS
        else return last
      } else if (posted.sent) {
        doubt = true
        last = given(posted.why)
        // It may have arrived: sent again, it would show twice where nothing drops duplicates.
        if (!this.sink.dedupes) return last
        waitMs = 0
      } else {
        last = given(posted.why)
        waitMs = RETRY_AFTER_FAILURE_MS
      }
      if (attempt === ATTEMPTS) break
      if (waitMs > this.leftMs - MIN_ATTEMPT_MS) {
        const status = last.status
        return posted.answered && posted.status === 429 ? {status, why: `${(last as {why: string}).why}, to come back after ${formatDuration(waitMs)}: past the ${formatDuration(this.budgetMs)} it may take`} : last
      }
      if (waitMs > 0) await this.timed(sleep(waitMs, undefined, {signal: this.signal}).catch(() => {}))
    }
    return last!
  }
}
