import type {Release} from '../api/releases.js'
import {Refused} from '../errors.js'

// Why a release cannot be rolled back to, or undefined when it can.
export function ineligibility(release: Release, current: Release | undefined): string | undefined {
  if (current && release.id === current.id) return `v${release.version} is the current release`
  if (release.status === 'failed') return `v${release.version} failed`
  if (release.status !== 'succeeded') return `v${release.version} is ${release.status}`
  if (!release.eligible_for_rollback) return `v${release.version} is not eligible for rollback`
}

export function assertEligible(release: Release, current: Release | undefined, app: string) {
  const reason = ineligibility(release, current)
  if (reason) throw new Refused(`Cannot roll ${app} back to v${release.version}: ${reason}.`)
}

// With no release named, the same choice as `heroku releases:rollback`: the second eligible
// release among the newest ten, which is the one before the current.
export function previousEligible(newestFirst: Release[], app: string): Release {
  const found = newestFirst.slice(0, 10).filter(r => r.eligible_for_rollback)[1]
  if (!found) throw new Refused(`No eligible release to roll ${app} back to among its last 10 releases.`)
  return found
}

export const currentOf = (newestFirst: Release[]) => newestFirst.find(r => r.current)
