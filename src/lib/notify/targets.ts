import {Refused} from '../errors.js'

// Where a run's events go: PagerDuty, Slack or Datadog (their keys and URLs from the environment), or any
// http(s):// URL (a CloudEvents webhook). `none` sends nothing, whatever the team default says.

export const NOTIFY_ENV = 'HEROKU_SAFE_ROLLBACK_NOTIFY'

export const NAMED = ['pagerduty', 'slack', 'datadog'] as const

export const isUrl = (text: string) => {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol)
  } catch {
    return false
  }
}

const isTarget = (text: string) => (NAMED as readonly string[]).includes(text) || text === 'none' || isUrl(text)

// A value that is not a target is named only when it cannot be a URL with its secret (a webhook without its scheme).
const shown = (text: string) => /^[\w-]{1,20}$/.test(text) ? `"${text}"` : 'a value'

const WHAT = 'pagerduty, slack, datadog, none or an http(s):// URL'

// --notify, as typed: a value that is no target is refused in one line, before anything is sent.
export function assertTargets(given: string[]): void {
  const wrong = given.map(t => t.trim()).find(t => !isTarget(t))
  if (wrong !== undefined) throw new Refused(`--notify: ${shown(wrong)} is not a place to notify: give ${WHAT}.`)
}

// The targets of a run: --notify when given, else the team default; none at all when `none` is among them.
// What the default names that is no target is said, and left out.
export function chooseTargets(given: string[] | undefined, fallback: string | undefined): {targets: string[], problems: string[]} {
  const fromFlag = (given ?? []).length > 0
  const listed = fromFlag ? given!.map(t => t.trim()) : (fallback ?? '').split(',').map(t => t.trim()).filter(Boolean)
  if (listed.includes('none')) return {targets: [], problems: []}
  const problems = listed.filter(t => !isTarget(t)).map(t => `${NOTIFY_ENV} names ${shown(t)}, which is not a place to notify (give ${WHAT}): left out.`)
  return {targets: [...new Set(listed.filter(isTarget))], problems}
}
