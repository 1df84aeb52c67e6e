import {randomBytes} from 'node:crypto'
import {ApiError} from './errors.js'
import {type App, uuid} from './state.js'

// The log pipeline: what the router, the dynos and the platform write about an app (heroku[router],
// heroku[web.1]), and what the app writes itself (app[web.1]), per app, handed to every log session
// being read. Cedar keeps the last 1,500 lines for a session's `lines`; Fir keeps none, and its sessions
// take no `lines` or `tail` (they always stream), as `heroku logs` (lib/run/log-displayer.js) sends them.

export interface LogLine {
  // When it was written (ms since the epoch).
  at: number
  source: 'heroku' | 'app'
  // The process: router, web.1, api, logplex.
  process: string
  text: string
}

export interface LogSession {
  id: string
  app: {id: string, name: string}
  // What was asked for: `source` and `dyno` filter; `lines` of history first (Cedar); `tail` streams on.
  source?: string
  dyno?: string
  lines: number
  tail: boolean
  created_at: string
  // Part of the URL, as Logplex's session URLs carry one: whoever has the URL may read the session.
  token: string
}

const HISTORY = 1500

// Heroku's timestamps: microseconds and an explicit offset, `2026-12-06T12:00:00.123000+00:00`.
export const stamp = (at: number) => new Date(at).toISOString().replace(/Z$/, '000+00:00')

export const formatLine = (line: LogLine) => `${stamp(line.at)} ${line.source}[${line.process}]: ${line.text}`

interface Channel {
  history: LogLine[]
  readers: Set<(line: LogLine) => void>
}

export class Logplex {
  private readonly channels = new Map<string, Channel>()
  readonly sessions = new Map<string, LogSession>()
  // Told when the number of sessions being read for an app changes (the simulated traffic runs only then).
  onReaders?: (app: App, readers: number) => void

  private channel(app: App): Channel {
    let channel = this.channels.get(app.id)
    if (!channel) this.channels.set(app.id, channel = {history: [], readers: new Set()})
    return channel
  }

  write(app: App, line: Omit<LogLine, 'at'> & {at?: number}) {
    const written: LogLine = {at: Date.now(), ...line}
    const channel = this.channel(app)
    if (app.generation.name !== 'fir') {
      channel.history.push(written)
      if (channel.history.length > HISTORY) channel.history.splice(0, channel.history.length - HISTORY)
    }
    for (const reader of channel.readers) reader(written)
  }

  // `POST /apps/{app}/log-sessions`, with the body `heroku logs` sends: Cedar {source, dyno, lines, tail},
  // Fir {source, dyno, type}.
  // SIMULATED: Heroku's answer to `lines` or `tail` on a Fir app is not documented; the sandbox refuses
  // them (422), so that a test sees a body that does not follow the CLI.
  openSession(app: App, body: Record<string, unknown> = {}): LogSession {
    const fir = app.generation.name === 'fir'
    if (fir && ('lines' in body || 'tail' in body)) throw new ApiError(422, 'invalid_params', 'lines and tail are not supported for Fir apps: their log sessions always stream.')
    const lines = body.lines === undefined ? (fir ? 0 : 100) : Number(body.lines)
    if (!Number.isInteger(lines) || lines < 0 || lines > HISTORY) throw new ApiError(422, 'invalid_params', `lines must be an integer from 0 to ${HISTORY}.`)
    const text = (key: string) => typeof body[key] === 'string' && body[key] ? body[key] as string : undefined
    const session: LogSession = {
      id: uuid(), app: {id: app.id, name: app.name}, source: text('source'), dyno: text('dyno') ?? text('type'),
      lines, tail: fir || body.tail === true, created_at: new Date().toISOString(), token: randomBytes(12).toString('hex'),
    }
    this.sessions.set(session.id, session)
    return session
  }

  readers(app: App): number {
    return this.channel(app).readers.size
  }

  // A session's lines: its history first (Cedar's `lines`), then, with `tail`, each line as it is
  // written, until `closed` fires.
  async read(app: App, session: LogSession, send: (lines: LogLine[]) => void, closed: AbortSignal): Promise<void> {
    const wanted = (line: LogLine) => (!session.source || line.source === session.source)
      && (!session.dyno || line.process === session.dyno || line.process.startsWith(`${session.dyno}.`) || line.process.startsWith(`${session.dyno}-`))
    const channel = this.channel(app)
    const history = session.lines > 0 ? channel.history.filter(wanted).slice(-session.lines) : []
    if (history.length > 0) send(history)
    if (!session.tail || closed.aborted) return
    // Lines written in one turn of the event loop go out together, as one event of several lines.
    let batch: LogLine[] = []
    const reader = (line: LogLine) => {
      if (!wanted(line)) return
      if (batch.length === 0) queueMicrotask(() => {
        const lines = batch
        batch = []
        if (!closed.aborted) send(lines)
      })
      batch.push(line)
    }
    channel.readers.add(reader)
    this.onReaders?.(app, channel.readers.size)
    try {
      await new Promise(resolve => closed.addEventListener('abort', resolve, {once: true}))
    } finally {
      channel.readers.delete(reader)
      this.onReaders?.(app, channel.readers.size)
    }
  }
}
