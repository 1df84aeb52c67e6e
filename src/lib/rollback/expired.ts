import type {Api} from '../api/client.js'
import {Release, sourceOf} from '../api/releases.js'
import {Refused} from '../errors.js'

// Since October 2025 Heroku destroys the slug (Cedar) or OCI image (Fir) of a release older than 30 days
// and older than 20 releases: the release is `expired` and cannot be rolled back to. Its code can still be
// deployed again, from its commit, as a new build (with today's config vars).

// A deploy's description names its commit (`Deploy 1a2b3c4`), and it outlives the slug.
const DEPLOYED_COMMIT = /^Deploy ([0-9a-f]{7,40})$/i

export const describedCommit = (release: Release): string | null => DEPLOYED_COMMIT.exec(release.description)?.[1] ?? null

// The slug or image may still be readable; when it is gone, the description is what is left.
export async function expiredCommit(api: Api, app: string, release: Release): Promise<string | null> {
  const {commit} = await sourceOf(api, app, release)
  return commit ?? describedCommit(release)
}

export const redeployCommand = (app: string, release: Release, commit: string | null) => commit
  ? `git push --force https://git.heroku.com/${app}.git ${commit}:main`
  : `heroku releases:info v${release.version} --app ${app}`

// The picker's note beside an expired release.
export const expiredNote = (release: Release) => {
  const commit = describedCommit(release)
  return commit ? `expired: deploy ${commit} again` : 'expired'
}

export function expiredRefusal(app: string, release: Release, commit: string | null): Refused {
  const v = `v${release.version}`
  const redeploy = redeployCommand(app, release, commit)
  const artifact = release.oci_image?.id && !release.slug?.id ? 'image' : 'slug'
  const next = commit
    ? `${v} ran commit ${commit}; deploy it again from the app's git repository: \`${redeploy}\` (a new build, with today's config vars).`
    : `The commit ${v} ran is not known: \`${redeploy}\` shows what it deployed.`
  return new Refused(
    `Cannot roll ${app} back to ${v}: ${v} is expired: Heroku deleted its ${artifact} (releases older than 30 days and 20 releases cannot be rolled back to). ${next}`,
    {target: {version: release.version, status: release.status, commit, redeploy}},
  )
}
