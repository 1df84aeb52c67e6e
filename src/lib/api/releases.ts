import {Refused, statusOf} from '../errors.js'
import {poll} from '../poll.js'
import {Heroku, SDK_HEADERS} from './heroku.js'

export interface Release {
  id: string
  version: number
  status: 'pending' | 'succeeded' | 'failed' | 'expired'
  description: string
  created_at: string
  current: boolean
  eligible_for_rollback: boolean
  user?: {email: string}
  slug?: {id: string} | null
  oci_image?: {id: string} | null
  output_stream_url?: string | null
  addon_plan_names?: string[]
}

// One page of the newest releases, newest first. `partial` stops the client from following
// Next-Range and downloading the app's whole history.
export async function recentReleases(heroku: Heroku, app: string, max = 25): Promise<Release[]> {
  const {body} = await heroku.request<Release[]>(`/apps/${app}/releases`, {
    headers: {...SDK_HEADERS, Range: `version ..; max=${max}, order=desc`},
    partial: true,
  })
  return body
}

// Releases newer than `version`, newest first, reading as many pages as that takes.
export async function releasesAfter(heroku: Heroku, app: string, version: number): Promise<Release[]> {
  const found: Release[] = []
  let range = 'version ..; max=100, order=desc'
  for (;;) {
    const {body, headers} = await heroku.request<Release[]>(`/apps/${app}/releases`, {headers: {...SDK_HEADERS, Range: range}, partial: true})
    found.push(...body.filter(r => r.version > version))
    const next = headers['next-range'] as string | undefined
    if (!next || body.length === 0 || body.at(-1)!.version <= version) return found
    range = next
  }
}

// A release by `v50`, `50` or its id; a clear refusal when there is no such release.
export async function findRelease(heroku: Heroku, app: string, ref: string): Promise<Release> {
  const key = /^v?\d+$/i.test(ref) ? ref.replace(/^v/i, '') : ref
  try {
    const {body} = await heroku.get<Release>(`/apps/${app}/releases/${key}`, {headers: SDK_HEADERS})
    return body
  } catch (error) {
    if (statusOf(error) === 404) throw new Refused(`Release ${ref} does not exist on ${app}.`)
    throw error
  }
}

export async function releaseConfig(heroku: Heroku, app: string, version: number): Promise<Record<string, string>> {
  const {body} = await heroku.get<Record<string, string>>(`/apps/${app}/releases/${version}/config-vars`)
  return body
}

// The git commit a release runs, from its slug (Cedar) or its OCI image (Fir).
export async function commitOf(heroku: Heroku, app: string, release: Release): Promise<string | null> {
  try {
    if (release.slug?.id) {
      const {body} = await heroku.get<{commit: string | null}>(`/apps/${app}/slugs/${release.slug.id}`)
      return body.commit
    }
    if (release.oci_image?.id) {
      const {body} = await heroku.get<{commit: string | null}[]>(`/apps/${app}/oci-images/${release.oci_image.id}`)
      return body[0]?.commit ?? null
    }
  } catch (error) {
    if (statusOf(error) !== 404) throw error
  }
  return null
}

// The rollback itself: the call `heroku releases:rollback` makes.
export async function createRollback(heroku: Heroku, app: string, releaseId: string): Promise<Release> {
  const {body} = await heroku.post<Release>(`/apps/${app}/releases`, {body: {release: releaseId}, headers: SDK_HEADERS})
  return body
}

export async function getRelease(heroku: Heroku, app: string, id: string): Promise<Release> {
  const {body} = await heroku.get<Release>(`/apps/${app}/releases/${id}`, {headers: SDK_HEADERS})
  return body
}

// Waits until a release has left `pending`: its release phase succeeded or failed.
export async function waitForRelease(heroku: Heroku, app: string, release: Release, timeoutMs: number): Promise<Release> {
  if (release.status !== 'pending') return release
  return poll(async () => {
    const latest = await getRelease(heroku, app, release.id)
    return latest.status === 'pending' ? undefined : latest
  }, {timeoutMs, description: `release v${release.version} to finish its release phase`})
}
