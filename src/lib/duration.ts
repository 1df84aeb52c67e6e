import {Refused} from './errors.js'

const UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

// Parses durations the way people type them in an incident: `90s`, `30m`, `6h`, `2d`, `1h30m`.
export function parseDuration(text: string): number {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)\s*([smhd])/gi)]
  const normalized = parts.map(p => p[0]).join('')
  if (parts.length === 0 || normalized.replace(/\s/g, '') !== text.trim().replace(/\s/g, '')) {
    throw new Error(`Invalid duration "${text}": use a number and a unit, such as 30m, 6h or 2d.`)
  }
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * UNITS[unit.toLowerCase()], 0)
}

// A short human age: `45s`, `12m`, `3h 5m`, `2d 4h`.
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`
  const days = Math.floor(hours / 24)
  return hours % 24 ? `${days}d ${hours % 24}h` : `${days}d`
}

export const ageOf = (isoTime: string, now = Date.now()) => now - new Date(isoTime).getTime()

// What each duration flag accepts, in one place. Zero is never meant: PostgreSQL reads a timeout of 0 as
// "no timeout", and a wait of 0 gives up after the change was already requested. The upper bounds are
// well past any real use and catch typos and values that break date arithmetic.
export const DURATION_BOUNDS = {
  // While DDL waits for its lock, every later query on the table queues behind it: past minutes, that is an outage.
  '--lock-timeout': {min: '1s', max: '5m'},
  // A down migration that rewrites a large table may take hours; a day is past any maintenance window.
  '--statement-timeout': {min: '1s', max: '24h'},
  // Restores and provisioning of large databases take hours; two days covers the largest.
  '--wait-timeout': {min: '1s', max: '48h'},
  // A backup older than three months is no protection in an incident.
  '--max-backup-age': {min: '1m', max: '90d'},
  // Heroku's rollback windows are a week at most; the window check refuses precisely what the database cannot reach.
  '--by': {min: '1s', max: '30d'},
  // Too short to see a request of a quiet app; past half an hour, a verdict comes too late to help.
  '--health-window': {min: '5s', max: '30m'},
} as const

export type DurationFlag = keyof typeof DURATION_BOUNDS

// A duration given in a flag; a malformed or out-of-range one is refused in one line, before anything is sent.
export function durationFlag(value: string, flag: DurationFlag): number {
  let ms: number
  try {
    ms = parseDuration(value)
  } catch (error) {
    throw new Refused(`${flag}: ${(error as Error).message}`)
  }
  const {min, max} = DURATION_BOUNDS[flag]
  if (!(ms >= parseDuration(min) && ms <= parseDuration(max))) throw new Refused(`${flag} ${value.trim()} is out of range: use between ${min} and ${max}.`)
  return ms
}
