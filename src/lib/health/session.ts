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
    throw new Error(`The log session could not be read (${(error as Error).message})`)
  }
  if (!response.ok || !response.body) throw new Error(`The log session answered ${response.status}`)
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
    throw error
  }
  return 'ended'
}

// A session being read from the moment it opens, its signals kept until the watch takes them: nothing
// between the change and the watch is missed. `destroy()` stops reading.
export class LogTap {
  private readonly stop = new AbortController()
  private readonly signals: Signal[] = []
  private listener?: (signal: Signal) => void
  readonly done: Promise<'ended' | 'stopped' | Error>

  constructor(readonly session: LogSession) {
    this.done = readLogSession(session, this.stop.signal, line => {
      const signal = readLine(line)
      if (!signal) return
      if (this.listener) this.listener(signal)
      else this.signals.push(signal)
    }).catch((error: Error) => error)
  }

  // Hands on what came so far, then each signal as it comes.
  listen(listener: (signal: Signal) => void) {
    for (const signal of this.signals.splice(0)) listener(signal)
    this.listener = listener
  }

  destroy() {
    this.stop.abort()
  }
}
