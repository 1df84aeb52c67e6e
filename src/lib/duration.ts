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

// A duration given in a flag; a malformed one is refused in one line, before anything is sent.
export function durationFlag(value: string, flag: string): number {
  try {
    return parseDuration(value)
  } catch (error) {
    throw new Refused(`${flag}: ${(error as Error).message}`)
  }
}
