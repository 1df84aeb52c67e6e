import {ApiError} from './errors.js'
import type {PostgresServer} from './postgres.js'
import {Addon, SandboxState, uuid} from './state.js'

// Heroku Postgres point-in-time rollbacks: how far back each plan reaches, the times Heroku accepts, and
// the snapshots a rollback database is copied from (provision.ts creates it).
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

export interface RollbackConfig {
  rollback: string
  to?: string
  by?: string
}

// How far back a point-in-time rollback can reach on each plan family, as Heroku documents it.
export function rollbackWindowMs(plan: string): number {
  const tier = plan.split(':')[1] ?? ''
  if (/^(essential|mini|basic|hobby|dev)/.test(tier)) return 0
  if (tier.startsWith('standard')) return 4 * 24 * 3600 * 1000
  return 7 * 24 * 3600 * 1000
}

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

export function snapshotsOf(state: SandboxState, addon: Addon): Snapshot[] {
  const fromBackups = state.transfers
    .filter(t => t._addonId === addon.id && t.succeeded && t._snapshot && t.from_type === 'pg_dump' && t.finished_at)
    .map(t => ({at: Date.parse(t.finished_at!), name: t._snapshot!}))
  return [...fromBackups, ...(addon._snapshots ?? [])].sort((a, b) => a.at - b.at)
}

export async function checkpoint(pg: PostgresServer, addon: Addon): Promise<Snapshot> {
  const snapshot = {at: Date.now(), name: `k${uuid().replace(/-/g, '').slice(0, 16)}`}
  await pg.cloneDatabase(addon._database!.name, snapshot.name)
  addon._snapshots = [...(addon._snapshots ?? []), snapshot]
  return snapshot
}

// Objects in a copied database keep their owner; a rollback database has a role of its own.
export async function handOver(pg: PostgresServer, database: string, from: string, to: string) {
  await pg.query(`DO $$ DECLARE r record; BEGIN
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
