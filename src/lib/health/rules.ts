import {durationFlag} from '../duration.js'
import {Refused} from '../errors.js'
import {hasPassword} from '../secrets.js'
import type {WatchRules} from './verdict.js'

// The watch's flags, read and checked before anything is sent (see flags.ts: healthFlags).

export interface HealthInput {
  'health-window': string
  'min-requests': number
  'max-error-rate': string
  'health-url'?: string
}

export interface HealthSettings {
  rules: WatchRules
  healthUrl?: string
}

export function healthSettings(flags: HealthInput): HealthSettings {
  const windowMs = durationFlag(flags['health-window'], '--health-window')
  const rate = flags['max-error-rate'].trim().replace(/%$/, '')
  const maxErrorRate = /^\d+(\.\d+)?$/.test(rate) ? Number(rate) : Number.NaN
  if (!(maxErrorRate >= 0 && maxErrorRate <= 100)) throw new Refused(`--max-error-rate ${flags['max-error-rate']} is not a percentage: use a number from 0 to 100, such as 2 or 0.5.`)
  return {rules: {windowMs, minRequests: flags['min-requests'], maxErrorRate}, healthUrl: flags['health-url'] && healthUrl(flags['health-url'])}
}

// An http(s) URL. It is part of the plan and its run log: one with a password is refused (use a token
// the app accepts in a path or query of its own, or none).
function healthUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Refused(`--health-url ${text} is not a URL: give one such as https://my-app.herokuapp.com/health.`)
  }
  if (!['http:', 'https:'].includes(url.protocol)) throw new Refused(`--health-url must be an http or https URL, not ${url.protocol.replace(/:$/, '')}.`)
  if (hasPassword(text)) throw new Refused('--health-url has a password: it would be kept in the run log and show in `ps`; give a URL without one.')
  return url.href
}

// A window as the flag takes it, exactly: 2m, 1m30s, 45s.
export function windowText(ms: number): string {
  const seconds = Math.round(ms / 1000)
  const parts = [[Math.floor(seconds / 60), 'm'], [seconds % 60, 's']] as const
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join('') || '0s'
}
