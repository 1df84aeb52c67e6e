import {sleep} from '../abort.js'
import {path, type Api} from '../api/client.js'
import {registerSecrets} from '../secrets.js'
import {readLine, type Signal} from './lines.js'

// A log session of Heroku's own lines (router, runtime errors, the log pipeline), opened the way
// `heroku logs --tail` opens one (the CLI's lib/run/log-displayer.js): Fir apps take no `lines` or `tail`
// and keep no history, so the session is opened before the change is made, and read as server-sent events.

export interface LogSession {
  // Holds a token: a secret, registered for redaction.
  url: string
  fir: boolean
}

export async function openLogSession(api: Api, app: string, fir: boolean): Promise<LogSession> {
  const body = fir ? {source: 'heroku'} : {source: 'heroku', tail: true, lines: 0}
  const session = await api.post<{logplex_url: string}>(path`/apps/${app}/log-sessions`, {body, headers: {Accept: 'application/vnd.heroku+json; version=3.sdk'}})
  registerSecrets([session.logplex_url])
  return {url: session.logplex_url, fir}
}

// Reads the session's events until `signal` fires or the stream ends (a Fir session ends after 15 minutes),
// handing on every line. Server-sent events: `data:` lines, an event ends at a blank line.
export async function readLogSession(session: LogSession, signal: AbortSignal, onLine: (line: string) => void): Promise<'ended' | 'stopped'> {
  let response: Response
  try {
    response = await fetch(session.url, {headers: {Accept: 'text/event-stream', 'User-Agent': 'heroku-run'}, signal})
  } catch (error) {
    if (signal.aborted) return 'stopped'
    throw new Error(networkError(error))
  }
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`)
  const decoder = new TextDecoder()
  let pending = ''
  let data: string[] = []
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, {stream: true})
      const lines = pending.split(/\r?\n/)
      pending = lines.pop()!
      for (const line of lines) {
        if (line === '') {
          for (const text of data.join('\n').split(/\n+/)) if (text.trim()) onLine(text)
          data = []
        } else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5))
      }
    }
  } catch (error) {
    if (signal.aborted) return 'stopped'
    throw new Error(networkError(error))
  }
  return 'ended'
}

// fetch's own words are 'fetch failed'; the reason is in its cause (ECONNREFUSED).
const networkError = (error: unknown) => (error as {cause?: {code?: string}}).cause?.code ?? (error as Error).message

export type SessionReader = typeof readLogSession

// Signals kept until the watch takes them: past this, the oldest go (they are from before the change).
const BUFFERED = 100_000
// Attempts to read the session again after its stream failed, before the watch goes on without logs.
const READ_ATTEMPTS = 3

// A session being read from the moment it opens, its signals kept until the watch takes them: nothing
// between the change and the watch is missed. A session that ends (Fir's, after 15 minutes) or whose
// stream fails is followed by a new one, as `heroku logs --tail` does; after a few failures in a row the
// logs are given up, said through `onLost`. `destroy()` stops reading.
//
// Times: a line carries the time of Heroku's clock, the watch counts by this machine's. Each signal's time
// is moved by the smallest gap seen between a line's time and its arrival (clock skew plus the quickest
// delivery), so that a skewed clock here neither drops the window's requests nor counts older ones. A
// line is never placed later than it arrived.
export class LogTap {
  private readonly stop = new AbortController()
  private readonly signals: Signal[] = []
  private listener?: (signal: Signal) => void
  private lostListener?: (reason: string) => void
  private lostReason?: string
  private offset = Number.POSITIVE_INFINITY
  readonly done: Promise<'stopped' | Error>

  constructor(readonly session: LogSession, private readonly reopen: () => Promise<LogSession>, private readonly read: SessionReader = readLogSession, private readonly now: () => number = Date.now) {
    this.done = this.pump().catch((error: Error) => error)
  }

  private async pump(): Promise<'stopped'> {
    let session = this.session
    let failures = 0
    let why = ''
    for (;;) {
      const began = this.now()
      try {
        await this.read(session, this.stop.signal, line => this.take(line))
        // A stream that ends at once is a failure too: reopening it would loop.
        if (this.now() - began < 1000) {
          failures++
          why = 'it ended at once'
        } else {
          failures = 0
        }
      } catch (error) {
        if (this.stop.signal.aborted) return 'stopped'
        failures++
        why = (error as Error).message
      }
      if (this.stop.signal.aborted) return 'stopped'
      if (failures >= READ_ATTEMPTS) {
        this.lose(`the log session could not be read (${why})`)
        return 'stopped'
      }
      // A session ends (Fir's after 15 minutes) or its stream fails: another one, as `heroku logs --tail` does.
      try {
        if (failures > 0) await sleep(500 * failures, this.stop.signal)
        session = await this.reopen()
      } catch (error) {
        if (this.stop.signal.aborted) return 'stopped'
        this.lose(`the log session could not be opened again (${(error as Error).message})`)
        return 'stopped'
      }
    }
  }

  private take(line: string) {
    const signal = readLine(line)
    if (!signal) return
    const arrived = this.now()
    this.offset = Math.min(this.offset, arrived - signal.at)
    const placed = {...signal, at: signal.at + this.offset}
    if (this.listener) return this.listener(placed)
    this.signals.push(placed)
    if (this.signals.length > BUFFERED) this.signals.splice(0, this.signals.length - BUFFERED)
  }

  private lose(reason: string) {
    this.lostReason = reason
    this.lostListener?.(reason)
  }

  // Hands on what came so far, then each signal as it comes; `onLost` when the session is given up.
  listen(listener: (signal: Signal) => void, onLost?: (reason: string) => void) {
    for (const signal of this.signals.splice(0)) listener(signal)
    this.listener = listener
    this.lostListener = onLost
    if (this.lostReason) onLost?.(this.lostReason)
  }

  // Keeps the signals again until the next `listen` (a second watch of the run).
  unlisten() {
    this.listener = undefined
    this.lostListener = undefined
  }

  destroy() {
    this.stop.abort()
  }
}

// Opens a session and starts reading it at once.
export async function openTap(api: Api, app: string, fir: boolean): Promise<LogTap> {
  return new LogTap(await openLogSession(api, app, fir), () => openLogSession(api, app, fir))
}
