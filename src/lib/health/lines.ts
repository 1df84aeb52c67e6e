// Heroku's own log lines, as a log session streams them, read for what they say about the app's health:
//   2026-12-06T12:00:00.000000+00:00 heroku[router]: at=info method=GET path="/" host=… dyno=web.1 … status=200 bytes=12
//   2026-12-06T12:00:01.000000+00:00 heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/" … status=503
//   2026-12-06T12:00:02.000000+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)
//   2026-12-06T12:00:02.500000+00:00 heroku[web.1]: State changed from starting to crashed
//   2026-12-06T12:00:03.000000+00:00 heroku[logplex]: Error L10 (output buffer overflow): 12 messages dropped
// Application lines (app[web.1]) are never read: they are the app's own words, and may hold anything.

export type Signal =
  // A request the router served: its status and, for an error, Heroku's code (H12).
  | {kind: 'request', at: number, status: number, code?: string, error: boolean}
  // A dyno's runtime error (R10 boot timeout, R14 memory, R15 memory critical).
  | {kind: 'dyno', at: number, code: string, dyno: string}
  // The log pipeline itself lost lines (L10, L11…): what was seen may not be all there was.
  | {kind: 'pipeline', at: number, code: string}
  // A dyno changed state (starting, up, crashed, down).
  | {kind: 'state', at: number, dyno: string, state: string}

const HEADER = /^(\S+)\s+heroku\[([^\]]+)\]:\s+(.*)$/

const ONE_OFF = /^(run|release|scheduler)[.-]/

// key=value and key="quoted value" pairs of a router line.
function fields(text: string): Map<string, string> {
  const found = new Map<string, string>()
  for (const match of text.matchAll(/([a-z_]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) found.set(match[1], match[2].replace(/^"|"$/g, ''))
  return found
}

export function readLine(line: string): Signal | undefined {
  const header = HEADER.exec(line.trim())
  if (!header) return undefined
  const [, time, source, text] = header
  const at = Date.parse(time)
  if (Number.isNaN(at)) return undefined
  if (source === 'router') {
    const pairs = fields(text)
    const status = Number(pairs.get('status'))
    if (!Number.isInteger(status)) return undefined
    const code = pairs.get('code')
    return {kind: 'request', at, status, ...(code ? {code} : {}), error: status >= 500 || pairs.get('at') === 'error'}
  }
  // One-off dynos (heroku run, the release phase) say nothing of how the app serves.
  if (ONE_OFF.test(source)) return undefined
  const changed = /^State changed from \w+ to (\w+)/.exec(text)
  if (changed && source !== 'logplex') return {kind: 'state', at, dyno: source, state: changed[1]}
  const runtime = /^Error ([A-Z]\d+)\b/.exec(text)
  if (!runtime) return undefined
  if (source === 'logplex' || runtime[1].startsWith('L')) return {kind: 'pipeline', at, code: runtime[1]}
  return {kind: 'dyno', at, code: runtime[1], dyno: source}
}
