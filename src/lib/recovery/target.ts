import type {Api} from '../api/client.js'
import {findRelease} from '../api/releases.js'
import {parseDuration} from '../duration.js'
import {Refused} from '../errors.js'

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

// ISO 8601 or `YYYY-MM-DD HH:MM[:SS]` followed by an offset. A time without an offset is refused:
// in an incident, guessing the time zone is how a rollback lands an hour off.
export function parseTime(text: string): Date {
  const trimmed = text.trim()
  if (!OFFSET.test(trimmed)) throw new Refused(`--to "${text}" has no time zone: add one, such as "2026-11-24 02:47+00" or "2026-11-24T02:47:00Z".`)
  const normalized = trimmed.replace(/^(\d{4}-\d\d-\d\d) /, '$1T').replace(/\s*UTC$/i, 'Z').replace(/([+-]\d\d)$/, '$1:00')
  const ms = Date.parse(normalized)
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(normalized) || Number.isNaN(ms)) {
    throw new Refused(`--to "${text}" is not a time: use ISO 8601 or "YYYY-MM-DD HH:MM" with an offset.`)
  }
  return new Date(ms)
}

export const BEFORE_RELEASE_MS = 60_000

// Heroku takes the time to the second; the plan shows exactly what is sent.
const toSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000)

export async function resolveTarget(api: Api, app: string, request: TargetRequest, now = Date.now()): Promise<Target> {
  if (request.kind === 'backup') return request
  if (request.to) return {kind: 'time', at: toSecond(parseTime(request.to).getTime()), reason: `given with --to ${request.to}`}
  if (request.by) {
    let ms: number
    try {
      ms = parseDuration(request.by)
    } catch (error) {
      throw new Refused(`--by: ${(error as Error).message}`)
    }
    return {kind: 'time', at: toSecond(now - ms), reason: `${request.by} ago (--by)`}
  }
  const release = await findRelease(api, app, request.beforeRelease!)
  const at = toSecond(Date.parse(release.created_at) - BEFORE_RELEASE_MS)
  return {kind: 'time', at, reason: `one minute before v${release.version} "${release.description}" was created at ${release.created_at}`}
}

// The time as Heroku's `--to` takes it: `YYYY-MM-DD HH:MM:SS+00`.
export const herokuTime = (at: Date) => at.toISOString().slice(0, 19).replace('T', ' ') + '+00'
