import {listFormation} from '../api/apps.js'
import type {Heroku} from '../api/heroku.js'
import {Release, commitOf, findRelease, recentReleases, releaseConfig, releasesAfter} from '../api/releases.js'
import {Refused, statusOf} from '../errors.js'
import {choose, isInteractive} from '../prompts.js'
import {formatDuration, ageOf} from '../duration.js'
import {migrationsAddedBetween} from './migrations.js'
import {RollbackPlan, planRollback} from './plan.js'
import {assertEligible, currentOf, ineligibility, previousEligible} from './target.js'

export interface Gathered {
  plan: RollbackPlan
  target: Release
  current: Release
}

async function newestReleases(heroku: Heroku, app: string): Promise<Release[]> {
  try {
    return await recentReleases(heroku, app, 25)
  } catch (error) {
    if (statusOf(error) === 404) throw new Refused(`App ${app} does not exist or you do not have access to it.`)
    throw error
  }
}

// In a terminal with no release named: a picker of recent releases, showing which can be chosen.
async function pickRelease(newestFirst: Release[], current: Release | undefined): Promise<Release> {
  const suggested = newestFirst.slice(0, 10).filter(r => r.eligible_for_rollback)[1]
  const choices = newestFirst.map(release => {
    const reason = ineligibility(release, current)
    const label = `v${release.version}`.padEnd(6) + ` ${release.description.slice(0, 44).padEnd(44)}  ${(release.user?.email ?? '').padEnd(24)} ${formatDuration(ageOf(release.created_at))} ago`
    return {name: label, value: release, disabled: reason && `(${release === current ? 'current' : reason.replace(/^v\d+ (is )?/, '')})`}
  })
  return choose('Roll back to which release?', choices, 'a RELEASE argument', suggested)
}

// Everything the preview needs, fetched with independent requests in parallel.
export async function gatherRollback(heroku: Heroku, app: string, releaseRef: string | undefined, cwd: string): Promise<Gathered> {
  const [newest, formation] = await Promise.all([newestReleases(heroku, app), listFormation(heroku, app)])
  const current = currentOf(newest)
  if (!current) throw new Refused(`${app} has no current release to roll back from.`)
  const target = releaseRef ? await findRelease(heroku, app, releaseRef)
    : isInteractive() ? await pickRelease(newest, current) : previousEligible(newest, app)
  assertEligible(target, current, app)

  const oldestListed = newest.at(-1)?.version ?? 0
  const [undone, currentConfig, targetConfig, currentCommit, targetCommit] = await Promise.all([
    (target.version >= oldestListed ? Promise.resolve(newest) : releasesAfter(heroku, app, target.version))
      .then(list => list.filter(r => r.version > target.version && r.version <= current.version)),
    releaseConfig(heroku, app, current.version),
    releaseConfig(heroku, app, target.version),
    commitOf(heroku, app, current),
    commitOf(heroku, app, target),
  ])
  const migrations = await migrationsAddedBetween(cwd, targetCommit, currentCommit)
  const releaseCommand = formation.find(p => p.type === 'release')?.command
  const plan = planRollback({app, current, target, undone, currentConfig, targetConfig, currentCommit, targetCommit, releaseCommand, migrations})
  return {plan, target, current}
}
