import type {ClientBase} from 'pg'
import {type Api, statusOf} from '../api/client.js'
import {recentReleases, sourceOf} from '../api/releases.js'
import {messageOf} from '../errors.js'
import type {OtherApp} from '../migrations/plan.js'
import type {Statement} from '../migrations/statements.js'
import {catalogsAroundDown, type DownOnScratch, withChanges} from './after-down.js'
import {readCatalog} from './catalog.js'
import type {MigrationSince} from './compat.js'
import {type ExpectedSchema, expectedSchema} from './expected.js'
import {compareWith, readProjectAt, schemasOf} from './gate.js'
import type {ProjectAt} from './source.js'

// The other apps on a database whose schema a down changes: does the code each one runs now still fit
// the schema the down leaves? Their current releases are read together (one round per read, whatever
// their number), then held against that schema with the schema gate's own comparison.

export interface OtherCode {
  app: string
  names: string[]
  release?: number
  project?: ProjectAt
  // Why its code could not be read.
  reason?: string
}

async function currentCode(api: Api, other: {app: string, names: string[]}, cwd: string): Promise<OtherCode> {
  try {
    const current = (await recentReleases(api, other.app, 10)).find(r => r.current)
    if (!current) return {...other, reason: 'it has no current release'}
    const at = {...other, release: current.version}
    const v = `v${current.version}`
    if (current.status === 'expired') return {...at, reason: `${v} is expired: Heroku deleted its slug`}
    const source = await sourceOf(api, other.app, current)
    const project = await readProjectAt(api, cwd, source, () => false)
    if (project) return {...at, project}
    const commit = source.commit ? `, and its commit ${source.commit.slice(0, 7)} is not in this git repository` : ''
    if (current.oci_image?.id && !current.slug?.id) return {...at, reason: `${v} is a Fir release (an OCI image, whose files cannot be downloaded)${commit}`}
    if (!source.archiveUrl) return {...at, reason: `${v}'s slug cannot be downloaded (expired or deleted)${commit}`}
    return {...at, reason: `${v}'s code has no Prisma schema`}
  } catch (error) {
    const status = statusOf(error)
    return {...other, reason: status === 403 || status === 404 ? `its releases cannot be read with your account (${status})` : `its code could not be read: ${messageOf(error)}`}
  }
}

export const readOthersCode = (api: Api, others: {app: string, names: string[]}[], cwd: string): Promise<OtherCode[]> =>
  Promise.all(others.map(other => currentCode(api, other, cwd)))

const unknown = (other: OtherCode, reason: string): OtherApp =>
  ({app: other.app, names: other.names, release: other.release, verdict: 'unknown', reason, findings: []})

export interface DownToFit extends Omit<DownOnScratch, 'down'> {
  // The migrations to revert, newest first, each with its down's statements (missing: no down SQL).
  reverts: {name: string, down?: Statement[]}[]
}

// Each other app's verdict on the schema the down leaves; `client` reads today's catalog and rows.
export async function fitOthers(client: ClientBase, others: OtherCode[], down: DownToFit): Promise<OtherApp[]> {
  const expected = new Map<string, ExpectedSchema>()
  const failed = new Map<string, string>()
  for (const other of others.filter(o => o.project)) {
    try {
      expected.set(other.app, expectedSchema(other.project!.schemas))
    } catch (error) {
      failed.set(other.app, `its Prisma schema cannot be read: ${messageOf(error)}`)
    }
  }
  let catalog
  if (expected.size > 0) {
    const schemas = [...new Set([...expected.values()].flatMap(e => schemasOf(e, down.schema)))]
    try {
      if (down.reverts.some(r => !r.down)) throw new Error('a migration to revert has no down SQL')
      const [live, around] = await Promise.all([
        readCatalog(client, schemas),
        catalogsAroundDown({...down, down: down.reverts.flatMap(r => r.down!)}, schemas),
      ])
      catalog = withChanges(live, around.before, around.after)
    } catch (error) {
      const reason = `the schema the down leaves could not be made on a scratch database: ${messageOf(error)}`
      for (const app of expected.keys()) failed.set(app, reason)
    }
  }
  // Each finding names the migration whose down makes the change.
  const since: MigrationSince[] = [...down.reverts].reverse().map(r => ({name: r.name, statements: r.down ?? []}))
  const fits: OtherApp[] = []
  for (const other of others) {
    const schema = expected.get(other.app)
    if (!schema || !catalog || failed.has(other.app)) {
      fits.push(unknown(other, failed.get(other.app) ?? other.reason ?? 'its code could not be read'))
      continue
    }
    try {
      const {verdict, findings} = await compareWith(client, down.schema, schema, catalog, since)
      fits.push({app: other.app, names: other.names, release: other.release, from: other.project!.from, verdict, findings})
    } catch (error) {
      fits.push(unknown(other, `the comparison failed: ${messageOf(error)}`))
    }
  }
  return fits
}
