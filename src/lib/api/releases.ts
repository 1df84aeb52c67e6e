import {Refused} from '../errors.js'
import {poll} from '../poll.js'
import {orNoSuchApp} from './apps.js'
import {Api, path, SDK_HEADERS, statusOf} from './client.js'
import type {Release, Slug} from './types.js'

export type {Release} from './types.js'

// One page of the newest releases, newest first (one page: the client does not follow Next-Range
// through the app's whole history).
export async function recentReleases(api: Api, app: string, max = 25): Promise<Release[]> {
  const {body} = await orNoSuchApp(app, api.page<Release>(path`/apps/${app}/releases`, `version ..; max=${max}, order=desc`, {headers: SDK_HEADERS}))
  return body
}

// Releases newer than `version`, newest first, reading as many pages as that takes.
export async function releasesAfter(api: Api, app: string, version: number): Promise<Release[]> {
  const found: Release[] = []
  let range = 'version ..; max=100, order=desc'
  for (;;) {
    const {body, nextRange} = await api.page<Release>(path`/apps/${app}/releases`, range, {headers: SDK_HEADERS})
    found.push(...body.filter(r => r.version > version))
    if (!nextRange || body.length === 0 || body.at(-1)!.version <= version) return found
    range = nextRange
  }
}

// A release by `v50`, `50` or its id; a clear refusal when there is no such release.
export async function findRelease(api: Api, app: string, ref: string): Promise<Release> {
  const key = /^v?\d+$/i.test(ref) ? ref.replace(/^v/i, '') : ref
  try {
    return await getRelease(api, app, key)
  } catch (error) {
    if (statusOf(error) === 404) throw new Refused(`Release ${ref} does not exist on ${app}.`)
    throw error
  }
}

export const getRelease = (api: Api, app: string, idOrVersion: string | number) =>
  api.get<Release>(path`/apps/${app}/releases/${idOrVersion}`, {headers: SDK_HEADERS})

export const releaseConfig = (api: Api, app: string, version: number) =>
  api.get<Record<string, string>>(path`/apps/${app}/releases/${version}/config-vars`)

// What code a release runs: its git commit, and for a slug the URL of its archive, from one read of the
// slug (Cedar) or of the OCI image (Fir).
export interface CodeSource {
  commit: string | null
  archiveUrl?: string
}

export async function sourceOf(api: Api, app: string, release: Release): Promise<CodeSource> {
  try {
    if (release.slug?.id) {
      const slug = await api.get<Slug>(path`/apps/${app}/slugs/${release.slug.id}`)
      return {commit: slug.commit, archiveUrl: slug.blob?.url ?? undefined}
    }
    if (release.oci_image?.id) return {commit: (await api.get<{commit: string | null}[]>(path`/apps/${app}/oci-images/${release.oci_image.id}`))[0]?.commit ?? null}
  } catch (error) {
    if (statusOf(error) !== 404) throw error
  }
  return {commit: null}
}

// The rollback itself: the call `heroku releases:rollback` makes.
export const createRollback = (api: Api, app: string, releaseId: string) =>
  api.post<Release>(path`/apps/${app}/releases`, {body: {release: releaseId}, headers: SDK_HEADERS})

// Waits until a release has left `pending`: its release phase succeeded or failed.
// `phaseEnded`: settles when the release phase's output stream ends, so the status is read again at once.
export async function waitForRelease(api: Api, app: string, release: Release, timeoutMs: number, phaseEnded?: Promise<unknown>): Promise<Release> {
  if (release.status !== 'pending') return release
  return poll(async () => {
    const latest = await getRelease(api, app, release.id)
    return latest.status === 'pending' ? undefined : latest
  }, {timeoutMs, description: `release v${release.version} to finish its release phase`, signal: api.settings.signal, wake: phaseEnded})
}
