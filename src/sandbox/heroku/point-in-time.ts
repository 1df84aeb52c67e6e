import type {Sandbox} from '../index.js'
import {ApiError, notFound, Request, Router} from '../server/http.js'
import {addonJson} from '../routes/platform.js'
import {rollbackWindowMs} from '../routes/data.js'
import {Addon, App, now, shortId, uuid} from './state.js'

// Creating Heroku Postgres add-ons, including point-in-time rollbacks (`config: {rollback, to | by}`).
//
// SIMULATED: real PostgreSQL point-in-time recovery replays the write-ahead log up to any moment.
// That needs a base backup and WAL archiving, which the sandbox does not run. Instead it keeps
// timestamped snapshots of each database (real copies, `CREATE DATABASE ... TEMPLATE`): one per
// successful backup, one per `sandbox.checkpoint(addon)`, one after each restore. A rollback to time T
// copies the newest snapshot taken at or before T, or an empty database when there is none (the
// database as it was created). Between snapshots the sandbox cannot know what changed.

export interface Snapshot {
  at: number
  name: string
}

interface RollbackConfig {
  rollback: string
  to?: string
  by?: string
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const BY_UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

// `2026-11-24 02:47+00`, `2026-11-24 02:47:13+00:00`, ISO 8601: what Heroku's `--to` accepts.
export function parseRecoveryTime(text: string): number {
  const normalized = text.trim().replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00').replace(/\s*UTC$/i, 'Z')
  const ms = Date.parse(normalized)
  if (Number.isNaN(ms)) throw new ApiError(422, 'invalid_params', `Could not parse rollback time "${text}".`)
  return ms
}

// `3 days 7 hours 22 minutes`, `90m`, `2h`: what Heroku's `--by` accepts.
export function parseRecoveryInterval(text: string): number {
  const parts = [...text.matchAll(/(\d+)\s*(d|h|m|s)[a-z]*/gi)]
  if (parts.length === 0) throw new ApiError(422, 'invalid_params', `Could not parse rollback interval "${text}".`)
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * BY_UNITS[unit.toLowerCase()], 0)
}

const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + ' UTC'

function earliestRecoveryTime(addon: Addon): number {
  return Math.max(addon._database!.createdAt, Date.now() - rollbackWindowMs(addon.plan.name))
}

// Refuses what Heroku refuses: plans without continuous protection, times outside the window, the future.
export function recoveryTimeFor(source: Addon, config: RollbackConfig): number {
  if (rollbackWindowMs(source.plan.name) === 0) {
    throw new ApiError(422, 'invalid_params', `${source.plan.name} databases do not support rollback. Restore a backup instead.`)
  }
  if (!config.to === !config.by) throw new ApiError(422, 'invalid_params', 'Rollback needs exactly one of `to` or `by`.')
  const target = config.to ? parseRecoveryTime(config.to) : Date.now() - parseRecoveryInterval(config.by!)
  if (target > Date.now()) throw new ApiError(422, 'invalid_params', `Rollback time ${utc(target)} is in the future.`)
  const earliest = earliestRecoveryTime(source)
  if (target < earliest) {
    throw new ApiError(422, 'invalid_params', `Rollback time ${utc(target)} is before the earliest point ${source.name} can roll back to (${utc(earliest)}).`)
  }
  return target
}

export function snapshotsOf(sandbox: Sandbox, addon: Addon): Snapshot[] {
  const fromBackups = sandbox.state.transfers
    .filter(t => t._addonId === addon.id && t.succeeded && t._snapshot && t.from_type === 'pg_dump' && t.finished_at)
    .map(t => ({at: Date.parse(t.finished_at!), name: t._snapshot!}))
  return [...fromBackups, ...(addon._snapshots ?? [])].sort((a, b) => a.at - b.at)
}

export async function checkpoint(sandbox: Sandbox, addon: Addon): Promise<Snapshot> {
  const snapshot = {at: Date.now(), name: `k${uuid().replace(/-/g, '').slice(0, 16)}`}
  await sandbox.pg.cloneDatabase(addon._database!.name, snapshot.name)
  addon._snapshots = [...(addon._snapshots ?? []), snapshot]
  return snapshot
}

// Objects in a copied database keep their owner; a rollback database has a role of its own.
export async function handOver(sandbox: Sandbox, database: string, from: string, to: string) {
  await sandbox.pg.query(`DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE pg_get_userbyid(c.relowner) = '${from}' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') LOOP
      EXECUTE format('ALTER %s %I.%I OWNER TO ${to}', CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.nspname, r.relname);
    END LOOP;
    FOR r IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE pg_get_userbyid(c.relowner) = '${from}' AND c.relkind = 'S' LOOP
      EXECUTE format('ALTER SEQUENCE %I.%I OWNER TO ${to}', r.nspname, r.relname);
    END LOOP;
    FOR r IN SELECT nspname FROM pg_namespace WHERE pg_get_userbyid(nspowner) = '${from}' LOOP
      EXECUTE format('ALTER SCHEMA %I OWNER TO ${to}', r.nspname);
    END LOOP;
  END $$`, [], database)
}

// Creates the add-on's real database: empty, or the source as of the recovery time.
async function provisionDatabase(sandbox: Sandbox, addon: Addon, source?: {addon: Addon, at: number}) {
  const name = `d${shortId()}`
  const {role, password} = await sandbox.pg.createDatabase(name)
  const snapshot = source && snapshotsOf(sandbox, source.addon).filter(s => s.at <= source.at).at(-1)
  if (source && snapshot) {
    await sandbox.pg.dropDatabase(name)
    await sandbox.pg.cloneDatabase(snapshot.name, name, role)
    await handOver(sandbox, name, source.addon._database!.role, role)
  }
  addon._database = {name, role, password, url: sandbox.pg.urlFor(name, role, password), createdAt: Date.now()}
  addon._restoredFrom = source && {addon: source.addon.name, at: new Date(source.at).toISOString(), snapshotAt: snapshot ? new Date(snapshot.at).toISOString() : null}
}

function findSource(sandbox: Sandbox, app: App, key: string): Addon {
  const {state} = sandbox
  const byAttachment = state.attachmentsOf(app).find(a => a.name.toUpperCase() === key.replace(/_URL$/i, '').toUpperCase())
  const found = byAttachment ? state.addons.get(byAttachment.addon.id) : [...state.addons.values()].find(a => a.name === key || a.id === key)
  if (!found?._database || found.state !== 'provisioned') throw new ApiError(422, 'invalid_params', `Could not find a database to roll back from: ${key}.`)
  return found
}

// The add-on starts `provisioning`, attached at once (as on Heroku) but without its config var; after
// `delays.provision` the database exists and the config var is set; the database is then `waiting?`
// for as long again, as a rollback database is while it replays up to its target time.
export function createPostgresAddon(sandbox: Sandbox, app: App, body: any): Addon {
  const plan = String(body?.plan?.name ?? body?.plan ?? '')
  if (!plan.startsWith('heroku-postgresql:')) throw new ApiError(422, 'invalid_params', `The sandbox only provisions heroku-postgresql plans, not "${plan}".`)
  const config = (body?.config ?? {}) as RollbackConfig
  const source = config.rollback ? findSource(sandbox, app, config.rollback) : undefined
  const at = source ? recoveryTimeFor(source, config) : undefined
  const created = now()
  const addon: Addon = {
    id: uuid(), name: body?.name ?? sandbox.state.addonName(), app: {id: app.id, name: app.name}, plan: {id: uuid(), name: plan},
    addon_service: {id: uuid(), name: 'heroku-postgresql'}, state: 'provisioning', config_vars: [],
    created_at: created, updated_at: created, web_url: 'https://data.heroku.com/',
  }
  sandbox.state.addons.set(addon.id, addon)
  const attachment = sandbox.attachWithRelease(app, addon, body?.attachment?.name ?? sandbox.colorName(app))
  addon.config_vars = attachment.config_vars
  sandbox.background(async () => {
    await sleep(sandbox.delays.provision)
    try {
      await provisionDatabase(sandbox, addon, source && {addon: source, at: at!})
    } catch {
      addon.state = 'deprovisioned'
      return
    }
    if (addon.state === 'deprovisioned') return sandbox.pg.dropDatabase(addon._database!.name)
    addon._availableAt = Date.now() + sandbox.delays.provision
    addon.state = 'provisioned'
    addon.updated_at = now()
    if (sandbox.state.attachments.has(attachment.id)) {
      app.config[`${attachment.name}_URL`] = addon._database!.url
      sandbox.state.addRelease(app, {description: `Update ${attachment.name} by heroku-postgresql`})
    }
  })
  return addon
}

export function pointInTimeRoutes(router: Router, sandbox: Sandbox) {
  const app = (request: Request) => {
    const found = sandbox.state.app(request.params.app)
    if (!found) throw notFound('app')
    return found
  }
  router.on('POST', '/apps/:app/addons', request => {
    const addon = createPostgresAddon(sandbox, app(request), request.body)
    return {...addonJson(addon), provision_message: null}
  })
}
