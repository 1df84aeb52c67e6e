import type {Api} from '../api/client.js'
import {findRelease, type Release} from '../api/releases.js'
import {durationFlag} from '../duration.js'
import {Refused} from '../errors.js'
import {assertReleaseRef} from '../names.js'

// Where to go back to: a backup, or a moment in time given one of three ways.

export type TargetRequest =
  | {kind: 'backup', ref: string}
  | {kind: 'time', to?: string, by?: string, beforeRelease?: string}

export interface TargetFlags {
  backup?: string
  to?: string
  by?: string
  'before-release'?: string
}

export type Target =
  | {kind: 'backup', ref: string}
  | {kind: 'time', at: Date, reason: string}

export function targetRequest(flags: TargetFlags): TargetRequest | undefined {
  if (flags.backup) return {kind: 'backup', ref: flags.backup}
  if (flags.to || flags.by || flags['before-release']) return {kind: 'time', to: flags.to, by: flags.by, beforeRelease: flags['before-release']}
}

const OFFSET = /(Z|UTC|[+-]\d\d(:?\d\d)?)$/i
const TIME = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?\s*(Z|UTC|[+-]\d\d(?::?\d\d)?)$/i

const notATime = (text: string, flag: string) => new Refused(`${flag} "${text}" is not a time: use ISO 8601 or "YYYY-MM-DD HH:MM" with an offset.`)

// The offset in minutes east of UTC: `Z`, `UTC`, `+01`, `-05:30`, `+0000`.
function offsetMinutes(offset: string, text: string, flag: string): number {
  if (/^(Z|UTC)$/i.test(offset)) return 0
  const [, sign, hours, minutes = '00'] = /^([+-])(\d\d):?(\d\d)?$/.exec(offset)!
  if (Number(hours) > 23 || Number(minutes) > 59) throw new Refused(`${flag} "${text}": ${offset} is not a time zone offset.`)
  return (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes))
}

// ISO 8601 or `YYYY-MM-DD HH:MM[:SS]` followed by an offset. A time without an offset is refused:
// in an incident, guessing the time zone is how a rollback lands an hour off. So is a day or a time
// that does not exist, which Date would silently roll over (February 30th becomes March 2nd).
export function parseTime(text: string, flag = '--to'): Date {
  const trimmed = text.trim()
  if (!OFFSET.test(trimmed)) throw new Refused(`${flag} "${text}" has no time zone: add one, such as "2026-11-24 02:47+00" or "2026-11-24T02:47:00Z".`)
  const found = TIME.exec(trimmed)
  if (!found) throw notATime(text, flag)
  const [, year, month, day, hour, minute, second, fraction = '', offset] = found
  const date = new Date(0)
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day))
  if (date.getUTCFullYear() !== Number(year) || date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) {
    throw new Refused(`${flag} "${text}": ${year}-${month}-${day} does not exist.`)
  }
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 59) {
    throw new Refused(`${flag} "${text}": ${hour}:${minute}${second ? `:${second}` : ''} is not a time of day.`)
  }
  date.setUTCHours(Number(hour), Number(minute), Number(second ?? 0), Math.floor(Number(`0${fraction}`) * 1000))
  return new Date(date.getTime() - offsetMinutes(offset, text, flag) * 60_000)
}

// Every way back given in flags, checked before anything is read: a time that does not exist, a
// duration out of range, a release that is not one.
export function assertTargetFlags(flags: TargetFlags): void {
  if (flags.to) parseTime(flags.to)
  if (flags.by) durationFlag(flags.by, '--by')
  assertReleaseRef(flags['before-release'], '--before-release')
}

export const BEFORE_RELEASE_MS = 60_000

// Heroku takes the time to the second; the plan shows exactly what is sent.
const toSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000)

export async function resolveTarget(api: Api, app: string, request: TargetRequest, now = Date.now()): Promise<Target> {
  if (request.kind === 'backup') return request
  if (request.to) return {kind: 'time', at: toSecond(parseTime(request.to).getTime()), reason: `given with --to ${request.to}`}
  if (request.by) {
    const ms = durationFlag(request.by, '--by')
    return {kind: 'time', at: toSecond(now - ms), reason: `${request.by} ago (--by)`}
  }
  return beforeRelease(await findRelease(api, app, request.beforeRelease!))
}

export function beforeRelease(release: Pick<Release, 'version' | 'description' | 'created_at'>): Target {
  const at = toSecond(Date.parse(release.created_at) - BEFORE_RELEASE_MS)
  return {kind: 'time', at, reason: `one minute before v${release.version} "${release.description}" was created at ${release.created_at}`}
}

// The time as Heroku's `--to` takes it: `YYYY-MM-DD HH:MM:SS+00`.
export const herokuTime = (at: Date) => at.toISOString().slice(0, 19).replace('T', ' ') + '+00'
